"""Algorithm 2's inner loop, shared by PROPS and MA-PROPS (REFERENCE.md §1).

Minimizes, per minibatch, ``mean(max(r, clip(r, 1 - eps, 1 + eps)))`` with
``r = pi_phi(a|s) / pi_theta(a|s)`` over the buffer's joint actions: Eq. 3 with its sign
folded in, which lowers the probability of actions already in the buffer and so raises the
under-sampled ones. Before each minibatch step the k3 estimate of KL(pi_theta || pi_phi) on
that minibatch is compared with ``target_kl``; a seed above it stops for the rest of this
update (masked, so it does not move while the other seeds of the block continue). There is no
importance weighting anywhere: the behavior policy only decides which data gets collected.

The gradient is written by hand: d loss / d r is ``1/B`` where ``r >= 1 - eps`` (inside the
clip range both branches are ``r``; above it the max picks ``r``; below it the max is the
constant ``1 - eps``) and 0 elsewhere; the policy turns d loss / d log pi_phi into parameter
gradients (:class:`BehaviorPolicy`). Tests check it against autograd on the literal loss.
"""

from __future__ import annotations

from typing import Protocol

import torch

from maprops.config import BehaviorSamplerConfig
from maprops.nets import StackedAdam, clip_grad_norm_
from maprops.rng import SeedStreams, Tag


class BehaviorPolicy(Protocol):
    def log_prob(self, params: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, object]:
        """log pi_phi of the buffer's joint actions at minibatch indices ``idx [S, B]`` -> ``[S, B]``
        and whatever :meth:`backward` needs."""

    def backward(self, params: torch.Tensor, ctx: object, d_log_prob: torch.Tensor, grad: torch.Tensor) -> None:
        """Write d loss / d params into ``grad`` given d loss / d log pi_phi ``[S, B]``."""


def minibatch_bounds(data_size: int, minibatches: int) -> list[tuple[int, int]]:
    """Minibatch size ``data_size // minibatches`` (at least 1), the last one possibly short,
    as in the authors' CleanRL-based code."""
    size = max(1, data_size // minibatches)
    return [(start, min(start + size, data_size)) for start in range(0, data_size, size)]


def behavior_loss(ratio: torch.Tensor, clip_coef: float) -> torch.Tensor:
    """Eq. 3 as minimized, per seed: ``mean(max(r, clip(r, 1-eps, 1+eps)))`` over ``[S, B]``."""
    return torch.maximum(ratio, ratio.clamp(1 - clip_coef, 1 + clip_coef)).mean(1)


def behavior_update(
    params: torch.Tensor,
    optimizer: StackedAdam,
    policy: BehaviorPolicy,
    target_log_prob: torch.Tensor,
    config: BehaviorSamplerConfig,
    rng: SeedStreams,
    tag: tuple[int, ...],
) -> int:
    """Run up to ``config.epochs`` epochs of minibatch steps on ``params`` in place.
    ``target_log_prob [S, M]`` is log pi_theta of the buffer's joint actions. Returns the number
    of minibatch steps taken by the block (the slowest seed)."""
    n_seeds, data_size = target_log_prob.shape
    active = torch.ones(n_seeds, dtype=torch.bool)
    lower = 1.0 - config.clip_coef
    seeds = torch.arange(n_seeds)[:, None]
    steps = 0
    for epoch in range(config.epochs):
        order = rng.permutations((Tag.BEHAVIOR_PERM, *tag, epoch), data_size)
        for start, stop in minibatch_bounds(data_size, config.minibatches):
            idx = order[:, start:stop]
            log_prob, ctx = policy.log_prob(params, idx)
            log_ratio = log_prob - target_log_prob[seeds, idx]
            ratio = log_ratio.exp()
            if config.target_kl is not None:
                approx_kl = ((ratio - 1) - log_ratio).mean(1)
                active &= approx_kl <= config.target_kl
                if not bool(active.any()):
                    return steps
            d_log_prob = ratio * (ratio >= lower) / (stop - start)
            policy.backward(params, ctx, d_log_prob, optimizer.grad.view_as(params))
            clip_grad_norm_(optimizer.grad, n_seeds, config.max_grad_norm)
            optimizer.step(mask=active)
            steps += 1
    return steps
