"""PROPS, the decentralized baseline: one behavior copy of each agent's actor.

At every behavior update each copy is reset to its agent's target actor and the product
policy ``prod_i pi_phi_i(a_i|s_i)`` is trained with Algorithm 2 (paper §5.1). Because each
copy only sees its own agent's actions, PROPS can correct each agent's sampling error but not
the joint one (paper §4's example).
"""

from __future__ import annotations

import torch

from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.nets import StackedAdam
from maprops.policies import Actors, agent_major, seed_major
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_update
from maprops.samplers.state_table import gather_table, table_logit_grad, use_table


class _ProductPolicy:
    """log pi_phi(a|s) = sum_i log pi_phi_i(a_i|s_i) over the buffer, with its gradient; per
    state instead of per sample where the game's states are few (:mod:`state_table`)."""

    def __init__(self, actors: Actors, obs, actions, states=None, state_obs=None):
        self.actors = actors
        self.obs = obs  # [S, M, N, D]
        self.actions = actions  # [S, M, N]
        self.states = states  # [S, M] or None
        self.state_obs = state_obs  # [U, N, D] or None
        self.seeds = torch.arange(obs.shape[0])[:, None]
        self.n_states = None if states is None else state_obs.shape[0]
        if states is not None:  # every (seed, agent) row sees every state: [S*N, U, D]
            self.table_x = agent_major(state_obs.expand(obs.shape[0], *state_obs.shape))

    def take(self, ids):
        states = None if self.states is None else self.states[ids]
        return _ProductPolicy(self.actors, self.obs[ids], self.actions[ids], states, self.state_obs)

    def log_prob(self, params, idx):
        n = self.actors.n_agents
        actions = agent_major(self.actions[self.seeds, idx].unsqueeze(-1))  # [S*N, B, 1]
        if use_table(self.n_states, idx.shape[1]):
            logits, inputs = self.actors.mlp.forward_cached(params, self.table_x)  # [S*N, U, K]
            log_probs = torch.log_softmax(logits, -1)
            states = self.states.gather(1, idx).repeat_interleave(n, dim=0)  # [S*N, B]
            per_agent = gather_table(log_probs, states, actions.squeeze(-1))  # [S*N, B]
            return per_agent.view(-1, n, idx.shape[1]).sum(1), (inputs, log_probs, actions, states)
        x = agent_major(self.obs[self.seeds, idx])  # [S*N, B, D]
        logits, inputs = self.actors.mlp.forward_cached(params, x)
        log_probs = torch.log_softmax(logits, -1)
        per_agent = seed_major(log_probs.gather(-1, actions), n)  # [S, B, N, 1]
        return per_agent.sum((2, 3)), (inputs, log_probs, actions, None)

    def backward(self, params, ctx, d_log_prob, grad):
        inputs, log_probs, actions, states = ctx
        d = d_log_prob.repeat_interleave(self.actors.n_agents, dim=0)  # [S*N, B], seed-major rows
        if states is not None:
            d_logits = table_logit_grad(log_probs.exp(), states, actions.squeeze(-1), d)
        else:
            d = d.unsqueeze(-1)
            d_logits = log_probs.exp().mul_(-d).scatter_add_(-1, actions, d)
        self.actors.mlp.backward(params, inputs, d_logits, grad)


class PropsSampler:
    @classmethod
    def from_config(cls, config, actors, target_params, game, rng):
        return cls(config, actors, target_params, rng)

    def __init__(self, config: BehaviorSamplerConfig, actors: Actors, target_params: torch.Tensor, rng: SeedStreams):
        self.config = config
        self.actors = actors
        self.rng = rng
        self.params = target_params.detach().clone()
        # Created once: Adam's moments persist across resets
        # (docs/implementation.md#behavior-policy-reset-and-adam-state).
        self.optimizer = StackedAdam(self.params, len(rng), config.learning_rate, config.adam_eps)
        self.steps_taken = 0

    def reset_to_target(self, target_params: torch.Tensor) -> None:
        self.params.copy_(target_params)

    @torch.no_grad()
    def act(self, obs, target_log_probs, uniforms):
        return sample_categorical(self.actors.log_probs(self.params, obs).exp(), uniforms)

    def update(self, target_params: torch.Tensor, data: BehaviorData, tag) -> None:
        self.reset_to_target(target_params)
        if self.config.reset_moments:
            self.optimizer.reset_state()
        target_joint = data.target_log_probs.gather(-1, data.actions.unsqueeze(-1)).squeeze(-1).sum(-1)
        policy = _ProductPolicy(self.actors, data.obs, data.actions, data.states, data.state_obs)
        self.steps_taken += behavior_update(
            self.params, self.optimizer, policy, target_joint, self.config, self.rng, tag, data.minibatch_size
        )
