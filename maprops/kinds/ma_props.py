"""MA-PROPS, one centralized behavior over joint actions (paper Algorithm 2): the sampler kind
and its registry entry (class: :mod:`maprops.samplers.ma_props`)."""

from __future__ import annotations

from typing import Literal

from maprops.kinds.base import SamplerKind, Style
from maprops.kinds.behavior import BehaviorSamplerConfig


class MaPropsConfig(BehaviorSamplerConfig):
    kind: Literal["ma_props"] = "ma_props"


KIND = SamplerKind(
    name="ma_props",
    config=MaPropsConfig,
    core="maprops.samplers.ma_props:MaPropsSampler",
    style=Style("MA-PROPS", "#2ca02c", "-.", "^"),
    update_cost=1.0,
)
