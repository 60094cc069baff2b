"""MA-PROPS with a tabular adjustment (beyond the paper): Assumption 1's parameterization.

``pi_phi(.|s) = softmax(log pi_theta(.|s) + Delta[s])`` with one free parameter per (joint state,
joint action), zeroed at every behavior reset so the behavior equals the target exactly there.
Loss, clipping, KL cut-off and optimizer are MA-PROPS's own (:func:`behavior_update`); only the
function class of the adjustment changes. With a network adjustment one step moves the logits of
every joint state at once; with a table a state's adjustment moves only where the buffer has
samples of that state (and, with carried Adam moments, where earlier buffers had them). Needs the
game's joint-state index, so only games with enumerable joint states can use it.
"""

from __future__ import annotations

import torch

from maprops.joint_actions import decode_joint, encode_joint, joint_log_probs
from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.nets import StackedAdam
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_update
from maprops.samplers.state_table import gather_table, per_state, table_logit_grad


class _TabularPolicy:
    """log pi_phi of the buffer's joint actions and its gradient w.r.t. the table ``[S, U*A]``."""

    def __init__(self, target_table: torch.Tensor, states: torch.Tensor, joint_actions: torch.Tensor):
        self.target_table = target_table  # [S, U, A]: log pi_theta of every joint action per state
        self.states = states  # [S, M]
        self.joint_actions = joint_actions  # [S, M]

    def take(self, ids):
        return _TabularPolicy(self.target_table[ids], self.states[ids], self.joint_actions[ids])

    def log_prob(self, params, idx):
        log_probs = torch.log_softmax(self.target_table + params.view_as(self.target_table), -1)
        states, actions = self.states.gather(1, idx), self.joint_actions.gather(1, idx)
        return gather_table(log_probs, states, actions), (log_probs, states, actions)

    def backward(self, params, ctx, d_log_prob, grad):
        log_probs, states, actions = ctx
        grad.copy_(table_logit_grad(log_probs.exp(), states, actions, d_log_prob).view_as(grad))


class TabularMaPropsSampler:
    """MA-PROPS with a table for Delta_phi (``delta_phi: tabular``); the game must enumerate its
    joint states (``n_states``, ``state_index``), which the registry entry declares."""

    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls(config, game, rng)

    def __init__(self, config: BehaviorSamplerConfig, game, rng: SeedStreams):
        self.config = config
        self.game = game
        self.rng = rng
        self.shape = (len(rng), game.n_states, game.n_joint_actions)
        self.params = torch.zeros(len(rng), game.n_states * game.n_joint_actions)
        self.optimizer = StackedAdam(self.params, len(rng), config.learning_rate, config.adam_eps)
        self.steps_taken = 0

    def reset_to_target(self, target_params=None) -> None:
        """A zero table: the behavior policy becomes the target exactly, in every state."""
        self.params.zero_()

    @torch.no_grad()
    def act(self, obs, target_log_probs, uniforms):
        states = self.game.state_index(obs)  # [S, E]
        seeds = torch.arange(self.shape[0])[:, None].expand_as(states)
        delta = self.params.view(self.shape)[seeds, states]  # [S, E, A]
        probs = torch.softmax(joint_log_probs(target_log_probs) + delta, dim=-1)
        return decode_joint(sample_categorical(probs, uniforms[..., 0]), self.game.n_actions)

    def update(self, target_params, data: BehaviorData, tag) -> None:
        self.reset_to_target()
        if self.config.reset_moments:
            self.optimizer.reset_state()
        joint_actions = encode_joint(data.actions, self.game.n_actions)  # [S, M]
        target_logits = joint_log_probs(data.target_log_probs)  # [S, M, A]
        policy = _TabularPolicy(per_state(target_logits, data.states, self.shape[1]), data.states, joint_actions)
        target_joint = target_logits.gather(-1, joint_actions.unsqueeze(-1)).squeeze(-1)
        self.steps_taken += behavior_update(
            self.params, self.optimizer, policy, target_joint, self.config, self.rng, tag, data.minibatch_size
        )
