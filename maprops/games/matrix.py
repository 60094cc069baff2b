"""Normal-form games as batched cores: one joint action per episode, read off a payoff tensor.

The paper's worked example treats each play of a matrix game as one sample of a single state
(docs/implementation.md#matrix-game-episodes), so an episode is one step and every agent observes
the same constant.
Any number of agents and actions: the payoff tensor has shape ``[k_1, ..., k_n, n]``.
"""

from __future__ import annotations

import torch

from maprops.games.base import JointActionCount, StepResult
from maprops.joint_actions import encode_joint


class MatrixGame(JointActionCount):
    max_episode_steps = 1
    random_numbers_per_step = 0
    random_numbers_per_reset = 0
    obs_bounds = (0.0, 1.0)
    obs_dim = 1
    n_states = 1
    cooperative_label = "its action in an optimal joint action"

    @classmethod
    def from_config(cls, config):
        return cls(config.payoffs, config.optimal, name=config.name)

    def __init__(self, payoffs, optimal: tuple[tuple[int, ...], ...], name: str = "matrix"):
        table = torch.as_tensor(payoffs, dtype=torch.float32)
        self.name = name
        self.n_agents = table.shape[-1]
        self.n_actions = tuple(int(k) for k in table.shape[:-1])
        if len(self.n_actions) != self.n_agents:
            raise ValueError(
                f"payoff tensor shape {tuple(table.shape)}: expected one action axis per agent "
                f"plus a reward axis of length {len(self.n_actions)}"
            )
        self.payoffs = table.reshape(-1, self.n_agents)  # [joint action, agent]
        self.optimal_mask = torch.zeros(self.n_joint_actions, dtype=torch.bool)
        self._cooperative = torch.zeros(self.n_agents, max(self.n_actions), dtype=torch.bool)
        for joint in optimal:
            self.optimal_mask[encode_joint(torch.tensor(joint), self.n_actions)] = True
            self._cooperative[torch.arange(self.n_agents), torch.tensor(joint)] = True

    def _obs(self, batch: tuple[int, int]) -> torch.Tensor:
        return torch.ones(*batch, self.n_agents, 1)

    def reset(self, batch, uniforms=None) -> torch.Tensor:
        return self._obs(tuple(batch))

    def step(self, actions: torch.Tensor, uniforms=None) -> StepResult:
        joint = encode_joint(actions, self.n_actions)
        batch = tuple(joint.shape)
        return StepResult(
            obs=self._obs(batch),
            rewards=self.payoffs[joint],
            done=torch.ones(batch, dtype=torch.bool),
            success=self.optimal_mask[joint],
            truncated=torch.zeros(batch, dtype=torch.bool),
            events={"joint": self.optimal_mask[joint].float()},
        )

    def cooperative_actions(self) -> torch.Tensor:
        """``[1, 1, N, K]`` bool: each agent's actions that appear in some declared optimal
        joint action (``maprops premise``)."""
        return self._cooperative[None, None]

    def state_index(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.zeros(obs.shape[:2], dtype=torch.int64)

    def state_observations(self) -> torch.Tensor:
        """Every agent's observation in each state: ``[n_states, N, obs_dim]``."""
        return torch.ones(1, self.n_agents, 1)

    def state_distribution(self, state_log_probs: torch.Tensor) -> torch.Tensor:
        """Exact on-policy state visitation ``[S, n_states]`` given the target's per-agent
        log-probs in every state ``[S, n_states, N, K]``: one state, visited every step."""
        return torch.ones(state_log_probs.shape[0], 1)
