"""The behavior update evaluated once per *state* rather than once per sample.

A minibatch step needs log pi_phi(a_j | s_j) for B samples and the gradient of a weighted sum
of them. Where the game has few states (a matrix game has one; GridWorld 3x3 with two agents
81), many samples share a state, and both quantities follow from the network's output on each
state once:

    log pi_phi(a_j | s_j)   = table[u_j, a_j]                     (a gather)
    d loss / d logits(u)    = sum_{j: u_j = u} d_j (onehot(a_j) - pi_phi(. | u))
                            = counts_d(u, .) - pi_phi(. | u) * sum_{j: u_j = u} d_j

so the networks run on U rows instead of B, and the gradient is the same sum in another order
(equal up to float rounding). Whether a step uses the table depends only on U (a property of
the game) and B (the minibatch size of this update), never on the block of seeds.
"""

from __future__ import annotations

import torch


def use_table(n_states: int | None, batch: int) -> bool:
    """Worth it when there are fewer states than samples in the minibatch."""
    return n_states is not None and n_states < batch


def gather_table(log_probs: torch.Tensor, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``log_probs [S, U, A]`` at each sample's (state, action) ``[S, B]`` -> ``[S, B]``."""
    n_actions = log_probs.shape[-1]
    return log_probs.flatten(1).gather(1, states * n_actions + actions)


def table_logit_grad(probs: torch.Tensor, states: torch.Tensor, actions: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """d loss / d logits ``[S, U, A]`` of the per-state softmax ``probs [S, U, A]``, given
    d loss / d log pi(a_j | s_j) = ``d [S, B]`` for samples at ``states``, ``actions [S, B]``."""
    s, n_states, n_actions = probs.shape
    weight = torch.zeros(s, n_states).scatter_add_(1, states, d)
    taken = torch.zeros(s, n_states * n_actions).scatter_add_(1, states * n_actions + actions, d)
    return taken.view_as(probs).sub_(probs * weight.unsqueeze(-1))


def per_state(values: torch.Tensor, states: torch.Tensor, n_states: int) -> torch.Tensor:
    """Per-sample values ``[S, M, ...]`` that depend only on the state (e.g. the target's
    log-probs) -> one row per state ``[S, U, ...]``; states absent from the buffer get 0 (no
    sample refers to them, so their gradient is 0 whatever they hold)."""
    shape = (values.shape[0], n_states, *values.shape[2:])
    index = states.view(*states.shape, *([1] * (values.dim() - 2))).expand_as(values)
    return values.new_zeros(shape).scatter_reduce_(1, index, values, "amax", include_self=False)
