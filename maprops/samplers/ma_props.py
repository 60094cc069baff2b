"""MA-PROPS: a centralized behavior policy over joint actions (paper §5.2).

``pi_phi(.|s) = softmax(log pi_theta(.|s) + Delta_phi(s))`` where ``log pi_theta`` is the sum
of the agents' log-probs and ``Delta_phi`` is an MLP on the joint observation with one output
per joint action. Its last layer is zeroed at every reset, so ``pi_phi == pi_theta`` exactly
there; hidden layers and the Adam moments persist across resets (REFERENCE.md §1).
"""

from __future__ import annotations

import math

import torch

from maprops.config import BehaviorSamplerConfig
from maprops.games.base import decode_joint, encode_joint
from maprops.nets import StackedAdam, StackedMLP
from maprops.policies import init_params, joint_log_probs
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_update


class _CentralizedPolicy:
    """log pi_phi(a|s) of the buffer's joint actions, with its gradient w.r.t. Delta_phi."""

    def __init__(self, mlp: StackedMLP, joint_obs: torch.Tensor, target_logits: torch.Tensor, joint_actions: torch.Tensor):
        self.mlp = mlp
        self.joint_obs = joint_obs  # [S, M, N*D]
        self.target_logits = target_logits  # [S, M, A]: log pi_theta of every joint action
        self.joint_actions = joint_actions  # [S, M, 1]: the buffer's joint actions, encoded
        self.seeds = torch.arange(joint_obs.shape[0])[:, None]

    @classmethod
    def of_buffer(cls, mlp: StackedMLP, data: BehaviorData, n_actions: tuple[int, ...]) -> "_CentralizedPolicy":
        joint_actions = encode_joint(data.actions, n_actions).unsqueeze(-1)
        return cls(mlp, data.obs.flatten(2), joint_log_probs(data.target_log_probs), joint_actions)

    def take(self, ids):
        return _CentralizedPolicy(self.mlp, self.joint_obs[ids], self.target_logits[ids], self.joint_actions[ids])

    def log_prob(self, params, idx):
        adjustment, inputs = self.mlp.forward_cached(params, self.joint_obs[self.seeds, idx])
        log_probs = torch.log_softmax(self.target_logits[self.seeds, idx] + adjustment, -1)
        actions = self.joint_actions[self.seeds, idx]
        return log_probs.gather(-1, actions).squeeze(-1), (inputs, log_probs, actions)

    def backward(self, params, ctx, d_log_prob, grad):
        inputs, log_probs, actions = ctx
        d = d_log_prob.unsqueeze(-1)
        d_logits = log_probs.exp().mul_(-d).scatter_add_(-1, actions, d)
        self.mlp.backward(params, inputs, d_logits, grad)


class MaPropsSampler:
    ROLE = 3

    def __init__(self, config: BehaviorSamplerConfig, obs_dim: int, n_actions: tuple[int, ...], rng: SeedStreams):
        self.config = config
        self.n_actions = n_actions
        self.mlp = StackedMLP((obs_dim * len(n_actions), *config.hidden_sizes, math.prod(n_actions)))
        self.rng = rng
        self.params = init_params(self.mlp, rng, self.ROLE, 1, out_gain=0.01)
        self.reset_to_target()
        self.optimizer = StackedAdam(self.params, len(rng), config.learning_rate, config.adam_eps)
        self.steps_taken = 0

    def reset_to_target(self, target_params=None) -> None:
        """Zero Delta_phi's output layer: the behavior policy becomes the target exactly."""
        self.params[:, self.mlp.last_layer] = 0.0

    def joint_logits(self, obs: torch.Tensor, target_log_probs: torch.Tensor) -> torch.Tensor:
        """``[S, B, N, D]``, ``[S, B, N, K]`` -> behavior logits over joint actions ``[S, B, A]``."""
        return joint_log_probs(target_log_probs) + self.mlp.forward(self.params, obs.flatten(2))

    @torch.no_grad()
    def act(self, obs, target_log_probs, uniforms):
        probs = torch.softmax(self.joint_logits(obs, target_log_probs), dim=-1)
        joint = sample_categorical(probs, uniforms[..., 0])
        return decode_joint(joint, self.n_actions)

    def update(self, target_params, data: BehaviorData, tag) -> None:
        self.reset_to_target()
        policy = _CentralizedPolicy.of_buffer(self.mlp, data, self.n_actions)
        target_joint = self.joint_actions_target(policy)
        self.steps_taken += behavior_update(self.params, self.optimizer, policy, target_joint, self.config, self.rng, tag)

    @staticmethod
    def joint_actions_target(policy: _CentralizedPolicy) -> torch.Tensor:
        return policy.target_logits.gather(-1, policy.joint_actions).squeeze(-1)
