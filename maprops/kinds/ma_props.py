"""MA-PROPS, one centralized behavior over joint actions (paper Algorithm 2): the sampler kind
and its registry entry. ``delta_phi`` chooses the adjustment and so the class: the paper's
network (:mod:`maprops.samplers.ma_props`; Eq. 10's Gaussian for continuous actions,
:mod:`maprops.samplers.gaussian`), a table (:mod:`maprops.samplers.ma_props_tabular`) or chain
pair tables (:mod:`maprops.samplers.ma_props_pairwise`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from maprops.kinds.base import Implementation, SamplerKind, Style
from maprops.kinds.behavior import BehaviorSamplerConfig

DELTA_PHI = {
    "network": Implementation(
        "maprops.samplers.ma_props:MaPropsSampler",
        continuous="maprops.samplers.gaussian:GaussianMaPropsSampler",  # Eq. 10
    ),
    # one parameter per (joint state, joint action)
    "tabular": Implementation("maprops.samplers.ma_props_tabular:TabularMaPropsSampler", needs_enumerable_states=True),
    "pairwise": Implementation("maprops.samplers.ma_props_pairwise:PairwiseMaPropsSampler"),
}
"""Each ``delta_phi`` and the class that implements it."""


class MaPropsConfig(BehaviorSamplerConfig):
    kind: Literal["ma_props"] = "ma_props"
    delta_phi: Literal[tuple(DELTA_PHI)] = Field(
        default="network",
        description="network: the paper's MLP adjustment on the joint observation; tabular (beyond the paper, "
        "Assumption 1's parameterization): one adjustment per (joint state, joint action), for games with "
        "enumerable joint states; pairwise (beyond the paper, for many agents): a sum of K x K tables over the "
        "chain of neighbouring agent pairs, output by an MLP on the joint observation, with exact sampling and "
        "log-probs in time linear in the number of agents",
    )

    identity_defaults: ClassVar[dict] = {**BehaviorSamplerConfig.identity_defaults, "delta_phi": "network"}


KIND = SamplerKind(
    name="ma_props",
    config=MaPropsConfig,
    implementations=DELTA_PHI,
    chosen_by="delta_phi",
    style=Style("MA-PROPS", "#2ca02c", "-.", "^"),
    update_cost=1.0,
)
