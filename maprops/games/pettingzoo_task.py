"""A PettingZoo ``ParallelEnv`` task as a batched core: the other direction of
:mod:`maprops.games.parallel_env` (which shows our cores as ParallelEnvs).

The core holds one instance of the configured environment per run-axis entry and steps them in
a loop (:mod:`maprops.games.instances`): each reset is ``env.reset(seed=...)`` with a seed drawn
from the entry's own stream, so the task must draw all of its randomness from the generator that
a seeded reset sets (PettingZoo's ``parallel_seed_test`` checks exactly that; the tests run it on
every shipped task).

What the engine sees:

- Agents: ``possible_agents``, in that order; agent ``i`` of the engine is the ``i``-th. All act
  on every step: an episode ends for all of them at once. A task whose agents leave at different
  steps is refused at the step where it happens (the engine has a fixed agent axis).
- Actions: engine action ``k`` is the env's ``start + k`` (Discrete spaces, one count for all).
  With Box spaces (one shape and bounds for all) the engine's actions are float vectors
  ``[S, E, N, A]`` drawn from Gaussian policies, unclipped; the core clips each to the Box's
  bounds (float32) before ``env.step``, as CleanRL's ``ClipAction`` wrapper does.
- Observations: each agent's observation flattened to a float32 vector
  (``gymnasium.spaces.flatten``: a Box as is, a Discrete one-hot).
- Rewards: each agent's own reward, as the env pays it (the MAPPO critic has one value per agent).
  A cooperative task pays a shared reward itself (simple_spread's global part, weighted by
  ``1 - local_ratio``).
- Episode end: every agent terminated or truncated, or ``max_episode_steps`` steps, whichever
  comes first. ``truncated`` = the episode ended without the env terminating it.
- Success: the spec's declared rule (:class:`maprops.kinds.package_tasks.SuccessRule`) at the end of
  the episode, from the env's termination and the team return (sum over steps of the mean of the
  agents' rewards).
- Sampling error: the KL estimator (paper App. C); the joint states are not enumerable.

No cooperative action is declared, so ``maprops premise`` skips these games.

Snapshots (:mod:`maprops.checkpoint`) pickle the core mid-episode, but a live instance does not
pickle in general (mpe2's pickling builds a fresh env and loses the episode). The core therefore
keeps, per entry, the seed of the current episode's reset and the actions since (the env's
actions: ints, or the clipped float32 arrays, which pickle bit for bit), and a loaded core
replays them: the same requirement as above, that a seeded rollout repeats exactly.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces

from maprops.games.base import JointActionCount, StepResult
from maprops.games.instances import InstancePerEntry
from maprops.kinds.pettingzoo import PettingZooParams, SuccessRule, describe, make_env


class AgentsOutOfStep(RuntimeError):
    """The task ended some agents' episode but not the others'."""


class PettingZooGame(InstancePerEntry, JointActionCount):
    """Batched core over instances of one ParallelEnv; see the module docstring."""

    def __init__(self, *, env: str, kwargs: dict, max_episode_steps: int, success: SuccessRule | dict, name: str = "pettingzoo"):
        params = PettingZooParams(env=env, kwargs=kwargs, max_episode_steps=max_episode_steps, success=success)
        super().__init__()
        self.name = name
        self.env, self.kwargs, self.success = params.env, dict(params.kwargs), params.success
        shape = describe(self.env, self.kwargs)
        self.agents = shape.agents
        self.n_agents = len(shape.agents)
        self.action_start = shape.action_start
        if shape.continuous:
            self.n_actions = None  # no count: Box actions
            self.action_dim = shape.action_dim
            self.action_bounds = shape.action_bounds  # (low, high), A floats each
            self._low, self._high = (np.asarray(b, dtype=np.float32) for b in shape.action_bounds)
        else:
            self.n_actions = (shape.n_actions,) * self.n_agents
        self.obs_dim = shape.obs_dim
        self.obs_bounds = shape.obs_bounds
        self.max_episode_steps = max_episode_steps
        self._obs_spaces: dict | None = None  # each agent's observation space, read off the first instance
        self._t = np.zeros(0, dtype=np.int64)  # steps into the current episode, per entry
        self._return = np.zeros(0, dtype=np.float64)  # team return so far, per entry
        self._episodes: list = []  # per entry: (reset seed, env actions since), for snapshots

    def _observe(self, obs: dict) -> np.ndarray:
        """One entry's observations ``[N, obs_dim]`` (float32), agents in ``possible_agents`` order."""
        return np.stack([spaces.flatten(self._obs_spaces[a], obs[a]) for a in self.agents]).astype(np.float32, copy=False)

    def _reset_one(self, i: int, seed: int) -> np.ndarray:
        obs, _ = self.envs[i].reset(seed=seed)
        self._episodes[i] = (seed, [])
        return self._observe(obs)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "envs": []}

    def __setstate__(self, state: dict) -> None:
        """Rebuild the instances and replay each entry's episode so far (see the module docstring)."""
        self.__dict__.update(state)
        self.envs = [make_env(self.env, self.kwargs) for _ in self._episodes]
        for instance, (seed, actions) in zip(self.envs, self._episodes):
            instance.reset(seed=seed)
            for joint in actions:
                instance.step(dict(zip(self.agents, joint)))

    def reset(self, batch, uniforms) -> torch.Tensor:
        """New episodes for ``batch = (S, E)``; entry ``i`` is seeded by its uniform alone."""
        s, e = self._instances(batch, lambda: make_env(self.env, self.kwargs))
        seeds = self._seeds((s, e), uniforms, self.random_numbers_per_reset, "reset")
        self._obs_spaces = {a: self.envs[0].observation_space(a) for a in self.agents}
        self._t = np.zeros(s * e, dtype=np.int64)
        self._return = np.zeros(s * e, dtype=np.float64)
        self._episodes = [None] * (s * e)  # filled by _reset_one
        obs = np.stack([self._reset_one(i, seed) for i, seed in enumerate(seeds)])
        return torch.from_numpy(obs).view(s, e, self.n_agents, self.obs_dim)

    def _ended(self, terminations: dict, truncations: dict, i: int) -> tuple[bool, bool]:
        """(episode over, ended by the env's termination) after entry ``i``'s step."""
        over = [bool(terminations.get(a, False) or truncations.get(a, False)) for a in self.agents]
        if any(over) and not all(over):
            left = [a for a, o in zip(self.agents, over) if o]
            raise AgentsOutOfStep(
                f"{self.name}: {self.env} ended the episode of {left} but not of every agent; "
                "this kind needs all agents to act until the episode ends"
            )
        terminated = all(bool(terminations.get(a, False)) for a in self.agents)
        return all(over) or bool(self._t[i] >= self.max_episode_steps), terminated

    def _env_actions(self, actions: torch.Tensor, entries: int) -> list:
        """The engine's actions as each entry's env actions: per entry a list of ints, or an
        ``[N, A]`` float32 array clipped to the Box's bounds."""
        if self.action_dim is None:
            return (actions.reshape(entries, self.n_agents) + self.action_start).tolist()
        flat = actions.detach().reshape(entries, self.n_agents, self.action_dim).numpy()
        return list(np.clip(flat, self._low, self._high).astype(np.float32))

    @property
    def n_joint_actions(self) -> int:
        if self.n_actions is None:
            raise AttributeError(f"{self.name}: continuous actions have no joint-action count")
        return super().n_joint_actions

    def step(self, actions: torch.Tensor, uniforms) -> StepResult:
        """One ``env.step`` per entry; an ended entry restarts from its step uniform."""
        s, e = self._step_batch(actions)
        seeds = self._seeds((s, e), uniforms, self.random_numbers_per_step, "step")
        joint = self._env_actions(actions, s * e)
        obs = np.empty((s * e, self.n_agents, self.obs_dim), dtype=np.float32)
        rewards = np.empty((s * e, self.n_agents), dtype=np.float32)
        done = np.zeros(s * e, dtype=bool)
        success = np.zeros(s * e, dtype=bool)
        truncated = np.zeros(s * e, dtype=bool)
        for i, instance in enumerate(self.envs):
            o, r, terminations, truncations, _ = instance.step(dict(zip(self.agents, joint[i])))
            self._episodes[i][1].append(joint[i])
            rewards[i] = [r[a] for a in self.agents]
            self._t[i] += 1
            self._return[i] += float(np.mean(rewards[i], dtype=np.float64))
            done[i], terminated = self._ended(terminations, truncations, i)
            if done[i]:
                success[i] = self.success.solved(terminated, self._return[i])
                truncated[i] = not terminated
                self._t[i], self._return[i] = 0, 0.0
                obs[i] = self._reset_one(i, seeds[i])
            else:
                obs[i] = self._observe(o)
        return StepResult(
            obs=torch.from_numpy(obs).view(s, e, self.n_agents, self.obs_dim),
            rewards=torch.from_numpy(rewards).view(s, e, self.n_agents),
            done=torch.from_numpy(done).view(s, e),
            success=torch.from_numpy(success).view(s, e),
            truncated=torch.from_numpy(truncated).view(s, e),
        )
