"""PROPS, one behavior policy per agent (paper Algorithm 1): the sampler kind and its registry
entry (class: :mod:`maprops.samplers.props`)."""

from __future__ import annotations

from typing import Literal

from maprops.kinds.base import SamplerKind, Style
from maprops.kinds.behavior import BehaviorSamplerConfig


class PropsConfig(BehaviorSamplerConfig):
    kind: Literal["props"] = "props"


KIND = SamplerKind(
    name="props",
    config=PropsConfig,
    core="maprops.samplers.props:PropsSampler",
    style=Style("PROPS", "#ff7f0e", (0, (5, 2)), "s"),
    update_cost=1.7,  # one behavior network per agent: measured 1.7x MA-PROPS's update
    continuous_actions=True,  # Gaussian behavior copies (maprops/samplers/gaussian.py)
)
