"""The Level-Based Foraging game kind: its settings and registry entry (core: :mod:`maprops.games.lbf`)."""

from __future__ import annotations

import functools
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from maprops.kinds.base import GameCost, param_game_kind
from maprops.spec_types import Float, Frozen, Int


class LBFParams(Frozen):
    """Level-Based Foraging through the real ``lbforaging`` package; see :mod:`maprops.games.lbf`."""

    sampling_error: ClassVar[str] = "kl"

    kind: Literal["lbf"] = "lbf"
    field_size: Int = Field(ge=3, description="food spawns off the edges: rows/cols 1..field_size-2")
    players: Int = Field(default=2, ge=1)
    min_player_level: Int = Field(default=1, ge=1)
    max_player_level: Int = Field(ge=1)
    min_food_level: Int | None = Field(default=None, ge=1)
    max_food_level: Int | None = Field(default=None, ge=1)
    foods: Int = Field(default=1, ge=1)
    sight: Int = Field(ge=1)
    max_episode_steps: Int = Field(ge=1)
    force_coop: bool = True
    penalty: Float = Field(ge=0, allow_inf_nan=False, description="paid (as -penalty) for a failed load")

    @model_validator(mode="after")
    def _package_can_build_it(self) -> LBFParams:
        """Settings ``lbforaging`` would crash on, assert on, or silently bend."""
        if self.max_player_level < self.min_player_level:
            raise ValueError(f"max_player_level {self.max_player_level} < min_player_level {self.min_player_level}")
        if self.min_food_level is not None and self.max_food_level is not None and self.min_food_level > self.max_food_level:
            raise ValueError(f"min_food_level {self.min_food_level} > max_food_level {self.max_food_level}")
        lowest_default_max = self.min_player_level * min(self.players, 3)  # the package: sum of the 3 lowest levels
        if self.max_food_level is None and self.min_food_level is not None and self.min_food_level > lowest_default_max:
            raise ValueError(
                f"min_food_level {self.min_food_level} can exceed the default max_food_level (sum of the 3 "
                f"lowest player levels, as low as {lowest_default_max}); set max_food_level"
            )
        if self.players + self.foods > self.field_size**2:
            raise ValueError(
                f"{self.players} players and {self.foods} foods do not fit on a {self.field_size}x{self.field_size} field"
            )
        seed, placed = fewest_foods_placed(self.field_size, self.players, self.foods)
        if placed < self.foods:
            raise ValueError(
                f"lbforaging cannot place {self.foods} foods on a {self.field_size}x{self.field_size} field with "
                f"{self.players} players (at reset seed {seed} it placed {placed}): food goes only on interior cells "
                f"(rows and columns 1..{self.field_size - 2}), none next to another food or two cells from one in a row "
                "or column; use a larger field or fewer foods"
            )
        return self


PLACEMENT_PROBES = 20  # resets tried; an infeasible setting fails every one, a tight one most


@functools.cache
def fewest_foods_placed(field_size: int, players: int, foods: int) -> tuple[int, int]:
    """(seed, foods placed) of the reset, among PLACEMENT_PROBES, that placed the fewest foods:
    the package gives up after 1000 tries without a word. Only field, players and foods decide
    where food fits, so levels and the rest keep the package's defaults here."""
    from lbforaging.foraging.environment import ForagingEnv

    env = ForagingEnv(
        players=players,
        min_player_level=1,
        max_player_level=2,
        min_food_level=1,
        max_food_level=None,
        field_size=(field_size, field_size),
        max_num_food=foods,
        sight=field_size,
        max_episode_steps=10,
        force_coop=True,
    )
    worst = (0, foods)
    for seed in range(PLACEMENT_PROBES):
        for player in env.players:
            player.position = None
        env.reset(seed=seed)
        placed = int((env.field > 0).sum())
        if placed < worst[1]:
            worst = (seed, placed)
    return worst


KIND = param_game_kind(
    "lbf",
    "LBF",
    LBFParams,
    core="maprops.games.lbf:LBFGame",
    cost=GameCost(step_s=2e-4, update_seed_s=1.5e-3, update_sample_s=1.6e-5, eval_s=0.3, error_s=0.2, bytes_per_sample=2_700),
    open_fields={
        # not the levels: App. E.1's "both agents must forage" and 0.5 each fix two equal-level
        # players and a food of their summed level
        "field_size": "§6 and App. E.1 give no field size",
        "sight": "App. E.1 does not describe the observation",
        "max_episode_steps": "App. E.1 gives no time limit",
    },
    packages=("lbforaging", "gymnasium"),
)
LBFConfig = KIND.config  # module attributes: pickled run state finds classes by module and name
LBFSpec = KIND.spec
