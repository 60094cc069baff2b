"""The paper's hyperparameter tables (Appendix G) as spec models.

Table 2 holds what every MAPPO/IPPO run shares, Table 3 the per-game-family values, and
``behavior.yaml`` the PROPS/MA-PROPS update settings that Table 1 and the authors' PROPS code fix
(docs/implementation.md#epochs-minibatches-and-the-kl-cut-off).
Table 1 is the sweep grid over behavior settings.

The YAML tables are where the paper's values live, and the only place: the run-spec models
(:class:`~maprops.config.PPOConfig`, :class:`~maprops.kinds.behavior.BehaviorSamplerConfig`,
:class:`~maprops.config.MLEConfig`) have no defaults for what a table sets (a test checks every
table/model pair). The tables' models are derived from the run-spec models: the same fields,
types and bounds, every one required, so a table cannot drift from what a run accepts.
"""

from __future__ import annotations

import copy

from pydantic import Field, create_model
from pydantic_core import PydanticUndefined

from maprops.config import PPOConfig
from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.spec_types import Float, Frozen, Int


def table_model(name: str, doc: str, source: type[Frozen], exclude: set[str], **extra) -> type[Frozen]:
    """A spec model with ``source``'s fields minus ``exclude``, each required (the table must
    write it), plus ``extra`` fields (``name=(type, Field(...))``)."""
    fields = {}
    for field, info in source.model_fields.items():
        if field in exclude:
            continue
        required = copy.copy(info)
        required.default = PydanticUndefined
        required.default_factory = None
        fields[field] = (info.annotation, required)
    return create_model(name, __base__=Frozen, __doc__=doc, __module__=__name__, **fields, **extra)


Table2 = table_model(
    "Table2",
    "MAPPO/IPPO hyperparameters across all experiments (paper Table 2); batch size and learning rate are Table 3's.",
    PPOConfig,
    exclude={"batch_size", "learning_rate"},
    eval_episodes=(Int, Field(ge=1)),
)

BehaviorDefaults = table_model(
    "BehaviorDefaults",
    "PROPS / MA-PROPS behavior-update settings shared by every game (Table 1; docs/implementation.md#behavior-update); "
    "learning rate and m are Table 3's.",
    BehaviorSamplerConfig,
    exclude={"kind", "learning_rate", "batch_size", *BehaviorSamplerConfig.beyond_the_paper},
)


class Table3Row(Frozen):
    """Tuned values for one game family (paper Table 3)."""

    ppo_batch_size: Int = Field(ge=1)
    ppo_learning_rate: Float = Field(gt=0)
    behavior_learning_rate: Float = Field(gt=0)
    behavior_batch_size: Int = Field(ge=1)


class Table3(Frozen):
    rows: dict[str, Table3Row] = Field(min_length=1)


class Table1(Frozen):
    """The behavior-policy sweep grid (paper Table 1); each list is one axis."""

    learning_rate: tuple[Float, ...] = Field(min_length=1)
    batch_size: tuple[Int, ...] = Field(min_length=1)
    target_kl: tuple[Float, ...] = Field(min_length=1)
    clip_coef: tuple[Float, ...] = Field(min_length=1)
