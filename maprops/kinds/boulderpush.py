"""The BoulderPush game kind: its settings and registry entry (core: :mod:`maprops.games.boulderpush`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from maprops.kinds.base import GameCost, param_game_kind
from maprops.spec_types import Float, Frozen, Int


class BoulderPushParams(Frozen):
    """BoulderPush (Christianos et al.; paper App. E); see :mod:`maprops.games.boulderpush`."""

    sampling_error: ClassVar[str] = "kl"

    kind: Literal["boulderpush"] = "boulderpush"
    height: Int = Field(ge=3)
    width: Int = Field(ge=3)
    n_agents: Int = Field(default=2, ge=1)
    push_reward: Float
    penalty: Float = Field(ge=0, description="paid (as -penalty) for a push the others do not join")
    goal_reward: Float = 0.0
    sight: Int = Field(ge=0, description="radius of the egocentric observation window")
    max_episode_steps: Int = Field(ge=1)

    @model_validator(mode="after")
    def _boulder_fits(self) -> BoulderPushParams:
        if min(self.height, self.width) < self.n_agents + 2:
            raise ValueError(
                f"a {self.height}x{self.width} grid cannot hold a {self.n_agents}-cell boulder one cell "
                "from every edge in both orientations: height and width must be >= n_agents + 2"
            )
        return self


KIND = param_game_kind(
    "boulderpush",
    "BoulderPush",
    BoulderPushParams,
    core="maprops.games.boulderpush:BoulderPushGame",
    cost=GameCost(step_s=2.5e-4, update_seed_s=6e-3, update_sample_s=3.5e-5, eval_s=0.15, error_s=0.35, bytes_per_sample=12_700),
    open_fields={
        "height": "§6 and App. E.1 give no grid size",
        "width": "§6 and App. E.1 give no grid size",
        "sight": "App. E.1 does not describe the observation",
        "max_episode_steps": "App. E.1 gives no time limit",
    },
)
BoulderPushConfig = KIND.config  # module attributes: pickled run state finds classes by module and name
BoulderPushSpec = KIND.spec
