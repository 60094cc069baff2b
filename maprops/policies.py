"""Independent actors and the critics of MAPPO and IPPO, stacked over seeds (and agents).

Actors: one 64x64 tanh MLP per agent on its own observation (paper §3, independent learners).
Critics (docs/implementation.md#critics): MAPPO has one critic per seed on the joint observation with one
value head per agent (rewards are per agent); IPPO gives each agent a critic on its own
observation. Parameters are flat ``[rows, P]`` tensors (see :mod:`maprops.nets`); rows are
seed-major, so a seed's agents are consecutive rows.
"""

from __future__ import annotations

import torch

from maprops.nets import StackedMLP
from maprops.rng import SeedStreams, Tag


def agent_major(x: torch.Tensor) -> torch.Tensor:
    """``[S, B, N, ...] -> [S*N, B, ...]``: one row per (seed, agent) for batched matmul."""
    s, b, n = x.shape[:3]
    return x.transpose(1, 2).reshape(s * n, b, *x.shape[3:])


def seed_major(x: torch.Tensor, n_agents: int) -> torch.Tensor:
    """Inverse of :func:`agent_major`: ``[S*N, B, ...] -> [S, B, N, ...]``."""
    sn, b = x.shape[:2]
    return x.reshape(sn // n_agents, n_agents, b, *x.shape[2:]).transpose(1, 2)


def init_params(mlp: StackedMLP, rng: SeedStreams, role: int, per_seed: int, out_gain: float) -> torch.Tensor:
    """Initialize ``per_seed`` replicas of ``mlp`` for every seed, each from its own generator
    keyed by (seed, role, replica), so initial weights never depend on the block."""
    gens = []
    for s in range(len(rng)):
        for r in range(per_seed):
            gen = torch.Generator()
            gen.manual_seed(rng.python_seed(s, (Tag.INIT, role, r)))
            gens.append(gen)
    return mlp.init(gens, out_gain)


class Actors:
    """``N`` independent categorical actors per seed."""

    ROLE = 1

    def __init__(self, obs_dim: int, n_actions: int, n_agents: int, hidden: tuple[int, ...]):
        self.mlp = StackedMLP((obs_dim, *hidden, n_actions))
        self.n_agents = n_agents

    def init(self, rng: SeedStreams) -> torch.Tensor:
        return init_params(self.mlp, rng, self.ROLE, self.n_agents, out_gain=0.01)

    def log_probs(self, params: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Observations ``[S, B, N, D]`` -> per-agent action log-probs ``[S, B, N, K]``."""
        logits = self.mlp.forward(params, agent_major(obs))
        return seed_major(torch.log_softmax(logits, dim=-1), self.n_agents)


class Critic:
    """Per-agent value estimates ``[S, B, N]``; centralized (MAPPO) or local (IPPO)."""

    ROLE = 2

    def __init__(self, obs_dim: int, n_agents: int, hidden: tuple[int, ...], centralized: bool):
        self.centralized = centralized
        self.n_agents = n_agents
        if centralized:
            self.mlp = StackedMLP((obs_dim * n_agents, *hidden, n_agents))
        else:
            self.mlp = StackedMLP((obs_dim, *hidden, 1))

    @property
    def rows_per_seed(self) -> int:
        return 1 if self.centralized else self.n_agents

    def init(self, rng: SeedStreams) -> torch.Tensor:
        return init_params(self.mlp, rng, self.ROLE, self.rows_per_seed, out_gain=1.0)

    def values(self, params: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        if self.centralized:
            return self.mlp.forward(params, obs.flatten(2))  # joint observation
        return seed_major(self.mlp.forward(params, agent_major(obs)), self.n_agents).squeeze(-1)


def joint_log_probs(agent_log_probs: torch.Tensor) -> torch.Tensor:
    """Per-agent log-probs ``[..., N, K]`` -> joint log-probs ``[..., K**N]`` of the product
    policy, in the joint-action order of :func:`maprops.games.base.encode_joint`."""
    n = agent_log_probs.shape[-2]
    k = agent_log_probs.shape[-1]
    lead = agent_log_probs.shape[:-2]
    total = torch.zeros(*lead, *([1] * n), dtype=agent_log_probs.dtype)
    for i in range(n):
        shape = [1] * n
        shape[i] = k
        total = total + agent_log_probs[..., i, :].reshape(*lead, *shape)
    return total.reshape(*lead, k**n)


def taken_log_prob(agent_log_probs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Per-agent log-prob of the taken actions: ``[..., N, K]``, ``[..., N]`` -> ``[..., N]``."""
    return agent_log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
