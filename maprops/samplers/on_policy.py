"""On-policy sampling: every agent samples independently from its own target policy."""

from __future__ import annotations

import torch

from maprops.rng import sample_categorical


class OnPolicySampler:
    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls()

    def reset_to_target(self, target_params: torch.Tensor) -> None:
        pass

    def act(self, obs, target_log_probs, uniforms):
        return sample_categorical(target_log_probs.exp(), uniforms)

    def update(self, target_params, data, tag) -> None:
        pass
