"""On-policy sampling: the sampler kind and its registry entry (class: :mod:`maprops.samplers.on_policy`)."""

from __future__ import annotations

from typing import Literal

from maprops.kinds.base import Implementation, SamplerKind, Style
from maprops.kinds.history import HistoryConfig


class OnPolicyConfig(HistoryConfig):
    """On-policy sampling: each agent samples from its own target policy. It has no behavior
    settings, so every on-policy run's identity is free of behavior-update values and a study
    that varies them reuses the on-policy runs. Its one setting, ``history_batches``, keeps
    past batches in the learner's buffer without any correction (Corrado and Hanna's
    "PPO-buffer" baseline, beyond the paper): the comparison PROPS and MA-PROPS with the same
    ``history_batches`` need."""

    kind: Literal["on_policy"] = "on_policy"


KIND = SamplerKind(
    name="on_policy",
    config=OnPolicyConfig,
    # one class for both action spaces: it samples whatever distribution the actors' head gives
    implementations=Implementation(
        "maprops.samplers.on_policy:OnPolicySampler", continuous="maprops.samplers.on_policy:OnPolicySampler"
    ),
    style=Style("On-policy", "#1f77b4", "-", "o"),
    prose="on-policy",
)
