"""MAPPO / IPPO updates with CleanRL PPO semantics, batched over seeds (docs/implementation.md#ppo-mappo-and-ippo).

Each agent is an independent PPO learner on its own actor: its loss is CleanRL's
``pg - ent_coef * entropy + vf_coef * value`` on its own advantages, and the per-agent losses
are summed, so no agent's gradient depends on another's. Gradient norms are clipped per seed
and per network (each agent's actor, the critic), never across seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from maprops.config import PPOConfig
from maprops.nets import StackedAdam, clip_grad_norm_
from maprops.policies import Actors, Critic, GaussianActors
from maprops.rng import SeedStreams, Tag


@dataclass
class Rollout:
    """One target update's data, time-major per seed: ``[S, T, E, ...]``."""

    obs: torch.Tensor  # [S, T, E, N, D]
    actions: torch.Tensor  # [S, T, E, N] (int64), or [S, T, E, N, A] (float32, unclipped) for Gaussian actors
    # The target's distribution parameters at collection (maprops.action_heads): log-probs
    # [S, T, E, N, K] for categorical actors, cat(mean, log std) [S, T, E, N, 2A] for Gaussian ones.
    log_probs: torch.Tensor
    rewards: torch.Tensor  # [S, T, E, N]
    dones: torch.Tensor  # [S, T, E] the episode ended after this step
    values: torch.Tensor  # [S, T, E, N]

    @classmethod
    def empty(cls, s, t, e, n, d, k, action_shape=(), action_dtype=torch.int64) -> Rollout:
        """Zeros; ``k`` distribution parameters per agent, actions of ``action_shape`` per agent."""
        return cls(
            obs=torch.zeros(s, t, e, n, d),
            actions=torch.zeros(s, t, e, n, *action_shape, dtype=action_dtype),
            log_probs=torch.zeros(s, t, e, n, k),
            rewards=torch.zeros(s, t, e, n),
            dones=torch.zeros(s, t, e, dtype=torch.bool),
            values=torch.zeros(s, t, e, n),
        )


def gae(rollout: Rollout, next_values: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation, CleanRL style: an episode end (terminated or
    truncated) cuts bootstrapping. Returns advantages and returns, both ``[S, T, E, N]``."""
    steps = rollout.rewards.shape[1]
    advantages = torch.zeros_like(rollout.rewards)
    last = torch.zeros_like(next_values)
    for t in reversed(range(steps)):
        nonterminal = (~rollout.dones[:, t]).unsqueeze(-1).float()
        following = next_values if t == steps - 1 else rollout.values[:, t + 1]
        delta = rollout.rewards[:, t] + gamma * following * nonterminal - rollout.values[:, t]
        last = delta + gamma * lam * nonterminal * last
        advantages[:, t] = last
    return advantages, advantages + rollout.values


def split_bounds(size: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous near-equal slices of ``range(size)`` (sizes differ by at most one).

    CleanRL's ``size // parts`` stepping leaves a remainder minibatch (batch 45 in 4 parts
    gives a last minibatch of 1, whose advantage std is undefined), so we split evenly."""
    parts = min(parts, size)
    edges = [round(i * size / parts) for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:]))


class PPOLearner:
    def __init__(self, config: PPOConfig, actors: Actors | GaussianActors, critic: Critic, rng: SeedStreams, iterations: int):
        self.config = config
        self.actors = actors
        self.critic = critic
        self.rng = rng
        self.iterations = iterations
        self.actor_params = actors.init(rng)
        self.critic_params = critic.init(rng)
        self.actor_opt = StackedAdam(self.actor_params, len(rng), config.learning_rate, config.adam_eps)
        self.critic_opt = StackedAdam(self.critic_params, len(rng), config.learning_rate, config.adam_eps)

    @torch.no_grad()
    def act_info(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Target distribution parameters (log-probs ``[S, E, N, K]`` for categorical actors) and
        values ``[S, E, N]`` at observations."""
        return self.actors.dist(self.actor_params, obs), self.critic.values(self.critic_params, obs)

    def update(self, rollout: Rollout, next_obs: torch.Tensor, iteration: int) -> None:
        cfg = self.config
        with torch.no_grad():
            next_values = self.critic.values(self.critic_params, next_obs)
            advantages, returns = gae(rollout, next_values, cfg.gamma, cfg.gae_lambda)
        if cfg.anneal_lr:
            lr = cfg.learning_rate * (1.0 - iteration / self.iterations)
            self.actor_opt.lr = self.critic_opt.lr = lr

        s = rollout.obs.shape[0]
        flat = lambda x: x.flatten(1, 2)  # noqa: E731  [S, T, E, ...] -> [S, T*E, ...]
        obs, actions, adv, ret, old_values = map(flat, (rollout.obs, rollout.actions, advantages, returns, rollout.values))
        head = self.actors.head
        old_log_prob = head.log_prob(flat(rollout.log_probs), actions)
        size = obs.shape[1]
        seeds = torch.arange(s)[:, None]
        n_agents = self.actors.n_agents
        for epoch in range(cfg.epochs):
            order = self.rng.permutations((Tag.PPO_PERM, iteration, epoch), size)
            for start, stop in split_bounds(size, cfg.minibatches):
                idx = order[:, start:stop]
                actor_leaves = self.actors.leaves(self.actor_params)
                critic_leaves = self.critic.mlp.leaves(self.critic_params)
                dist = self.actors.dist(actor_leaves, obs[seeds, idx])
                new_log_prob = head.log_prob(dist, actions[seeds, idx])  # [S, B, N]
                entropy = head.entropy(dist)  # [S, B, N]
                ratio = (new_log_prob - old_log_prob[seeds, idx]).exp()
                mb_adv = adv[seeds, idx]
                if cfg.normalize_advantages and mb_adv.shape[1] > 1:
                    mb_adv = (mb_adv - mb_adv.mean(1, keepdim=True)) / (mb_adv.std(1, keepdim=True) + 1e-8)
                pg = torch.maximum(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean(1)

                values = self.critic.values(critic_leaves, obs[seeds, idx])
                mb_ret = ret[seeds, idx]
                v_loss = (values - mb_ret) ** 2
                if cfg.clip_value_loss:
                    mb_old = old_values[seeds, idx]
                    clipped = mb_old + (values - mb_old).clamp(-cfg.clip_coef, cfg.clip_coef)
                    v_loss = torch.maximum(v_loss, (clipped - mb_ret) ** 2)
                v_loss = 0.5 * v_loss.mean(1)

                loss = (pg - cfg.ent_coef * entropy.mean(1) + cfg.vf_coef * v_loss).sum()
                grads = torch.autograd.grad(loss, actor_leaves + critic_leaves)
                actor_grad = self.actors.flatten_grads(grads[: len(actor_leaves)])
                critic_grad = self.critic.mlp.flatten_grads(grads[len(actor_leaves) :])
                clip_grad_norm_(actor_grad, s * n_agents, cfg.max_grad_norm)
                clip_grad_norm_(critic_grad, s * self.critic.rows_per_seed, cfg.max_grad_norm)
                self.actor_opt.step(actor_grad)
                self.critic_opt.step(critic_grad)
