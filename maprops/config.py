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
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Frozen(BaseModel):
    """Base for every spec model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


SAMPLER_KINDS = ("on_policy", "props", "ma_props")
ALGORITHMS = ("mappo", "ippo")


class MatrixGameConfig(Frozen):
    """A normal-form game played once per episode (paper §6; REFERENCE.md §3).

    ``payoffs`` has shape ``[k_1, ..., k_n, n]``: entry ``[a_1, ..., a_n, i]`` is agent i's
    reward for joint action ``(a_1, ..., a_n)``. The payoffs here are the ones actually played,
    i.e. with the chosen reward variant already applied.
    """

    kind: Literal["matrix"] = "matrix"
    name: str
    variant: str = "original"
    payoffs: list  # nested lists of numbers, shape [k_1, ..., k_n, n]
    optimal: tuple[tuple[int, ...], ...] = Field(min_length=1)


class SamplerConfig(Frozen):
    """How data is collected (paper Algorithms 1-2; REFERENCE.md §1).

    ``on_policy`` ignores every field but ``kind``. For PROPS and MA-PROPS: the behavior policy
    is reset to the target and trained every ``batch_size`` (the paper's m) environment steps
    on everything collected since the last target update.
    """

    kind: Literal["on_policy", "props", "ma_props"]
    learning_rate: float = Field(default=0.03, gt=0)
    batch_size: int = Field(default=1, ge=1)
    epochs: int = Field(default=16, ge=1)
    minibatches: int = Field(default=8, ge=1)
    clip_coef: float = Field(default=0.3, gt=0)
    target_kl: float | None = Field(default=0.03, gt=0)
    max_grad_norm: float = Field(default=0.5, gt=0)
    adam_eps: float = Field(default=1e-5, gt=0)
    hidden_sizes: tuple[int, ...] = (64, 64)


class PPOConfig(Frozen):
    """CleanRL PPO semantics with the paper's Table 2 (and Table 3's per-game values)."""

    batch_size: int = Field(ge=1, description="environment steps per target update (paper's n)")
    learning_rate: float = Field(gt=0)
    epochs: int = Field(default=4, ge=1)
    minibatches: int = Field(default=4, ge=1)
    gamma: float = Field(default=0.99, ge=0, le=1)
    gae_lambda: float = Field(default=0.95, ge=0, le=1)
    normalize_advantages: bool = True
    clip_coef: float = Field(default=0.2, gt=0)
    clip_value_loss: bool = True
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = Field(default=0.5, gt=0)
    anneal_lr: bool = True
    adam_eps: float = Field(default=1e-5, gt=0)
    hidden_sizes: tuple[int, ...] = (64, 64)


class RunSpec(Frozen):
    """One training run, fully resolved. Its JSON is the run's identity (see :func:`run_id`)."""

    game: MatrixGameConfig
    algorithm: Literal["mappo", "ippo"]
    sampler: SamplerConfig
    ppo: PPOConfig
    total_steps: int = Field(ge=1, description="environment steps per seed")
    eval_every: int = Field(default=1, ge=1, description="target updates between evaluations")
    eval_episodes: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _budget_holds_one_batch(self) -> "RunSpec":
        if self.total_steps < self.ppo.batch_size:
            raise ValueError(
                f"total_steps={self.total_steps} is smaller than one PPO batch "
                f"(ppo.batch_size={self.ppo.batch_size})"
            )
        return self

    @property
    def iterations(self) -> int:
        """Number of target (PPO) updates: whole batches that fit in the budget."""
        return self.total_steps // self.ppo.batch_size

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def run_id(self) -> str:
        """Short content hash naming this run's results directory."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]
