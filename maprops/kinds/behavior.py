"""Settings shared by the samplers that train a behavior policy between target updates
(PROPS and MA-PROPS, paper Algorithms 1-2). Each such sampler's kind module subclasses
:class:`BehaviorSamplerConfig` with its own ``kind``."""

from __future__ import annotations

from pydantic import Field

from maprops.spec_types import Float, Frozen, Int


class BehaviorSamplerConfig(Frozen):
    """The behavior policy is reset to the target and trained every ``batch_size`` (the paper's
    m) environment steps on everything collected since the last target update. The defaults are
    ``specs/hyperparams/behavior.yaml`` and Table 3's behavior columns, checked equal by a test;
    ``target_kl`` is the value Table 1 prints (6)."""

    kind: str
    learning_rate: Float = Field(default=0.03, gt=0)
    batch_size: Int = Field(default=1, ge=1)
    epochs: Int = Field(default=16, ge=1)
    minibatches: Int = Field(default=8, ge=1)
    clip_coef: Float = Field(default=0.3, gt=0)
    target_kl: Float | None = Field(default=6.0, gt=0, description="None: never stop the update early")
    max_grad_norm: Float = Field(default=0.5, gt=0)
    adam_eps: Float = Field(default=1e-5, gt=0)
    hidden_sizes: tuple[Int, ...] = (64, 64)
