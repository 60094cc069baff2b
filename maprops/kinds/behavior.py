"""Settings shared by the samplers that train a behavior policy between target updates
(PROPS and MA-PROPS, paper Algorithms 1-2). Each such sampler's kind module subclasses
:class:`BehaviorSamplerConfig` with its own ``kind``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from maprops.kinds.history import HistoryConfig
from maprops.shipped import TableDefault
from maprops.spec_types import Float, Int


class BehaviorSamplerConfig(HistoryConfig):
    """The behavior policy is reset to the target and trained every ``batch_size`` (the paper's
    m) environment steps on the buffer D (which steps of it: ``behavior_buffer``). The values come
    from the tables, never from here: ``specs/hyperparams/behavior.yaml`` and Table 3's behavior
    columns (learning rate, m) set every field but the beyond-the-paper options below, so those
    fields are required (code without a spec folder: :func:`maprops.config.sampler_config`)."""

    kind: str
    learning_rate: Float = Field(gt=0)
    batch_size: Int = Field(ge=1)
    epochs: Int = Field(ge=1)
    minibatches: Int = Field(ge=1)
    clip_coef: Float = Field(gt=0)
    target_kl: Float | None = Field(gt=0, description="None: never stop the update early")
    max_grad_norm: Float = Field(gt=0)
    adam_eps: Float = Field(gt=0)
    hidden_sizes: tuple[Int, ...]
    # Beyond the paper (docs/assumptions.md#beyond-the-paper-sampler-options-the-theory-suggests-off-by-default): variants the theory suggests.
    # At their defaults -- the paper's and the authors' code's behavior -- they are left out
    # of the run's identity, so adding them renamed no existing run.
    reset_moments: bool = Field(
        default=False,
        description="True: zero the behavior optimizer's Adam moments and step count at every behavior reset "
        "(default: carried across resets, as the authors' code does)",
    )
    # Not beyond the paper: the behavior table sets it like the fields above. Absent from a run
    # spec it reads as the shipped table's value, as it always has. NB: canonical_json leaves out
    # "batch" (identity_defaults below), so a "batch" run's JSON reads back as the table's "ring".
    behavior_buffer: Literal["ring", "batch"] = Field(
        default_factory=TableDefault("behavior", "behavior_buffer"),
        description="ring (the authors' PROPS code): D is a ring buffer of capacity C = history_batches x n "
        "(a fixed-target run: its total samples); every m steps, also right after a target update, the behavior "
        "trains on the newest min(steps so far, C - m) steps, in minibatches of (C - m) // minibatches. "
        "batch (this project before 0.2): it trains on the steps since the last target update (plus kept "
        "batches), in minibatches of that data's size // minibatches, and not right after a target update",
    )
    kl_cutoff: Literal["check", "enforce"] = Field(
        default="check",
        description="check: before each minibatch step, a seed whose KL on that minibatch exceeds target_kl stops "
        "(Algorithm 2 as the authors implement it; the step that crosses is kept). enforce: after each step the "
        "KL over the whole buffer is measured and a step that takes it above target_kl is undone, so the "
        "behavior never ends an update farther than target_kl",
    )

    # Left out of the run's identity at these values, so runs made before a field existed keep
    # their names: history_batches, reset_moments and kl_cutoff at their defaults, and
    # behavior_buffer at "batch" (what every run before it did; the default "ring" is written
    # into the identity, so it names new runs).
    identity_defaults: ClassVar[dict] = {
        **HistoryConfig.identity_defaults,
        "reset_moments": False,
        "kl_cutoff": "check",
        "behavior_buffer": "batch",
    }
    beyond_the_paper: ClassVar[tuple[str, ...]] = ("history_batches", "reset_moments", "kl_cutoff")
    """Options the paper and the authors' code do not have (off by default); the behavior table
    (specs/hyperparams/behavior.yaml) sets every other field."""

    @model_validator(mode="after")
    def _enforce_needs_a_cutoff(self):
        if self.kl_cutoff == "enforce" and self.target_kl is None:
            raise ValueError("kl_cutoff: enforce needs a target_kl to enforce")
        return self
