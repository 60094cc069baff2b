"""Level-Based Foraging through the real ``lbforaging`` 2.0.0 package, as a batched core.

The engine steps whole seed blocks, but LBF's dynamics are the package's own: this core holds
one real ``ForagingEnv`` per (seed, environment) entry and steps them in a Python loop. Nothing
of LBF is re-implemented here.

Facts from ``lbforaging/foraging/environment.py`` (2.0.0) that this wrapper relies on:
- ``step`` draws no random numbers: moves resolve by collision (all movers into one cell
  fail), invalid actions (into walls, agents or food; loading with no adjacent food) become
  no-ops. Randomness is only in ``reset(seed)`` (player and food placement, levels), so seeding
  each reset from the caller's uniforms makes an entry's trajectory a function of its own
  stream alone.
- A load adjacent to food whose level exceeds the summed level of the adjacent loading agents
  fails and each of those agents gets ``-penalty`` (the paper's 0.015 for a lone forage).
  A successful load pays ``level_i * food / (sum of loaders' levels * food spawned)``: 0.5
  each for two equal-level agents and one food, the paper's "0.5 per successful forage".
- The episode ends when all food is collected or after ``max_episode_steps`` steps; the
  package reports ``truncated=False`` either way, so this core derives success (all food
  collected) and truncation (the time limit, with food left) from the field itself.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from lbforaging.foraging.environment import ForagingEnv

from maprops.games.base import StepResult

SEED_RANGE = 2**31 - 1


def _seed(u: float) -> int:
    """One reset seed from one uniform in [0, 1)."""
    return int(u * SEED_RANGE)


class LBFGame:
    random_numbers_per_reset = 1
    random_numbers_per_step = 1  # the seed of an automatic reset

    def __init__(
        self,
        field_size: int,
        max_player_level: int,
        sight: int,
        max_episode_steps: int,
        players: int = 2,
        min_player_level: int = 1,
        min_food_level: int | None = None,
        max_food_level: int | None = None,
        foods: int = 1,
        force_coop: bool = True,
        penalty: float = 0.015,
        name: str = "lbf",
    ):
        if min_player_level > max_player_level:
            raise ValueError(f"min_player_level {min_player_level} > max_player_level {max_player_level}")
        if field_size < 3:
            raise ValueError(f"field_size {field_size}: food spawns away from the edges, so the field needs at least 3x3")
        self.name = name
        self.settings = dict(
            players=players,
            min_player_level=min_player_level,
            max_player_level=max_player_level,
            min_food_level=min_food_level if min_food_level is not None else 1,
            max_food_level=max_food_level,
            field_size=(field_size, field_size),
            max_num_food=foods,
            sight=sight,
            max_episode_steps=max_episode_steps,
            force_coop=force_coop,
            normalize_reward=True,
            grid_observation=False,
            observe_agent_levels=True,
            penalty=penalty,
            render_mode=None,  # never "human": rendering needs a display (pyglet)
        )
        self.n_agents = players
        self.n_actions = (6,) * players  # none, north, south, west, east, load
        self.obs_dim = 3 * foods + 3 * players
        self.max_episode_steps = max_episode_steps
        top_food = max_food_level if max_food_level is not None else max_player_level * min(players, 3)
        self.obs_bounds = (-1.0, float(max(field_size - 1, max_player_level, top_food)))
        self._envs: list[ForagingEnv] = []
        self._batch: tuple[int, int] = (0, 0)

    @property
    def n_joint_actions(self) -> int:
        return math.prod(self.n_actions)

    def _reset_one(self, i: int, u: float) -> np.ndarray:
        obs, _ = self._envs[i].reset(seed=_seed(u))
        return np.stack(obs)

    def reset(self, batch, uniforms) -> torch.Tensor:
        s, e = batch
        if (s, e) != self._batch:
            self._envs = [ForagingEnv(**self.settings) for _ in range(s * e)]
            self._batch = (s, e)
        u = uniforms.reshape(s * e, -1)[:, 0].tolist()
        obs = np.stack([self._reset_one(i, u[i]) for i in range(s * e)])
        return torch.from_numpy(obs).view(s, e, self.n_agents, self.obs_dim)

    def step(self, actions: torch.Tensor, uniforms) -> StepResult:
        s, e = self._batch
        joint = actions.reshape(s * e, self.n_agents).tolist()
        u = uniforms.reshape(s * e, -1)[:, 0].tolist()
        obs = np.zeros((s * e, self.n_agents, self.obs_dim), dtype=np.float32)
        rewards = np.zeros((s * e, self.n_agents), dtype=np.float32)
        done = np.zeros(s * e, dtype=bool)
        success = np.zeros(s * e, dtype=bool)
        for i, env in enumerate(self._envs):
            o, r, ended, _, _ = env.step(joint[i])
            rewards[i] = r
            if ended:
                done[i] = True
                success[i] = env.field.sum() == 0
                obs[i] = self._reset_one(i, u[i])
            else:
                obs[i] = np.stack(o)
        shape = (s, e)
        done_t = torch.from_numpy(done).view(shape)
        success_t = torch.from_numpy(success).view(shape)
        return StepResult(
            obs=torch.from_numpy(obs).view(s, e, self.n_agents, self.obs_dim),
            rewards=torch.from_numpy(rewards).view(s, e, self.n_agents),
            done=done_t,
            success=success_t,
            truncated=done_t & ~success_t,
        )
