"""The paper's hyperparameter tables (Appendix G) as spec models.

Table 2 holds what every MAPPO/IPPO run shares, Table 3 the per-game-family values, and
``behavior.yaml`` the PROPS/MA-PROPS update settings that Table 1 and the authors' PROPS code fix
(docs/implementation.md#epochs-minibatches-and-the-kl-cut-off).
Table 1 is the sweep grid over behavior settings.
"""

from __future__ import annotations

from pydantic import Field

from maprops.config import Float, Frozen, Int


class Table2(Frozen):
    """MAPPO/IPPO hyperparameters across all experiments (paper Table 2)."""

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
    eval_episodes: Int = Field(ge=1)


class Table3Row(Frozen):
    """Tuned values for one game family (paper Table 3)."""

    ppo_batch_size: Int = Field(ge=1)
    ppo_learning_rate: Float = Field(gt=0)
    behavior_learning_rate: Float = Field(gt=0)
    behavior_batch_size: Int = Field(ge=1)


class Table3(Frozen):
    rows: dict[str, Table3Row] = Field(min_length=1)


class BehaviorDefaults(Frozen):
    """PROPS / MA-PROPS behavior-update settings shared by every game (Table 1;
    docs/implementation.md#behavior-update)."""

    epochs: Int = Field(ge=1)
    minibatches: Int = Field(ge=1)
    clip_coef: Float = Field(gt=0)
    target_kl: Float | None = Field(gt=0)
    max_grad_norm: Float = Field(gt=0)
    adam_eps: Float = Field(gt=0)
    hidden_sizes: tuple[Int, ...]


class Table1(Frozen):
    """The behavior-policy sweep grid (paper Table 1); each list is one axis."""

    learning_rate: tuple[Float, ...] = Field(min_length=1)
    batch_size: tuple[Int, ...] = Field(min_length=1)
    target_kl: tuple[Float, ...] = Field(min_length=1)
    clip_coef: tuple[Float, ...] = Field(min_length=1)
