"""MA-PROPS: a centralized behavior policy over joint actions (paper §5.2).

``pi_phi(.|s) = softmax(log pi_theta(.|s) + Delta_phi(s))`` where ``log pi_theta`` is the sum
of the agents' log-probs and ``Delta_phi`` is an MLP on the joint observation with one output
per joint action (:mod:`maprops.samplers.delta_phi`). Its last layer is zeroed at every reset,
so ``pi_phi == pi_theta`` exactly there; hidden layers and the Adam moments persist across resets
(docs/implementation.md#behavior-policy-reset-and-adam-state).
"""

from __future__ import annotations

import math

import torch

from maprops.joint_actions import decode_joint, encode_joint, joint_log_probs
from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.nets import StackedMLP
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_update
from maprops.samplers.delta_phi import build_head, zero_output
from maprops.samplers.state_table import gather_table, per_state, table_logit_grad, use_table


class _CentralizedPolicy:
    """log pi_phi(a|s) of the buffer's joint actions, with its gradient w.r.t. Delta_phi; per
    state instead of per sample where the game's states are few (:mod:`state_table`)."""

    def __init__(self, mlp: StackedMLP, joint_obs, target_logits, joint_actions, states=None, table=None):
        self.mlp = mlp
        self.joint_obs = joint_obs  # [S, M, N*D]
        self.target_logits = target_logits  # [S, M, A]: log pi_theta of every joint action
        self.joint_actions = joint_actions  # [S, M, 1]: the buffer's joint actions, encoded
        self.states = states  # [S, M] or None
        self.table = table  # (joint observation [S, U, N*D], target logits [S, U, A]) of every state
        self.n_states = None if table is None else table[0].shape[1]
        self.seeds = torch.arange(joint_obs.shape[0])[:, None]

    @classmethod
    def of_buffer(cls, mlp: StackedMLP, data: BehaviorData, n_actions: tuple[int, ...]) -> _CentralizedPolicy:
        joint_actions = encode_joint(data.actions, n_actions).unsqueeze(-1)
        target_logits = joint_log_probs(data.target_log_probs)
        table = None
        if data.states is not None:
            n_seeds, n_states = data.obs.shape[0], data.state_obs.shape[0]
            table_obs = data.state_obs.flatten(1).expand(n_seeds, n_states, -1).contiguous()
            table = (table_obs, per_state(target_logits, data.states, n_states))
        return cls(mlp, data.obs.flatten(2), target_logits, joint_actions, data.states, table)

    def take(self, ids):
        states = None if self.states is None else self.states[ids]
        table = None if self.table is None else tuple(t[ids] for t in self.table)
        return _CentralizedPolicy(self.mlp, self.joint_obs[ids], self.target_logits[ids], self.joint_actions[ids], states, table)

    def log_prob(self, params, idx):
        actions = self.joint_actions[self.seeds, idx]  # [S, B, 1]
        if use_table(self.n_states, idx.shape[1]):
            table_obs, table_target = self.table
            adjustment, inputs = self.mlp.forward_cached(params, table_obs)
            log_probs = torch.log_softmax(table_target + adjustment, -1)  # [S, U, A]
            states = self.states.gather(1, idx)
            return gather_table(log_probs, states, actions.squeeze(-1)), (inputs, log_probs, actions, states)
        adjustment, inputs = self.mlp.forward_cached(params, self.joint_obs[self.seeds, idx])
        log_probs = torch.log_softmax(self.target_logits[self.seeds, idx] + adjustment, -1)
        return log_probs.gather(-1, actions).squeeze(-1), (inputs, log_probs, actions, None)

    def backward(self, params, ctx, d_log_prob, grad):
        inputs, log_probs, actions, states = ctx
        if states is not None:
            d_logits = table_logit_grad(log_probs.exp(), states, actions.squeeze(-1), d_log_prob)
        else:
            d = d_log_prob.unsqueeze(-1)
            d_logits = log_probs.exp().mul_(-d).scatter_add_(-1, actions, d)
        self.mlp.backward(params, inputs, d_logits, grad)


class MaPropsSampler:
    """MA-PROPS with the paper's Delta_phi: one output per joint action (``delta_phi: network``)."""

    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls(config, game.obs_dim, game.n_actions, rng)

    def __init__(self, config: BehaviorSamplerConfig, obs_dim: int, n_actions: tuple[int, ...], rng: SeedStreams):
        self.config = config
        self.n_actions = n_actions
        self.mlp, self.params, self.optimizer = build_head(config, obs_dim * len(n_actions), math.prod(n_actions), rng)
        self.rng = rng
        self.steps_taken = 0

    def reset_to_target(self, target_params=None) -> None:
        """Zero Delta_phi's output layer: the behavior policy becomes the target exactly."""
        zero_output(self.mlp, self.params)

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
        if self.config.reset_moments:
            self.optimizer.reset_state()
        policy = _CentralizedPolicy.of_buffer(self.mlp, data, self.n_actions)
        target_joint = self.joint_actions_target(policy)
        self.steps_taken += behavior_update(
            self.params, self.optimizer, policy, target_joint, self.config, self.rng, tag, data.minibatch_size
        )

    @staticmethod
    def joint_actions_target(policy: _CentralizedPolicy) -> torch.Tensor:
        return policy.target_logits.gather(-1, policy.joint_actions).squeeze(-1)
