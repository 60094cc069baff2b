"""The seed-batched training loop: paper Algorithm 1 for a block of seeds in lock-step.

Every tensor carries a leading seed axis. Nothing is reduced across that axis, every random
number comes from the seed's own stream (:mod:`maprops.rng`), and per-seed early stopping is
masked, so a seed's numbers are the same whether it trains alone or in a block of 100.

Per target update (iteration):
1. collect ``n = ppo.batch_size`` steps with the sampler; every ``m = sampler.batch_size`` steps
   (except the last, after which the buffer is cleared) the behavior policy is reset to the
   target and adapted on the data collected so far in this iteration;
2. fill a shadow buffer of the same size from the same target policies, on-policy, in a
   separate copy of the game (paper §6.2), and measure both buffers' sampling error;
3. update the target policies with MAPPO or IPPO on the sampler's buffer;
4. every ``eval_every`` iterations, evaluate the target policies.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from maprops.config import RunSpec
from maprops.games import make_game
from maprops.metrics import sampling_errors
from maprops.policies import Actors, Critic
from maprops.ppo import PPOLearner, Rollout
from maprops.rng import SeedStreams, Tag, sample_categorical
from maprops.samplers import OnPolicySampler, make_sampler
from maprops.samplers.base import BehaviorData

COLUMNS = (
    "seed",
    "iteration",
    "step",
    "success_rate",
    "joint_tv",
    "agent1_tv",
    "joint_tv_on_policy",
    "agent1_tv_on_policy",
    "mean_return",
)


class Episodes:
    """A batch of game instances ``[S, E]`` that remembers its observations between calls."""

    def __init__(self, game, rng: SeedStreams, envs: int, reset_tag: Tag, step_tag: Tag):
        self.game = game
        self.rng = rng
        self.envs = envs
        self.step_tag = step_tag
        self.obs = game.reset((len(rng), envs), self._uniforms((reset_tag,), game.random_numbers_per_reset))

    def _uniforms(self, tag, count: int):
        return self.rng.uniform(tag, (self.envs, count)) if count else None

    def step(self, actions: torch.Tensor, tag: tuple[int, ...]):
        result = self.game.step(actions, self._uniforms((self.step_tag, *tag), self.game.random_numbers_per_step))
        self.obs = result.obs
        return result


def _buffer_errors(game, learner, state_ids, actions):
    with torch.no_grad():
        states = game.state_observations().expand(len(learner.rng), -1, -1, -1)  # [S, n_states, N, D]
        state_log_probs = learner.actors.log_probs(learner.actor_params, states)
    return sampling_errors(state_ids, actions, game.state_distribution(state_log_probs), state_log_probs)


@torch.no_grad()
def evaluate(game, learner: PPOLearner, rng: SeedStreams, episodes: int, iteration: int):
    """Success rate and mean total return over ``episodes`` fresh episodes per seed, each agent
    sampling from its own target policy."""
    run = Episodes(game, rng, episodes, Tag.EVAL_RESET, Tag.EVAL_GAME)
    s = len(rng)
    finished = torch.zeros(s, episodes, dtype=torch.bool)
    success = torch.zeros(s, episodes, dtype=torch.bool)
    returns = torch.zeros(s, episodes)
    for t in range(game.max_episode_steps):
        log_probs = learner.actors.log_probs(learner.actor_params, run.obs)
        u = rng.uniform((Tag.EVAL_ACT, iteration, t), (episodes, game.n_agents))
        result = run.step(sample_categorical(log_probs.exp(), u), (iteration, t))
        live = ~finished
        returns += result.rewards.sum(-1) * live
        success |= result.success & result.done & live
        finished |= result.done
        if bool(finished.all()):
            break
    return success.double().mean(1), returns.double().mean(1)


class Trainer:
    """One block of seeds of one run spec, advanced one target update at a time."""

    def __init__(self, spec: RunSpec, seeds: Sequence[int]):
        self.spec = spec
        self.seeds = np.asarray(seeds, dtype=np.int64)
        self.rng = rng = SeedStreams(seeds)
        self.game = game = make_game(spec.game)
        if len(set(game.n_actions)) != 1:
            raise ValueError(f"game {spec.game.name}: agents must share one action count, got {game.n_actions}")
        self.envs = 1  # assumption: one environment per seed; Algorithm 1 collects one transition at a time
        self.steps = spec.ppo.batch_size // self.envs
        self.actors = Actors(game.obs_dim, game.n_actions[0], game.n_agents, spec.ppo.hidden_sizes)
        critic = Critic(game.obs_dim, game.n_agents, spec.ppo.hidden_sizes, centralized=spec.algorithm == "mappo")
        self.learner = PPOLearner(spec.ppo, self.actors, critic, rng, spec.iterations)
        self.sampler = make_sampler(spec.sampler, self.actors, self.learner.actor_params, game, rng)
        self.adapts = not isinstance(self.sampler, OnPolicySampler)
        self.train_env = Episodes(game, rng, self.envs, Tag.RESET, Tag.GAME)
        self.shadow_env = Episodes(game, rng, self.envs, Tag.SHADOW_RESET, Tag.SHADOW_GAME)
        self.iteration = 0

    def _collect(self, it: int):
        """Steps 1-2: the sampler's buffer (with behavior updates) and the shadow on-policy one."""
        s, envs, game = len(self.rng), self.envs, self.game
        n, k, d = game.n_agents, game.n_actions[0], game.obs_dim
        rollout = Rollout.empty(s, self.steps, envs, n, d, k)
        states = torch.zeros(s, self.steps, envs, dtype=torch.int64)
        shadow_states = torch.zeros_like(states)
        shadow_actions = torch.zeros(s, self.steps, envs, n, dtype=torch.int64)
        params = self.learner.actor_params
        self.sampler.reset_to_target(params)
        for t in range(self.steps):
            obs = self.train_env.obs
            log_probs, values = self.learner.act_info(obs)
            actions = self.sampler.act(obs, log_probs, self.rng.uniform((Tag.ACT, it, t), (envs, n)))
            states[:, t] = game.state_index(obs)
            result = self.train_env.step(actions, (it, t))
            rollout.obs[:, t] = obs
            rollout.actions[:, t] = actions
            rollout.log_probs[:, t] = log_probs
            rollout.rewards[:, t] = result.rewards
            rollout.dones[:, t] = result.done
            rollout.values[:, t] = values
            collected = t + 1
            if self.adapts and collected < self.steps and collected % self.spec.sampler.batch_size == 0:
                data = BehaviorData(
                    obs=rollout.obs[:, :collected].flatten(1, 2),
                    actions=rollout.actions[:, :collected].flatten(1, 2),
                    target_log_probs=rollout.log_probs[:, :collected].flatten(1, 2),
                )
                self.sampler.update(params, data, (it, t))

            with torch.no_grad():
                shadow_obs = self.shadow_env.obs
                probs = self.actors.log_probs(params, shadow_obs).exp()
                shadow_act = sample_categorical(probs, self.rng.uniform((Tag.SHADOW_ACT, it, t), (envs, n)))
                shadow_states[:, t] = game.state_index(shadow_obs)
                shadow_actions[:, t] = shadow_act
                self.shadow_env.step(shadow_act, (it, t))
        return rollout, states, (shadow_states, shadow_actions)

    def run_iteration(self) -> dict[str, np.ndarray] | None:
        """One target update (steps 1-4 above); returns this iteration's rows if evaluated."""
        it = self.iteration
        spec, game, learner = self.spec, self.game, self.learner
        rollout, states, (shadow_states, shadow_actions) = self._collect(it)
        evaluated = (it + 1) % spec.eval_every == 0 or it == spec.iterations - 1
        if evaluated:
            joint_tv, agent1_tv = _buffer_errors(game, learner, states.flatten(1), rollout.actions.flatten(1, 2))
            joint_on, agent1_on = _buffer_errors(game, learner, shadow_states.flatten(1), shadow_actions.flatten(1, 2))
        learner.update(rollout, self.train_env.obs, it)
        self.iteration += 1
        if not evaluated:
            return None
        success, mean_return = evaluate(game, learner, self.rng, spec.eval_episodes, it)
        s = len(self.seeds)
        return {
            "seed": self.seeds,
            "iteration": np.full(s, it + 1, dtype=np.int64),
            "step": np.full(s, (it + 1) * self.steps * self.envs, dtype=np.int64),
            "success_rate": success.numpy(),
            "joint_tv": joint_tv.numpy(),
            "agent1_tv": agent1_tv.numpy(),
            "joint_tv_on_policy": joint_on.numpy(),
            "agent1_tv_on_policy": agent1_on.numpy(),
            "mean_return": mean_return.numpy(),
        }


def train(spec: RunSpec, seeds: Sequence[int]) -> dict[str, np.ndarray]:
    """Train ``spec`` for every seed in ``seeds`` at once; returns tidy columns (:data:`COLUMNS`),
    one row per (seed, evaluated iteration)."""
    trainer = Trainer(spec, seeds)
    rows = [r for _ in range(spec.iterations) if (r := trainer.run_iteration()) is not None]
    return {c: np.concatenate([r[c] for r in rows]) for c in COLUMNS}
