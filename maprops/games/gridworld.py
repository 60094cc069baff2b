"""The paper's coordination GridWorld (§6, Fig. 3a) as a batched, deterministic game core.

Agents walk on a ``size x size`` grid (actions up/down/left/right, a move into a wall leaves
the agent in place, agents never block each other). Cells are numbered row-major from the
top-left, so cell 0 is the top-left corner and ``size**2 - 1`` the bottom-right one.

Rewards (paper §6), shared by all agents:
- ``team_reward`` (0.9) when every agent enters the team cell (top-left) on the same step;
- ``lone_penalty`` (-0.1) when some but not all agents do;
- ``distractor_reward`` (0.1) when any agent enters the distractor cell (bottom-right);
events on the same step add up. Entering either reward cell ends the episode, as in the
authors' single-agent GridWorld (docs/implementation.md#gridworld); so does the time limit.

Because the game is finite and deterministic, the exact joint state visitation of the target
policies -- what the TV sampling error compares a buffer with -- follows from dynamic
programming over the joint states (:meth:`GridWorldGame.state_distribution`).
"""

from __future__ import annotations

import torch

from maprops.games.base import JointActionCount, StepResult
from maprops.joint_actions import decode_joint, joint_log_probs

# Action order: up, down, left, right (row, column deltas).
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))


class GridWorldGame(JointActionCount):
    random_numbers_per_step = 0
    random_numbers_per_reset = 0
    obs_bounds = (0.0, 1.0)
    cooperative_label = "a move toward the team cell"

    def __init__(
        self,
        size: int,
        starts: tuple[int, ...],
        team_cell: int,
        distractor_cell: int,
        team_reward: float,
        lone_penalty: float,
        distractor_reward: float,
        max_episode_steps: int,
        name: str = "gridworld",
    ):
        cells = size * size
        for label, cell in (("team_cell", team_cell), ("distractor_cell", distractor_cell), *(("start", c) for c in starts)):
            if not 0 <= cell < cells:
                raise ValueError(f"{label} {cell} is off a {size}x{size} grid (cells 0..{cells - 1})")
        if team_cell == distractor_cell or any(c in (team_cell, distractor_cell) for c in starts):
            raise ValueError("the team cell, the distractor cell and the start cells must differ")
        self.name = name
        self.size = size
        self.n_agents = len(starts)
        self.n_actions = (len(MOVES),) * self.n_agents
        self.obs_dim = self.n_agents * cells
        self.max_episode_steps = max_episode_steps
        self.starts = torch.tensor(starts, dtype=torch.int64)
        self.team_cell = team_cell
        self.distractor_cell = distractor_cell
        self.team_reward = team_reward
        self.lone_penalty = lone_penalty
        self.distractor_reward = distractor_reward
        self.n_states = cells**self.n_agents
        self.moves = self._move_table()
        self._pos = self._t = None
        # Every agent's own-first observation order: agent i sees (i, i+1, ..., i-1).
        self._views = torch.tensor([[(i + j) % self.n_agents for j in range(self.n_agents)] for i in range(self.n_agents)])

    def _move_table(self) -> torch.Tensor:
        """``[cells, actions]`` -> the cell reached, walls blocking."""
        table = torch.zeros(self.size * self.size, len(MOVES), dtype=torch.int64)
        for cell in range(self.size * self.size):
            row, col = divmod(cell, self.size)
            for a, (dr, dc) in enumerate(MOVES):
                r, c = min(max(row + dr, 0), self.size - 1), min(max(col + dc, 0), self.size - 1)
                table[cell, a] = r * self.size + c
        return table

    def observe(self, pos: torch.Tensor) -> torch.Tensor:
        """Positions ``[..., N]`` -> observations ``[..., N, N * cells]``: each agent sees the
        one-hot cells of all agents, its own first (assumption: full observability, §6 silent)."""
        one_hot = torch.nn.functional.one_hot(pos, self.size * self.size).float()  # [..., N, cells]
        return one_hot[..., self._views, :].flatten(-2)

    def reset(self, batch, uniforms=None) -> torch.Tensor:
        s, e = batch
        self._pos = self.starts.expand(s, e, -1).clone()
        self._t = torch.zeros(s, e, dtype=torch.int64)
        return self.observe(self._pos)

    def outcome(self, pos: torch.Tensor):
        """Shared reward, whether the episode ends, and whether it is a success, for agents that
        have just moved to ``pos [..., N]``."""
        at_team = (pos == self.team_cell).sum(-1)
        everyone = at_team == self.n_agents
        lone = (at_team > 0) & ~everyone
        distracted = (pos == self.distractor_cell).any(-1)
        reward = self.team_reward * everyone + self.lone_penalty * lone + self.distractor_reward * distracted
        return reward.float(), (at_team > 0) | distracted, everyone

    def step(self, actions: torch.Tensor, uniforms=None) -> StepResult:
        pos = self.moves[self._pos, actions]
        reward, terminal, success = self.outcome(pos)
        at_team = pos == self.team_cell  # [S, E, N]
        t = self._t + 1
        truncated = (t >= self.max_episode_steps) & ~terminal
        done = terminal | truncated
        self._pos = torch.where(done.unsqueeze(-1), self.starts, pos)
        self._t = torch.where(done, 0, t)
        return StepResult(
            obs=self.observe(self._pos),
            rewards=reward.unsqueeze(-1).expand(*reward.shape, self.n_agents).clone(),
            done=done,
            success=success,
            truncated=truncated,
            events={"joint": success.float(), "lone": (at_team & ~success.unsqueeze(-1)).float()},
        )

    def cooperative_actions(self) -> torch.Tensor:
        """``[S, E, N, 4]`` bool: the moves that take each agent strictly closer (in grid steps)
        to the team cell from where it stands now -- up and left from the centre of the shipped
        3x3 grid, one of them on the top row or left column (``maprops premise``)."""
        cells = torch.arange(self.size * self.size)
        row, col = cells // self.size, cells % self.size
        team_row, team_col = divmod(self.team_cell, self.size)
        distance = (row - team_row).abs() + (col - team_col).abs()  # [cells]
        return distance[self.moves[self._pos]] < distance[self._pos].unsqueeze(-1)

    # --- what the exact TV metric needs -------------------------------------------------
    def state_index(self, obs: torch.Tensor) -> torch.Tensor:
        """Joint state id (agent 0's cell is the most significant digit) from observations
        ``[S, E, N, obs_dim]``; agent 0's observation lists every cell in agent order."""
        pos = obs[..., 0, :].unflatten(-1, (self.n_agents, -1)).argmax(-1)
        return self.encode_state(pos)

    def encode_state(self, pos: torch.Tensor) -> torch.Tensor:
        cells = self.size * self.size
        strides = torch.tensor([cells ** (self.n_agents - 1 - i) for i in range(self.n_agents)])
        return (pos * strides).sum(-1)

    def decode_state(self, state: torch.Tensor) -> torch.Tensor:
        return decode_joint(state, (self.size * self.size,) * self.n_agents)

    def state_observations(self) -> torch.Tensor:
        """Every agent's observation in each joint state: ``[n_states, N, obs_dim]``."""
        return self.observe(self.decode_state(torch.arange(self.n_states)))

    def state_distribution(self, state_log_probs: torch.Tensor) -> torch.Tensor:
        """Exact on-policy joint state visitation ``[S, n_states]``.

        Training runs episodes back to back (auto-reset), so the long-run fraction of steps
        spent in state ``s`` is the expected number of visits to ``s`` per episode divided by
        the expected episode length. Both come from propagating the start distribution through
        the deterministic transitions for ``max_episode_steps`` steps, dropping the mass of
        episodes that have ended. ``state_log_probs [S, n_states, N, K]`` are the target's
        per-agent log-probs in every state.
        """
        s = state_log_probs.shape[0]
        joint_policy = joint_log_probs(state_log_probs.to(torch.float64)).exp()  # [S, n_states, |A|]
        pos = self.decode_state(torch.arange(self.n_states))  # [n_states, N]
        actions = decode_joint(torch.arange(self.n_joint_actions), self.n_actions)  # [|A|, N]
        next_pos = self.moves[pos[:, None, :], actions[None, :, :]]  # [n_states, |A|, N]
        _, terminal, _ = self.outcome(next_pos)
        next_state = self.encode_state(next_pos).flatten()  # [n_states * |A|]
        keep = (~terminal).flatten().to(torch.float64)
        current = torch.zeros(s, self.n_states, dtype=torch.float64)
        current[:, int(self.encode_state(self.starts))] = 1.0
        visits = torch.zeros_like(current)
        for _ in range(self.max_episode_steps):
            visits += current
            flow = (current.unsqueeze(-1) * joint_policy).flatten(1) * keep
            current = torch.zeros_like(current).index_add_(1, next_state, flow)
        return visits / visits.sum(1, keepdim=True)
