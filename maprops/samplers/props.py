"""PROPS, the decentralized baseline: one behavior copy of each agent's actor.

At every behavior update each copy is reset to its agent's target actor and the product
policy ``prod_i pi_phi_i(a_i|s_i)`` is trained with Algorithm 2 (paper §5.1). Because each
copy only sees its own agent's actions, PROPS can correct each agent's sampling error but not
the joint one (paper §4's example).
"""

from __future__ import annotations

import torch

from maprops.config import BehaviorSamplerConfig
from maprops.nets import StackedAdam
from maprops.policies import Actors, agent_major, seed_major
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_update


class _ProductPolicy:
    """log pi_phi(a|s) = sum_i log pi_phi_i(a_i|s_i) over the buffer, with its gradient."""

    def __init__(self, actors: Actors, obs: torch.Tensor, actions: torch.Tensor):
        self.actors = actors
        self.obs = obs  # [S, M, N, D]
        self.actions = actions  # [S, M, N]
        self.seeds = torch.arange(obs.shape[0])[:, None]

    def take(self, ids):
        return _ProductPolicy(self.actors, self.obs[ids], self.actions[ids])

    def log_prob(self, params, idx):
        x = agent_major(self.obs[self.seeds, idx])  # [S*N, B, D]
        actions = agent_major(self.actions[self.seeds, idx].unsqueeze(-1))  # [S*N, B, 1]
        logits, inputs = self.actors.mlp.forward_cached(params, x)
        log_probs = torch.log_softmax(logits, -1)
        per_agent = seed_major(log_probs.gather(-1, actions), self.actors.n_agents)  # [S, B, N, 1]
        return per_agent.sum((2, 3)), (inputs, log_probs, actions)

    def backward(self, params, ctx, d_log_prob, grad):
        inputs, log_probs, actions = ctx
        n = self.actors.n_agents
        d = d_log_prob.repeat_interleave(n, dim=0).unsqueeze(-1)  # [S*N, B, 1], seed-major rows
        d_logits = log_probs.exp().mul_(-d).scatter_add_(-1, actions, d)
        self.actors.mlp.backward(params, inputs, d_logits, grad)


class PropsSampler:
    def __init__(self, config: BehaviorSamplerConfig, actors: Actors, target_params: torch.Tensor, rng: SeedStreams):
        self.config = config
        self.actors = actors
        self.rng = rng
        self.params = target_params.detach().clone()
        # Created once: Adam's moments persist across resets (REFERENCE.md §1).
        self.optimizer = StackedAdam(self.params, len(rng), config.learning_rate, config.adam_eps)
        self.steps_taken = 0

    def reset_to_target(self, target_params: torch.Tensor) -> None:
        self.params.copy_(target_params)

    @torch.no_grad()
    def act(self, obs, target_log_probs, uniforms):
        return sample_categorical(self.actors.log_probs(self.params, obs).exp(), uniforms)

    def update(self, target_params: torch.Tensor, data: BehaviorData, tag) -> None:
        self.reset_to_target(target_params)
        target_joint = data.target_log_probs.gather(-1, data.actions.unsqueeze(-1)).squeeze(-1).sum(-1)
        policy = _ProductPolicy(self.actors, data.obs, data.actions)
        self.steps_taken += behavior_update(self.params, self.optimizer, policy, target_joint, self.config, self.rng, tag)
