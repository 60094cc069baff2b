"""MA-PROPS, one centralized behavior over joint actions (paper Algorithm 2): the sampler kind
and its registry entry (class: :mod:`maprops.samplers.ma_props`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from maprops.kinds.base import SamplerKind, Style
from maprops.kinds.behavior import BehaviorSamplerConfig


class MaPropsConfig(BehaviorSamplerConfig):
    kind: Literal["ma_props"] = "ma_props"
    delta_phi: Literal["network", "tabular", "pairwise"] = Field(
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
    core="maprops.samplers.ma_props:MaPropsSampler",
    style=Style("MA-PROPS", "#2ca02c", "-.", "^"),
    update_cost=1.0,
    continuous_actions=True,  # delta_phi: network only (Eq. 10, maprops/samplers/gaussian.py)
)
