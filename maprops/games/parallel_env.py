"""PettingZoo ``ParallelEnv`` view of any batched game core, for interoperability and tests.

Training never goes through this adapter (it steps whole seed blocks of the core directly);
it exists so that every game is also a standard PettingZoo environment that passes
``parallel_api_test`` and ``parallel_seed_test``. All randomness comes from a per-seed stream
chosen at ``reset(seed=...)`` (see :mod:`maprops.rng`), so a seeded reset replays exactly.
"""

from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv

from maprops.rng import SeedStreams


class GameParallelEnv(ParallelEnv):
    metadata = {"name": "maprops_game", "render_modes": []}
    render_mode = None

    def __init__(self, core, name: str = "game"):
        self.core = core
        self.metadata = {"name": name, "render_modes": []}
        self.possible_agents = [f"agent_{i}" for i in range(core.n_agents)]
        self.agents: list[str] = []
        low, high = core.obs_bounds
        self._obs_spaces = {
            a: spaces.Box(low=low, high=high, shape=(core.obs_dim,), dtype=np.float32) for a in self.possible_agents
        }
        self._act_spaces = {a: spaces.Discrete(k) for a, k in zip(self.possible_agents, core.n_actions)}
        self._streams = SeedStreams([0])
        self._episode = 0
        self._t = 0
        self._obs = None

    def observation_space(self, agent):
        return self._obs_spaces[agent]

    def action_space(self, agent):
        return self._act_spaces[agent]

    def _uniforms(self, kind: int, count: int):
        return self._streams.uniform((kind, self._episode, self._t), (1, count)) if count else None

    def _obs_dict(self):
        obs = self._obs[0, 0].numpy().astype(np.float32)
        return {a: obs[i] for i, a in enumerate(self.possible_agents)}

    def reset(self, seed=None, options=None):
        if seed is not None:
            self._streams = SeedStreams([int(seed)])
            self._episode = 0
        self._episode += 1
        self._t = 0
        for space in (*self._obs_spaces.values(), *self._act_spaces.values()):
            space.seed(seed)
        self.agents = list(self.possible_agents)
        self._obs = self.core.reset((1, 1), self._uniforms(0, self.core.random_numbers_per_reset))
        return self._obs_dict(), {a: {} for a in self.agents}

    def step(self, actions):
        joint = torch.tensor([[[int(actions[a]) for a in self.possible_agents]]])
        result = self.core.step(joint, self._uniforms(1, self.core.random_numbers_per_step))
        self._t += 1
        self._obs = result.obs
        done = bool(result.done[0, 0])
        truncated = bool(result.truncated[0, 0])
        rewards = {a: float(result.rewards[0, 0, i]) for i, a in enumerate(self.possible_agents)}
        terminations = {a: done and not truncated for a in self.possible_agents}
        truncations = {a: truncated for a in self.possible_agents}
        infos = {a: {"success": bool(result.success[0, 0])} if done else {} for a in self.possible_agents}
        observations = self._obs_dict()
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos
