"""Level-Based Foraging through the real ``lbforaging`` 2.0.0 package, as a batched core.

The engine steps whole seed blocks, but LBF's dynamics are the package's own: this core holds
one real ``ForagingEnv`` per (seed, environment) entry of the run axis ``[S, E]`` (row-major)
and steps them in a Python loop. Nothing of LBF is re-implemented here.

Observation (``grid_observation=False, observe_agent_levels=True``), per agent, length
``3 * foods + 3 * players``: ``(row, col, level)`` of each food the agent sees, then of each
player it sees, itself first and the others in index order. Coordinates are relative to the
agent's sight window clipped to the field, so with ``sight >= field_size - 1`` they are
absolute. Unseen or collected slots hold ``(-1, -1, 0)``. For 5x5, 2 players, 1 food:
``obs_dim = 9 = [food r, c, lvl, self r, c, lvl, other r, c, lvl]``.

Facts from ``lbforaging/foraging/environment.py`` (2.0.0) that this wrapper relies on:

- Randomness. Only ``reset`` draws from ``np_random`` (player cells and levels, food cells and
  levels); ``step`` draws nothing: a move into a wall or food and a load with no food next to
  it become no-ops, and all agents heading for (or staying in) one cell stay put. So seeding
  each reset from the caller's uniforms makes an entry's trajectory a function of its own
  stream. (``step`` pops loaders from a ``set`` of players, an id-dependent order; it cannot
  matter: a food spawns with no other food in its 3x3 block or within 2 cells on its row or
  column, so no cell touches two foods and each loader belongs to exactly one food.)
- Stale positions. ``reset`` places players with ``_is_empty_location``, which still sees the
  *previous* episode's player positions, so a reused env's ``reset(seed)`` differs from a
  fresh env's (measured: 27 of 200 seeds on 5x5/2p/1f). We clear the positions first, making
  every reset exactly that of a freshly constructed env: a pure function of its seed.
- Rewards (``normalize_reward=True``). A load succeeds when the summed level of the loading
  players adjacent to the food reaches its level; each of them gets
  ``level_i * food_level / (sum of their levels * total food level spawned)``: 0.5 each for
  two equal-level players and one food, the paper's "0.5 per successful forage".
- Penalty. A load that falls short gives ``-penalty`` to each player that chose load next to
  that food, and to nobody else; loading with no adjacent food is a free no-op. With
  ``force_coop`` (food level = ``max_food_level``, by default the sum of the players' levels)
  a lone load always falls short, so the paper's "-0.015 for foraging alone" goes to the
  lone loader only (its §6 phrase "both agents receive a penalty" is not what the package does).
- Termination. ``step`` returns ``done = (all food collected) or (step count >=
  max_episode_steps)`` and always ``truncated=False``. This core therefore derives
  ``success`` = the episode ended with no food left (collecting the last food on the final
  step counts as success) and ``truncated`` = it ended by the time limit with food left.
"""

from __future__ import annotations

import numpy as np
import torch
from lbforaging.foraging.environment import ForagingEnv

from maprops.games.base import JointActionCount, StepResult
from maprops.games.instances import InstancePerEntry
from maprops.kinds.lbf import LBFParams

N_ACTIONS = 6  # 0 none, 1 north, 2 south, 3 west, 4 east, 5 load
LOAD = 5


def reset_fresh(env: ForagingEnv, seed: int) -> np.ndarray:
    """``env.reset(seed)`` as on a freshly built env (no stale player positions); ``[N, obs_dim]``."""
    for player in env.players:
        player.position = None
    obs, _ = env.reset(seed=seed)
    return np.stack(obs)


class LBFGame(InstancePerEntry, JointActionCount):
    """Batched LBF core; see the module docstring for the observation and the package facts."""

    cooperative_label = "load"

    def __init__(
        self,
        *,
        field_size: int,
        players: int = 2,
        max_player_level: int,
        min_player_level: int = 1,
        max_food_level: int | None,
        min_food_level: int | None = None,
        foods: int = 1,
        sight: int,
        max_episode_steps: int,
        force_coop: bool = True,
        penalty: float = 0.015,
        name: str = "lbf",
    ):
        LBFParams(  # the specs' rules are the core's rules: one place decides what is valid
            field_size=field_size,
            players=players,
            min_player_level=min_player_level,
            max_player_level=max_player_level,
            min_food_level=min_food_level,
            max_food_level=max_food_level,
            foods=foods,
            sight=sight,
            max_episode_steps=max_episode_steps,
            force_coop=force_coop,
            penalty=penalty,
        )
        super().__init__()
        self.name = name
        # Everything ForagingEnv is built with; a plain env with these settings is the reference.
        self.settings = dict(
            players=players,
            min_player_level=min_player_level,
            max_player_level=max_player_level,
            # Unused under force_coop (food level = max); otherwise 1 keeps the package's range.
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
        self.n_actions = (N_ACTIONS,) * players
        self.obs_dim = 3 * foods + 3 * players
        self.max_episode_steps = max_episode_steps
        # The package's own observation-space bounds: coordinates -1..field_size-1, levels
        # 0..max level (a food's default maximum is the sum of the 3 highest player levels).
        top_food = max_food_level if max_food_level is not None else max_player_level * min(players, 3)
        self.obs_bounds = (-1.0, float(max(field_size - 1, max_player_level, top_food)))

    def _reset_one(self, env: ForagingEnv, seed: int) -> np.ndarray:
        """A fresh reset. The package gives up placing food after 1000 tries without a word
        (food needs an empty interior cell with no food near it; on a 3x3 field a player can
        take the only one), which would quietly change the task, so that is an error here."""
        obs = reset_fresh(env, seed)
        placed = np.count_nonzero(env.field)
        if placed < env.max_num_food:
            raise ValueError(
                f"{self.name}: placed only {placed} of {env.max_num_food} foods (seed {seed}); "
                "food needs free space around it: use fewer foods or a larger field"
            )
        return obs

    def reset(self, batch, uniforms) -> torch.Tensor:
        """New episodes for ``batch = (S, E)``; entry ``i`` is seeded by its uniform alone."""
        s, e = self._instances(batch, lambda: ForagingEnv(**self.settings))
        seeds = self._seeds((s, e), uniforms, self.random_numbers_per_reset, "reset")
        obs = np.stack([self._reset_one(env, seed) for env, seed in zip(self.envs, seeds)])
        return torch.from_numpy(obs).view(s, e, self.n_agents, self.obs_dim)

    def step(self, actions: torch.Tensor, uniforms) -> StepResult:
        """One ``ForagingEnv.step`` per entry; an ended entry restarts from its step uniform."""
        s, e = self._step_batch(actions)
        seeds = self._seeds((s, e), uniforms, self.random_numbers_per_step, "step")
        joint = actions.reshape(s * e, self.n_agents).tolist()
        obs = np.empty((s * e, self.n_agents, self.obs_dim), dtype=np.float32)
        rewards = np.empty((s * e, self.n_agents), dtype=np.float32)
        done = np.zeros(s * e, dtype=bool)
        success = np.zeros(s * e, dtype=bool)
        loaded = np.zeros(s * e, dtype=np.float32)  # foods collected on this step
        lone = np.zeros((s * e, self.n_agents), dtype=np.float32)  # loads that fell short
        for i, env in enumerate(self.envs):
            # A load reaches the package's loading code iff food is adjacent (else it is a no-op).
            tries = [a == LOAD and env.adjacent_food(*p.position) > 0 for a, p in zip(joint[i], env.players)]
            foods = np.count_nonzero(env.field)
            o, r, ended, _, _ = env.step(joint[i])
            rewards[i] = r
            loaded[i] = foods - np.count_nonzero(env.field)
            lone[i] = [tried and reward <= 0 for tried, reward in zip(tries, r)]  # a successful load pays > 0
            if ended:
                done[i] = True
                success[i] = not env.field.any()
                obs[i] = self._reset_one(env, seeds[i])
            else:
                obs[i] = np.stack(o)
        done_t = torch.from_numpy(done).view(s, e)
        success_t = torch.from_numpy(success).view(s, e)
        return StepResult(
            obs=torch.from_numpy(obs).view(s, e, self.n_agents, self.obs_dim),
            rewards=torch.from_numpy(rewards).view(s, e, self.n_agents),
            done=done_t,
            success=success_t,
            truncated=done_t & ~success_t,
            events={"joint": torch.from_numpy(loaded).view(s, e), "lone": torch.from_numpy(lone).view(s, e, self.n_agents)},
        )

    def cooperative_actions(self) -> torch.Tensor:
        """``[1, 1, N, 6]`` bool: every agent's load action (``maprops premise``)."""
        mask = torch.zeros(1, 1, self.n_agents, N_ACTIONS, dtype=torch.bool)
        mask[..., LOAD] = True
        return mask
