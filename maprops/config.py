"""The resolved run spec: everything one training run needs, and nothing about seeds or files.

A figure spec (``specs/figures/*.yaml``) names games, samplers and an algorithm; the pipeline
resolves each (panel, sampler) cell into one :class:`RunSpec` by reading the game spec, the
paper's hyperparameter tables and the chosen scale. The library trains from a ``RunSpec``
alone, so a run's identity is its ``RunSpec`` JSON: two figures that need the same run (fig11,
fig13 and fig14 do) share it, and its hash names the results directory.

Seeds are deliberately absent: a seed's numbers depend only on (RunSpec, seed), and adding
seeds to a figure must not change any existing run's identity.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

FLOAT32_MAX = 3.4028234663852886e38
"""Largest finite float32: training computes in float32, so a larger spec number would be inf."""


def _within_float32(value: float) -> float:
    if abs(value) > FLOAT32_MAX:
        raise ValueError(f"{value:g} is outside the float32 range training uses (|x| <= {FLOAT32_MAX:.7g})")
    return value


Float = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_within_float32)]
"""A number field: an int or a float (never a string or a boolean), finite and within float32."""

Int = Annotated[int, Field(strict=True)]
"""An integer field: never a string, a boolean or a float (not even 2.0)."""


class Frozen(BaseModel):
    """Base for every spec model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


SAMPLER_KINDS = ("on_policy", "props", "ma_props")
ALGORITHMS = ("mappo", "ippo")


class MatrixGameConfig(Frozen):
    """A normal-form game played once per episode (paper §6; docs/implementation.md#matrix-game-episodes).

    ``payoffs`` has shape ``[k_1, ..., k_n, n]``: entry ``[a_1, ..., a_n, i]`` is agent i's
    reward for joint action ``(a_1, ..., a_n)``. The payoffs here are the ones actually played,
    i.e. with the chosen reward variant already applied.
    """

    sampling_error: ClassVar[str] = "tv"

    kind: Literal["matrix"] = "matrix"
    name: str
    variant: str = "original"
    payoffs: list  # nested lists of numbers, shape [k_1, ..., k_n, n]
    optimal: tuple[tuple[Int, ...], ...] = Field(min_length=1)


# Grid games are described by flat parameters. Each ``*Params`` model is what a game spec file
# writes (and what a reward variant may change); its ``*Config`` adds the game's name and the
# variant played, and is the ``game`` of a resolved RunSpec. ``sampling_error`` says which
# sampling-error metric the game supports: exact TV where the on-policy visitation is computable
# (paper §6), KL by maximum likelihood (Appendix C) elsewhere.


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
        return self


class _Named(Frozen):
    name: str
    variant: str = "original"


class GridWorldConfig(GridWorldParams, _Named):
    pass


class BoulderPushConfig(BoulderPushParams, _Named):
    pass


class LBFConfig(LBFParams, _Named):
    pass


GameConfig = Annotated[MatrixGameConfig | GridWorldConfig | BoulderPushConfig | LBFConfig, Field(discriminator="kind")]
GAME_KINDS = ("matrix", "gridworld", "boulderpush", "lbf")


class OnPolicyConfig(Frozen):
    """On-policy sampling: each agent samples from its own target policy. It has no settings,
    so every on-policy run's identity is free of behavior-update values and a study that varies
    them reuses the on-policy runs."""

    kind: Literal["on_policy"] = "on_policy"


class BehaviorSamplerConfig(Frozen):
    """PROPS and MA-PROPS (paper Algorithms 1-2): the behavior policy is reset to the target and
    trained every ``batch_size`` (the paper's m) environment steps on everything collected since
    the last target update. ``target_kl`` defaults to the value Table 1 prints (6)."""

    kind: Literal["props", "ma_props"]
    learning_rate: Float = Field(default=0.03, gt=0)
    batch_size: Int = Field(default=1, ge=1)
    epochs: Int = Field(default=16, ge=1)
    minibatches: Int = Field(default=8, ge=1)
    clip_coef: Float = Field(default=0.3, gt=0)
    target_kl: Float | None = Field(default=6.0, gt=0, description="None: never stop the update early")
    max_grad_norm: Float = Field(default=0.5, gt=0)
    adam_eps: Float = Field(default=1e-5, gt=0)
    hidden_sizes: tuple[Int, ...] = (64, 64)


SamplerConfig = Annotated[OnPolicyConfig | BehaviorSamplerConfig, Field(discriminator="kind")]


def sampler_config(kind: str, **settings) -> OnPolicyConfig | BehaviorSamplerConfig:
    """The sampler config of ``kind`` with ``settings`` (none for on-policy sampling)."""
    if kind == "on_policy":
        return OnPolicyConfig(**settings)
    return BehaviorSamplerConfig(kind=kind, **settings)


class PPOConfig(Frozen):
    """CleanRL PPO semantics with the paper's Table 2 (and Table 3's per-game values)."""

    batch_size: Int = Field(ge=1, description="environment steps per target update (paper's n)")
    learning_rate: Float = Field(gt=0)
    epochs: Int = Field(default=4, ge=1)
    minibatches: Int = Field(default=4, ge=1)
    gamma: Float = Field(default=0.99, ge=0, le=1)
    gae_lambda: Float = Field(default=0.95, ge=0, le=1)
    normalize_advantages: bool = True
    clip_coef: Float = Field(default=0.2, gt=0)
    clip_value_loss: bool = True
    ent_coef: Float = 0.01
    vf_coef: Float = 0.5
    max_grad_norm: Float = Field(default=0.5, gt=0)
    anneal_lr: bool = True
    adam_eps: Float = Field(default=1e-5, gt=0)
    hidden_sizes: tuple[Int, ...] = (64, 64)


class MLEConfig(Frozen):
    """How the KL sampling error fits the maximum-likelihood policy of a buffer (paper App. C,
    Eq. 7). The paper gives no network, optimizer or training length; these are assumptions
    written in ``specs/hyperparams/sampling_error.yaml``."""

    hidden_sizes: tuple[Int, ...] = (64, 64)
    learning_rate: Float = Field(default=3e-3, gt=0)
    steps: Int = Field(default=300, ge=1, description="Adam steps per fit, whatever the buffer size")
    minibatch_size: Int = Field(default=64, ge=1)
    adam_eps: Float = Field(default=1e-5, gt=0)


OPTIONAL_RUN_FIELDS = ("fixed_target", "sampling_error_fit")


class RunSpec(Frozen):
    """One training run, fully resolved. Its JSON is the run's identity (see :func:`run_id`)."""

    game: GameConfig
    algorithm: Literal["mappo", "ippo"]
    sampler: SamplerConfig
    ppo: PPOConfig
    total_steps: Int = Field(ge=1, description="environment steps per seed")
    eval_every: Int = Field(default=1, ge=1, description="target updates (fixed target: steps) between evaluations")
    eval_episodes: Int = Field(default=100, ge=1)
    # Optional fields: left at None they are absent from the run's identity (canonical_json),
    # so adding one never renames existing runs.
    fixed_target: bool | None = Field(
        default=None,
        description="True: paper §6.1 / Fig. 4 -- never update the (initial) target policies; collect "
        "total_steps samples into one growing buffer and measure its sampling error every eval_every steps",
    )
    sampling_error_fit: MLEConfig | None = Field(
        default=None, description="games without exact visitation: how the KL sampling error's MLE is fitted"
    )

    @model_validator(mode="after")
    def _kl_games_say_how_to_fit(self) -> RunSpec:
        if self.game.sampling_error == "kl" and self.sampling_error_fit is None:
            raise ValueError(f"game kind {self.game.kind!r} measures KL sampling error: set sampling_error_fit")
        return self

    @model_validator(mode="after")
    def _budget_holds_one_batch(self) -> RunSpec:
        if not self.fixed_target and self.total_steps < self.ppo.batch_size:
            raise ValueError(
                f"total_steps={self.total_steps} is smaller than one PPO batch (ppo.batch_size={self.ppo.batch_size})"
            )
        return self

    @property
    def iterations(self) -> int:
        """Number of target (PPO) updates: whole batches that fit in the budget."""
        return self.total_steps // self.ppo.batch_size

    def canonical_json(self) -> str:
        data = self.model_dump(mode="json")
        for name in OPTIONAL_RUN_FIELDS:
            if data[name] is None:
                del data[name]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def run_id(self) -> str:
        """Short content hash naming this run's results directory."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]
