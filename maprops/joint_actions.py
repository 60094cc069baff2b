"""Joint-action algebra: one index per joint action, and the product policy over those indices.

A joint action of ``N`` agents with ``n_actions = (K_1, ..., K_N)`` actions is numbered in
mixed radix with agent 0 the most significant digit, so for two agents the index is
``a1 * K2 + a2`` (row-major over a payoff table). Game cores (payoff tables, the joint states of
GridWorld), the samplers that act on joint actions (MA-PROPS, the ROS oracle) and the sampling
error all use this one numbering.
"""

from __future__ import annotations

import torch


def joint_strides(n_actions: tuple[int, ...]) -> tuple[int, ...]:
    """Mixed-radix strides of the joint-action index; agent 0 is the most significant digit,
    so for two agents the joint index is ``a1 * k2 + a2`` (row-major over the payoff table)."""
    strides = []
    acc = 1
    for k in reversed(n_actions):
        strides.append(acc)
        acc *= k
    return tuple(reversed(strides))


def encode_joint(actions: torch.Tensor, n_actions: tuple[int, ...]) -> torch.Tensor:
    """Per-agent actions ``[..., N]`` -> joint-action index ``[...]``."""
    strides = torch.tensor(joint_strides(n_actions), dtype=actions.dtype)
    return (actions * strides).sum(-1)


def decode_joint(joint: torch.Tensor, n_actions: tuple[int, ...]) -> torch.Tensor:
    """Joint-action index ``[...]`` -> per-agent actions ``[..., N]``."""
    strides = torch.tensor(joint_strides(n_actions), dtype=joint.dtype)
    k = torch.tensor(n_actions, dtype=joint.dtype)
    return (joint.unsqueeze(-1) // strides) % k


def joint_log_probs(agent_log_probs: torch.Tensor) -> torch.Tensor:
    """Per-agent log-probs ``[..., N, K]`` -> joint log-probs ``[..., K**N]`` of the product
    policy, in the joint-action order of :func:`encode_joint`."""
    n = agent_log_probs.shape[-2]
    k = agent_log_probs.shape[-1]
    lead = agent_log_probs.shape[:-2]
    total = torch.zeros(*lead, *([1] * n), dtype=agent_log_probs.dtype)
    for i in range(n):
        shape = [1] * n
        shape[i] = k
        total = total + agent_log_probs[..., i, :].reshape(*lead, *shape)
    return total.reshape(*lead, k**n)
