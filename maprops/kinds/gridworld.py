"""The GridWorld game kind: its settings and registry entry (core: :mod:`maprops.games.gridworld`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from maprops.kinds.base import GameCost, param_game_kind
from maprops.spec_types import Float, Frozen, Int


class GridWorldParams(Frozen):
    """The paper's coordination GridWorld (§6, Fig. 3a); see :mod:`maprops.games.gridworld`."""

    sampling_error: ClassVar[str] = "tv"

    kind: Literal["gridworld"] = "gridworld"
    size: Int = Field(ge=2)
    starts: tuple[Int, ...] = Field(min_length=1, description="start cell per agent, row-major from the top-left")
    team_cell: Int = Field(ge=0)
    distractor_cell: Int = Field(ge=0)
    team_reward: Float
    lone_penalty: Float
    distractor_reward: Float
    max_episode_steps: Int = Field(ge=1)


KIND = param_game_kind(
    "gridworld",
    "GridWorld",
    GridWorldParams,
    core="maprops.games.gridworld:GridWorldGame",
    cost=GameCost(step_s=2.5e-5, update_seed_s=1e-3, update_sample_s=1.2e-5, eval_s=0.01, error_s=1e-3, bytes_per_sample=3_200),
    open_fields={
        # not `size`: §6 says "a 3x3 GridWorld"; the team and distractor cells are its corners
        "starts": "§6 and Fig. 3a show no start cells",
        "max_episode_steps": "§6 gives no time limit",
    },
)
GridWorldConfig = KIND.config  # module attributes: pickled run state finds classes by module and name
GridWorldSpec = KIND.spec
