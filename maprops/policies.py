"""Independent actors and the critics of MAPPO and IPPO, stacked over seeds (and agents).

Actors: one 64x64 tanh MLP per agent on its own observation (paper §3, independent learners):
categorical over discrete actions (:class:`Actors`), or Gaussian over continuous ones
(:class:`GaussianActors`, beyond the paper's experiments).
Critics (docs/implementation.md#critics): MAPPO has one critic per seed on the joint observation with one
value head per agent (rewards are per agent); IPPO gives each agent a critic on its own
observation. Parameters are flat ``[rows, P]`` tensors (see :mod:`maprops.nets`); rows are
seed-major, so a seed's agents are consecutive rows.
"""

from __future__ import annotations

import torch

from maprops.action_heads import CategoricalHead, GaussianHead
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
        self.head = CategoricalHead(n_actions)

    def init(self, rng: SeedStreams) -> torch.Tensor:
        return init_params(self.mlp, rng, self.ROLE, self.n_agents, out_gain=0.01)

    def log_probs(self, params: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Observations ``[S, B, N, D]`` -> per-agent action log-probs ``[S, B, N, K]``."""
        logits = self.mlp.forward(params, agent_major(obs))
        return seed_major(torch.log_softmax(logits, dim=-1), self.n_agents)

    def dist(self, params, obs: torch.Tensor) -> torch.Tensor:
        """The distribution parameters of :attr:`head` (here the log-probs) ``[S, B, N, K]``."""
        return self.log_probs(params, obs)

    def leaves(self, params: torch.Tensor) -> list[torch.Tensor]:
        """Parameter tensors requiring grad, for autograd losses (PPO); :meth:`dist` takes them."""
        return self.mlp.leaves(params)

    def flatten_grads(self, grads) -> torch.Tensor:
        return self.mlp.flatten_grads(grads)


class GaussianActors:
    """``N`` independent diagonal-Gaussian actors per seed over ``A`` action dimensions, as
    CleanRL's ``ppo_continuous_action``: the MLP outputs the mean (output layer gain 0.01), the
    log standard deviation is a learned state-independent parameter per dimension, initialized
    to 0. A row of the flat parameters is the MLP's then the ``A`` log stds."""

    ROLE = 1  # the same initialization role as Actors: a row's MLP starts as a categorical actor's would

    def __init__(self, obs_dim: int, head: GaussianHead, n_agents: int, hidden: tuple[int, ...]):
        self.head = head
        self.mlp = StackedMLP((obs_dim, *hidden, head.action_dim))
        self.n_agents = n_agents
        self.num_params = self.mlp.num_params + head.action_dim

    def init(self, rng: SeedStreams) -> torch.Tensor:
        weights = init_params(self.mlp, rng, self.ROLE, self.n_agents, out_gain=0.01)
        return torch.cat((weights, torch.zeros(len(weights), self.head.action_dim)), 1)

    def dist(self, params, obs: torch.Tensor) -> torch.Tensor:
        """Observations ``[S, B, N, D]`` -> per-agent ``cat(mean, log std)`` ``[S, B, N, 2A]``.
        ``params``: the flat ``[S*N, P]`` rows or the list from :meth:`leaves`."""
        if isinstance(params, torch.Tensor):
            weights, log_std = params[:, : self.mlp.num_params], params[:, self.mlp.num_params :]
        else:
            weights, log_std = params[:-1], params[-1]
        mean = self.mlp.forward(weights, agent_major(obs))  # [S*N, B, A]
        out = torch.cat((mean, log_std.unsqueeze(1).expand_as(mean)), -1)
        return seed_major(out, self.n_agents)

    def leaves(self, params: torch.Tensor) -> list[torch.Tensor]:
        log_std = params[:, self.mlp.num_params :].detach().requires_grad_(True)
        return [*self.mlp.leaves(params[:, : self.mlp.num_params]), log_std]

    def flatten_grads(self, grads) -> torch.Tensor:
        return torch.cat((self.mlp.flatten_grads(grads[:-1]), grads[-1]), 1)


def make_actors(game, head, hidden: tuple[int, ...]) -> Actors | GaussianActors:
    """The actors a game's action head needs (:func:`maprops.action_heads.action_head`)."""
    if head.continuous:
        return GaussianActors(game.obs_dim, head, game.n_agents, hidden)
    return Actors(game.obs_dim, head.n_actions, game.n_agents, hidden)


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


def taken_log_prob(agent_log_probs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Per-agent log-prob of the taken actions: ``[..., N, K]``, ``[..., N]`` -> ``[..., N]``."""
    return agent_log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
