"""On-policy sampling: the sampler kind and its registry entry (class: :mod:`maprops.samplers.on_policy`)."""

from __future__ import annotations

from typing import Literal

from maprops.kinds.base import SamplerKind, Style
from maprops.spec_types import Frozen


class OnPolicyConfig(Frozen):
    """On-policy sampling: each agent samples from its own target policy. It has no settings,
    so every on-policy run's identity is free of behavior-update values and a study that varies
    them reuses the on-policy runs."""

    kind: Literal["on_policy"] = "on_policy"


KIND = SamplerKind(
    name="on_policy",
    config=OnPolicyConfig,
    core="maprops.samplers.on_policy:OnPolicySampler",
    style=Style("On-policy", "#1f77b4", "-", "o"),
    prose="on-policy",
)
