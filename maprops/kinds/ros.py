"""The ROS oracle (beyond the paper's experiments: the sampler its theory analyses, Assumption 1
/ Theorem 2): the sampler kind and its registry entry (class: :mod:`maprops.samplers.ros`)."""

from __future__ import annotations

from typing import Literal

from maprops.kinds.base import Implementation, SamplerKind, Style
from maprops.spec_types import Frozen


class RosConfig(Frozen):
    """No settings: the oracle's choice follows from the buffer's counts and the target."""

    kind: Literal["ros"] = "ros"


KIND = SamplerKind(
    name="ros",
    config=RosConfig,
    implementations=Implementation("maprops.samplers.ros:RosSampler", needs_enumerable_states=True),
    style=Style("ROS oracle", "#7f7f7f", (0, (1, 1.5)), "D"),
)
