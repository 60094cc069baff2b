"""Sampling error and success rate (paper §6, "Evaluation metrics").

Sampling error is the total variation between the buffer's empirical state-action distribution
and the target policies' exact one, ``d_pi(s, a) = d_pi(s) * pi(a|s)``; jointly over joint
actions and for agent 1 over its own actions. ``d_pi(s)`` comes from the game (one state for
matrix games).
"""

from __future__ import annotations

import torch

from maprops.joint_actions import encode_joint, joint_log_probs


def empirical_distribution(states: torch.Tensor, actions: torch.Tensor, n_states: int, n_actions: int) -> torch.Tensor:
    """Counts of (state, action) per seed, normalized: ``[S, M]`` ids -> ``[S, n_states * n_actions]``."""
    s = states.shape[0]
    cells = states * n_actions + actions
    counts = torch.zeros(s, n_states * n_actions, dtype=torch.float64)
    counts.scatter_add_(1, cells, torch.ones_like(cells, dtype=torch.float64))
    return counts / states.shape[1]


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``0.5 * sum |p - q|`` over the last axis."""
    return 0.5 * (p - q).abs().sum(-1)


def sampling_errors(
    state_ids: torch.Tensor,
    actions: torch.Tensor,
    state_distribution: torch.Tensor,
    state_log_probs: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint and agent-1 TV sampling error of a buffer, per seed.

    ``state_ids [S, M]`` and ``actions [S, M, N]`` describe the buffer; ``state_distribution
    [S, n_states]`` is d_pi(s) and ``state_log_probs [S, n_states, N, K]`` the target's per-agent
    log-probs in each state.
    """
    n_states = state_distribution.shape[1]
    k = state_log_probs.shape[-1]
    n = state_log_probs.shape[-2]
    d = state_distribution.to(torch.float64)
    joint_target = (d.unsqueeze(-1) * joint_log_probs(state_log_probs.to(torch.float64)).exp()).flatten(1)
    joint_actions = encode_joint(actions, (k,) * n)
    joint_tv = total_variation(empirical_distribution(state_ids, joint_actions, n_states, k**n), joint_target)
    agent1_target = (d.unsqueeze(-1) * state_log_probs[:, :, 0, :].to(torch.float64).exp()).flatten(1)
    agent1_tv = total_variation(empirical_distribution(state_ids, actions[..., 0], n_states, k), agent1_target)
    return joint_tv, agent1_tv
