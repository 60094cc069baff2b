"""Boulder-push: a cooperative pushing game on a grid, as a batched, stochastic game core.

Rules (the paper's boulder-push task; every choice the paper leaves open is marked *choice*):

- The world is an ``height x width`` grid. Agents act with 0 = N (up), 1 = S (down),
  2 = W (left), 3 = E (right); there is no no-op (*choice*: the four moves only).
- The boulder is ``n_agents`` cells in a line perpendicular to its push direction ``d``: a
  horizontal bar (one row, ``n_agents`` columns) when ``d`` is N or S, a vertical bar when
  ``d`` is W or E. ``d`` is drawn uniformly from N, S, W, E at reset and never changes.
- Reset (``random_numbers_per_reset = 2 + n_agents`` uniforms per env): uniform 0 picks ``d``
  (``floor(4u)``); uniform 1 picks the boulder's top-left cell uniformly among the placements
  that keep every boulder cell at least one cell from every edge (so the boulder never starts
  at its goal and the cells behind it are on the grid); uniform ``2 + i`` places agent ``i``
  uniformly on the free cells (not boulder, not an earlier agent), cells counted row-major.
- Joint push: when the ``n_agents`` cells directly behind the boulder (one cell opposite ``d``
  from each boulder cell) are all occupied by agents AND every agent chooses ``d``, the
  boulder and every agent move one cell in ``d`` and each agent gets ``push_reward``.
- Otherwise agents move one at a time in a random order (``argsort`` of the step's first
  ``n_agents`` uniforms, *choice*). A move off the grid or into a cell held by another agent
  (at that moment of the sequence, so an agent may follow one that has just moved away)
  fails silently; a move into a boulder cell fails and only THAT agent gets ``-penalty``
  (*choice*: the lone pusher alone is penalized, its teammates are not).
- Goal: the boulder's leading side reaches the last row/column in direction ``d`` (e.g. its
  row is 0 for ``d`` = N). The episode then ends as a success and each agent additionally
  gets ``goal_reward`` on that step (on top of that step's ``push_reward``).
- Time limit: after ``max_episode_steps`` steps without success the episode ends truncated.
  Finished episodes restart inside :meth:`BoulderPushGame.step` from the step's remaining
  uniforms, so ``random_numbers_per_step = n_agents + random_numbers_per_reset``; the reset
  uniforms are consumed on every step (and ignored where no episode ended), which keeps an
  entry's trajectory a function of its own stream.
- Observation of agent ``i`` (``obs_dim = 4 + 2 * (2 * sight + 1) ** 2``, entries in {0, 1}):
  the one-hot push direction ``d`` (4), then the egocentric ``(2 sight + 1)^2`` window centred
  on the agent of the OTHER agents' occupancy layer, then the same window of the boulder
  layer, both row-major and zero-padded off the grid (*choice*: agents are anonymous in the
  window; the agent's own position is implicit as the window centre).

Everything is vectorized over the run axis ``[S, E]``; only agents, the four directions and
the boulder's cells are looped over. Randomness comes only from the uniforms passed in.
"""

from __future__ import annotations

import torch

from maprops.games.base import JointActionCount, StepResult
from maprops.kinds.boulderpush import BoulderPushParams

# Action order: N (up), S (down), W (left), E (right) as (row, column) deltas.
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))
N_DIRECTIONS = len(MOVES)


class BoulderPushGame(JointActionCount):
    obs_bounds = (0.0, 1.0)
    cooperative_label = "a move in the push direction"

    def __init__(
        self,
        *,
        height: int,
        width: int,
        n_agents: int = 2,
        push_reward: float,
        penalty: float,
        goal_reward: float = 0.0,
        sight: int,
        max_episode_steps: int,
        name: str = "boulderpush",
    ):
        BoulderPushParams(  # the specs' rules are the core's rules: one place decides what is valid
            height=height,
            width=width,
            n_agents=n_agents,
            push_reward=push_reward,
            penalty=penalty,
            goal_reward=goal_reward,
            sight=sight,
            max_episode_steps=max_episode_steps,
        )
        self.name = name
        self.height = height
        self.width = width
        self.n_agents = n_agents
        self.n_actions = (N_DIRECTIONS,) * n_agents
        self.push_reward = float(push_reward)
        self.penalty = float(penalty)
        self.goal_reward = float(goal_reward)
        self.sight = sight
        self.window = 2 * sight + 1
        self.obs_dim = N_DIRECTIONS + 2 * self.window**2
        self.max_episode_steps = max_episode_steps
        self.random_numbers_per_reset = 2 + n_agents
        self.random_numbers_per_step = n_agents + self.random_numbers_per_reset
        self.moves = torch.tensor(MOVES, dtype=torch.int64)  # [4, 2]
        # Offsets of the boulder's cells from its top-left cell, per direction: [4, N, 2].
        line = torch.arange(n_agents)
        zeros = torch.zeros(n_agents, dtype=torch.int64)
        horizontal = torch.stack([zeros, line], -1)
        vertical = torch.stack([line, zeros], -1)
        self.boulder_offsets = torch.stack([horizontal, horizontal, vertical, vertical])
        # Valid top-left placements per direction (rows, cols), each range starting at 1.
        self.placements = torch.tensor(
            [[height - 2, width - n_agents - 1]] * 2 + [[height - n_agents - 1, width - 2]] * 2, dtype=torch.int64
        )
        # Window offsets (row, col) in row-major order: [window**2, 2].
        span = torch.arange(-sight, sight + 1)
        self.window_offsets = torch.stack(torch.meshgrid(span, span, indexing="ij"), -1).reshape(-1, 2)
        self._pos = self._boulder = self._dir = self._t = None

    # --- state helpers -----------------------------------------------------------------
    def boulder_cells(self, boulder: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
        """Top-left ``[..., 2]`` and direction ``[...]`` -> the boulder's cells ``[..., N, 2]``."""
        return boulder.unsqueeze(-2) + self.boulder_offsets[direction]

    def at_goal(self, boulder: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
        """Whether the boulder's leading side touches the grid edge in its push direction."""
        row, col = boulder[..., 0], boulder[..., 1]
        # N/S bars occupy one row and W/E bars one column, so the top-left cell's row (column)
        # is the leading side's row (column).
        reached = torch.stack([row == 0, row == self.height - 1, col == 0, col == self.width - 1], -1)
        return reached.gather(-1, direction.unsqueeze(-1)).squeeze(-1)

    def _sample_start(self, batch, uniforms: torch.Tensor):
        s, e = batch
        if uniforms is None:
            raise ValueError(f"{self.name} reset needs {self.random_numbers_per_reset} uniforms per env")
        u = uniforms.reshape(s, e, self.random_numbers_per_reset).to(torch.float64)
        direction = (u[..., 0] * N_DIRECTIONS).long().clamp(0, N_DIRECTIONS - 1)
        rows, cols = self.placements[direction].unbind(-1)
        k = (u[..., 1] * (rows * cols)).long().clamp(max=rows * cols - 1)
        boulder = torch.stack([1 + k // cols, 1 + k % cols], -1)
        cells = self.height * self.width
        occupied = torch.zeros(s, e, cells, dtype=torch.bool)
        flat = self._flat(self.boulder_cells(boulder, direction))  # [S, E, N]
        occupied.scatter_(-1, flat, True)
        agents = []
        for i in range(self.n_agents):
            free_count = cells - self.n_agents - i
            pick = (u[..., 2 + i] * free_count).long().clamp(max=free_count - 1)  # [S, E]
            free = ~occupied
            chosen = free & (free.long().cumsum(-1) == (pick + 1).unsqueeze(-1))
            cell = chosen.long().argmax(-1)  # [S, E]
            occupied.scatter_(-1, cell.unsqueeze(-1), True)
            agents.append(torch.stack([cell // self.width, cell % self.width], -1))
        return torch.stack(agents, -2), boulder, direction

    def _flat(self, cells: torch.Tensor) -> torch.Tensor:
        return cells[..., 0] * self.width + cells[..., 1]

    # --- observations ------------------------------------------------------------------
    def observe(self, pos: torch.Tensor, boulder: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
        """State -> observations ``[S, E, N, obs_dim]`` (see the module docstring)."""
        s, e, n, _ = pos.shape
        p = self.sight
        hp, wp = self.height + 2 * p, self.width + 2 * p
        agents_layer = torch.zeros(s, e, hp * wp)
        boulder_layer = torch.zeros(s, e, hp * wp)
        padded = lambda cells: (cells[..., 0] + p) * wp + cells[..., 1] + p  # noqa: E731
        agents_layer.scatter_(-1, padded(pos), 1.0)
        boulder_layer.scatter_(-1, padded(self.boulder_cells(boulder, direction)), 1.0)
        # Window cells of every agent, in padded coordinates: [S, E, N * window**2].
        cells = pos.unsqueeze(-2) + self.window_offsets  # [S, E, N, w*w, 2]
        index = padded(cells).reshape(s, e, -1)
        others = agents_layer.gather(-1, index).reshape(s, e, n, -1)
        others[..., self.window**2 // 2] = 0.0  # the centre is the observing agent itself
        rocks = boulder_layer.gather(-1, index).reshape(s, e, n, -1)
        heading = torch.nn.functional.one_hot(direction, N_DIRECTIONS).float()
        heading = heading.unsqueeze(-2).expand(s, e, n, N_DIRECTIONS)
        return torch.cat([heading, others, rocks], -1)

    def _obs(self) -> torch.Tensor:
        return self.observe(self._pos, self._boulder, self._dir)

    # --- API ---------------------------------------------------------------------------
    def reset(self, batch, uniforms) -> torch.Tensor:
        self._pos, self._boulder, self._dir = self._sample_start(batch, uniforms)
        self._t = torch.zeros(*batch, dtype=torch.int64)
        return self._obs()

    def set_state(self, agent_pos: torch.Tensor, boulder_pos: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
        """Put every entry into a given state (step counter 0); for tests. ``agent_pos
        [S, E, N, 2]`` (row, col), ``boulder_pos [S, E, 2]`` the boulder's top-left cell,
        ``direction [S, E]``. Returns the observations."""
        self._pos = torch.as_tensor(agent_pos, dtype=torch.int64).clone()
        self._boulder = torch.as_tensor(boulder_pos, dtype=torch.int64).clone()
        self._dir = torch.as_tensor(direction, dtype=torch.int64).clone()
        self._t = torch.zeros(self._dir.shape, dtype=torch.int64)
        return self._obs()

    def step(self, actions: torch.Tensor, uniforms) -> StepResult:
        pos, boulder, direction = self._pos, self._boulder, self._dir
        s, e, n, _ = pos.shape
        if uniforms is None:
            raise ValueError(f"{self.name} step needs {self.random_numbers_per_step} uniforms per env")
        u = uniforms.reshape(s, e, self.random_numbers_per_step).to(torch.float64)
        actions = actions.to(torch.int64).reshape(s, e, n)
        delta = self.moves[direction]  # [S, E, 2]
        rock = self.boulder_cells(boulder, direction)  # [S, E, N, 2]

        # Joint push: every cell behind the boulder holds an agent and everyone pushes.
        behind = rock - delta.unsqueeze(-2)
        covered = (pos.unsqueeze(-3) == behind.unsqueeze(-2)).all(-1).any(-1).all(-1)  # [S, E]
        push = covered & (actions == direction.unsqueeze(-1)).all(-1)

        # Otherwise: one agent at a time in a random order.
        order = torch.argsort(u[..., :n], dim=-1, stable=True)  # [S, E, N]
        moved = pos.clone()
        bumps = torch.zeros(s, e, n)
        for k in range(n):
            who = order[..., k]  # [S, E]
            at = moved.gather(2, who[..., None, None].expand(s, e, 1, 2)).squeeze(2)
            act = actions.gather(2, who.unsqueeze(-1)).squeeze(-1)
            target = at + self.moves[act]
            on_grid = (
                (target[..., 0] >= 0) & (target[..., 0] < self.height) & (target[..., 1] >= 0) & (target[..., 1] < self.width)
            )
            blocked = (moved == target.unsqueeze(-2)).all(-1).any(-1)
            hits_rock = (rock == target.unsqueeze(-2)).all(-1).any(-1)
            ok = on_grid & ~blocked & ~hits_rock
            moved.scatter_(2, who[..., None, None].expand(s, e, 1, 2), torch.where(ok.unsqueeze(-1), target, at).unsqueeze(2))
            bumps.scatter_add_(2, who.unsqueeze(-1), (hits_rock & ~push).float().unsqueeze(-1))

        new_pos = torch.where(push[..., None, None], pos + delta.unsqueeze(-2), moved)
        new_boulder = torch.where(push.unsqueeze(-1), boulder + delta, boulder)
        success = push & self.at_goal(new_boulder, direction)
        rewards = (
            self.push_reward * push.float().unsqueeze(-1)
            + self.goal_reward * success.float().unsqueeze(-1)
            - self.penalty * bumps
        ).float()

        t = self._t + 1
        truncated = (t >= self.max_episode_steps) & ~success
        done = success | truncated
        fresh_pos, fresh_boulder, fresh_dir = self._sample_start((s, e), u[..., n:])
        self._pos = torch.where(done[..., None, None], fresh_pos, new_pos)
        self._boulder = torch.where(done.unsqueeze(-1), fresh_boulder, new_boulder)
        self._dir = torch.where(done, fresh_dir, direction)
        self._t = torch.where(done, 0, t)
        # Read-only event counts (maprops premise): joint pushes, and each agent's penalized bumps.
        events = {"joint": push.float(), "lone": bumps}
        return StepResult(obs=self._obs(), rewards=rewards, done=done, success=success, truncated=truncated, events=events)

    def cooperative_actions(self) -> torch.Tensor:
        """``[S, E, N, 4]`` bool: every agent's move in the boulder's push direction, the only
        move that can take part in a joint push (``maprops premise``)."""
        s, e = self._dir.shape
        heading = torch.nn.functional.one_hot(self._dir, N_DIRECTIONS).bool()
        return heading.unsqueeze(-2).expand(s, e, self.n_agents, N_DIRECTIONS)
