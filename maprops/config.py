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
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from maprops.kinds import GAMES, SAMPLERS, sampler_kind, sampler_misfit
from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.kinds.matrix import MatrixGameConfig
from maprops.shipped import shipped_table
from maprops.spec_types import FLOAT32_MAX, Float, Frozen, Int

__all__ = [  # the spec types, re-exported: most code knows them from here
    "FLOAT32_MAX",
    "BehaviorSamplerConfig",
    "Float",
    "Frozen",
    "Int",
    "MatrixGameConfig",
]

# The registry (maprops/kinds/) decides which game kinds and samplers exist; a run spec's game
# and sampler are the union of their models, told apart by ``kind``.
GAME_KINDS = tuple(GAMES)
SAMPLER_KINDS = tuple(SAMPLERS)  # the paper's order
ALGORITHMS = ("mappo", "ippo")

GameConfig = Annotated[Union[tuple(kind.config for kind in GAMES.values())], Field(discriminator="kind")]  # noqa: UP007
SamplerConfig = Annotated[Union[tuple(kind.config for kind in SAMPLERS.values())], Field(discriminator="kind")]  # noqa: UP007


def history_misfit(sampler, fixed_target: bool | None) -> str | None:
    """Why a sampler config's ``history_batches`` cannot apply to the experiment, or None: the
    batches it keeps are target batches, and a fixed-target run has no target update (its one
    growing buffer already keeps every sample: at b x n samples it *is* a buffer of b batches)."""
    batches = getattr(sampler, "history_batches", 1)
    if fixed_target and batches > 1:
        return (
            f"history_batches: {batches} keeps target batches across target updates; a fixed-target run has none "
            "(its one growing buffer already keeps every sample), so use history_batches only in training figures"
        )
    return None


class PPOConfig(Frozen):
    """CleanRL PPO semantics with the paper's Table 2 (``specs/hyperparams/table2.yaml``) and
    Table 3's per-game batch size and learning rate: every field is required, the tables hold the
    values (code without a spec folder: :func:`ppo_config`)."""

    batch_size: Int = Field(ge=1, description="environment steps per target update (paper's n)")
    learning_rate: Float = Field(gt=0)
    epochs: Int = Field(ge=1)
    minibatches: Int = Field(ge=1)
    gamma: Float = Field(ge=0, le=1)
    gae_lambda: Float = Field(ge=0, le=1)
    normalize_advantages: bool
    clip_coef: Float = Field(gt=0)
    clip_value_loss: bool
    ent_coef: Float
    vf_coef: Float
    max_grad_norm: Float = Field(gt=0)
    anneal_lr: bool
    adam_eps: Float = Field(gt=0)
    hidden_sizes: tuple[Int, ...]


class MLEConfig(Frozen):
    """How the KL sampling error fits the maximum-likelihood policy of a buffer (paper App. C,
    Eq. 7). The paper gives no network, optimizer or training length; these are assumptions
    written in ``specs/hyperparams/sampling_error.yaml``, which holds every value (code without a
    spec folder: :func:`mle_config`)."""

    hidden_sizes: tuple[Int, ...]
    learning_rate: Float = Field(gt=0)
    steps: Int = Field(ge=1, description="Adam steps per fit, whatever the buffer size")
    minibatch_size: Int = Field(ge=1)
    adam_eps: Float = Field(gt=0)


# -- the shipped tables as run-spec parts, for code that builds runs without a spec folder ------
# (tests, benchmarks). A spec folder's runs take their values from its own tables (maprops/specs).

TABLE3_ROW = "matrix_2x2"
"""The Table 3 row :func:`sampler_config` takes the behavior learning rate and m from unless
told otherwise: the 2x2 matrix games' (0.03, 1), what small test runs play."""


def ppo_config(**settings) -> PPOConfig:
    """Table 2 of the shipped specs with ``settings`` (Table 3's ``batch_size`` and
    ``learning_rate`` at least, which Table 2 leaves to the game)."""
    table2 = {k: v for k, v in shipped_table("table2").items() if k in PPOConfig.model_fields}
    return PPOConfig(**{**table2, **settings})


def mle_config(**settings) -> MLEConfig:
    """The shipped ``sampling_error.yaml`` with ``settings``."""
    return MLEConfig(**{**shipped_table("sampling_error"), **settings})


def sampler_config(kind: str, row: str = TABLE3_ROW, **settings):
    """The sampler config of ``kind`` with ``settings``; a sampler with a behavior update takes
    the rest from the shipped tables (``behavior.yaml``, Table 3's ``row``), as a figure cell of
    a game of that row would. On-policy sampling and the ROS oracle have no table settings."""
    sampler = sampler_kind(kind)
    tables = {}
    if sampler.has_behavior_update:
        typed = shipped_table("table3")["rows"][row]
        learning = {"learning_rate": typed["behavior_learning_rate"], "batch_size": typed["behavior_batch_size"]}
        tables = {**shipped_table("behavior"), **learning}
    return sampler.config(**{**tables, **settings})


OPTIONAL_RUN_FIELDS = ("fixed_target", "sampling_error_fit")


class RunSpec(Frozen):
    """One training run, fully resolved. Its JSON is the run's identity (see :func:`run_id`)."""

    game: GameConfig
    algorithm: Literal[ALGORITHMS]
    sampler: SamplerConfig
    ppo: PPOConfig
    total_steps: Int = Field(ge=1, description="environment steps per seed")
    eval_every: Int = Field(default=1, ge=1, description="target updates (fixed target: steps) between evaluations")
    eval_episodes: Int = Field(ge=1, description="Table 2's")
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
    def _sampler_fits_the_game(self) -> RunSpec:
        reason = sampler_misfit(self.sampler, self.game)
        if reason:
            raise ValueError(reason)
        return self

    @model_validator(mode="after")
    def _history_needs_target_updates(self) -> RunSpec:
        reason = history_misfit(self.sampler, self.fixed_target)
        if reason:
            raise ValueError(reason)
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
        sampler_defaults = getattr(type(self.sampler), "identity_defaults", {})
        data["sampler"] = {k: v for k, v in data["sampler"].items() if k not in sampler_defaults or v != sampler_defaults[k]}
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_canonical(cls, data: str | dict) -> RunSpec:
        """The run spec a run's identity (:meth:`canonical_json`) names. The identity leaves out
        sampler settings at their identity default, and those are put back here: for most the
        model's default is the same value, but not for ``behavior_buffer``, whose identity default
        (``batch``: what every run made before the field existed did) is not its default (``ring``).
        Every reader of a run's JSON (``maprops train``, a result's provenance) goes through this."""
        data = json.loads(data) if isinstance(data, str) else json.loads(json.dumps(data))
        sampler = data.get("sampler")
        if isinstance(sampler, dict) and sampler.get("kind") in SAMPLERS:
            for key, value in getattr(sampler_kind(sampler["kind"]).config, "identity_defaults", {}).items():
                sampler.setdefault(key, value)
        return cls.model_validate_json(json.dumps(data))

    def run_id(self) -> str:
        """Short content hash naming this run's results directory."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]
