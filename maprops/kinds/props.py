"""PROPS, one behavior policy per agent (paper Algorithm 1): the sampler kind and its registry
entry (classes: :mod:`maprops.samplers.props`, and :mod:`maprops.samplers.gaussian` for
continuous actions)."""

from __future__ import annotations

from typing import Literal

from maprops.kinds.base import Implementation, SamplerKind, Style
from maprops.kinds.behavior import BehaviorSamplerConfig


class PropsConfig(BehaviorSamplerConfig):
    kind: Literal["props"] = "props"


KIND = SamplerKind(
    name="props",
    config=PropsConfig,
    implementations=Implementation(
        "maprops.samplers.props:PropsSampler",
        continuous="maprops.samplers.gaussian:GaussianPropsSampler",  # Gaussian behavior copies
    ),
    style=Style("PROPS", "#ff7f0e", (0, (5, 2)), "s"),
    update_cost=1.7,  # one behavior network per agent: measured 1.7x MA-PROPS's update
)
