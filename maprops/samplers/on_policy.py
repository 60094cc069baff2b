"""On-policy sampling: every agent samples independently from its own target policy."""

from __future__ import annotations


class OnPolicySampler:
    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls(actors.head)

    def __init__(self, head):
        self.head = head  # how the target's distribution parameters become actions (maprops.action_heads)

    def reset_to_target(self, target_params) -> None:
        pass

    def act(self, obs, target_log_probs, uniforms):
        return self.head.sample(target_log_probs, uniforms)

    def update(self, target_params, data, tag) -> None:
        pass
