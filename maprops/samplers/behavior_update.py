"""Algorithm 2's inner loop, shared by PROPS and MA-PROPS (docs/implementation.md#behavior-update).

Minimizes, per minibatch, ``mean(max(r, clip(r, 1 - eps, 1 + eps)))`` with
``r = pi_phi(a|s) / pi_theta(a|s)`` over the buffer's joint actions: Eq. 3 with its sign
folded in, which lowers the probability of actions already in the buffer and so raises the
under-sampled ones. Before each minibatch step the k3 estimate of KL(pi_theta || pi_phi) on
that minibatch is compared with ``target_kl``; a seed above it stops for the rest of this
update (masked, so it does not move while the other seeds of the block continue; once a quarter
of the seeds being computed have stopped, the rest are gathered into smaller tensors so stopped
seeds cost no arithmetic, see :class:`WorkingSeeds`). There is no importance weighting
anywhere: the behavior policy only decides which data gets collected.

With ``kl_cutoff: enforce`` (beyond the paper) the check moves after the step and covers the
whole buffer: a step that takes a seed's KL above ``target_kl`` is undone (parameters and Adam
state) and the seed stops, so no update ends farther from the target than ``target_kl``.

The gradient is written by hand: d loss / d r is ``1/B`` where ``r >= 1 - eps`` (inside the
clip range both branches are ``r``; above it the max picks ``r``; below it the max is the
constant ``1 - eps``) and 0 elsewhere; the policy turns d loss / d log pi_phi into parameter
gradients (:class:`BehaviorPolicy`). Tests check it against autograd on the literal loss.
"""

from __future__ import annotations

from typing import Protocol

import torch

from maprops.kinds.behavior import BehaviorSamplerConfig
from maprops.nets import StackedAdam, clip_grad_norm_
from maprops.rng import SeedStreams, Tag


class BehaviorPolicy(Protocol):
    def take(self, ids: torch.Tensor) -> BehaviorPolicy:
        """The same policy over the buffers of seeds ``ids`` only (rows in that order)."""

    def log_prob(self, params: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, object]:
        """log pi_phi of the buffer's joint actions at minibatch indices ``idx [S, B]`` -> ``[S, B]``
        and whatever :meth:`backward` needs."""

    def backward(self, params: torch.Tensor, ctx: object, d_log_prob: torch.Tensor, grad: torch.Tensor) -> None:
        """Write d loss / d params into ``grad`` given d loss / d log pi_phi ``[S, B]``."""


def minibatch_bounds(data_size: int, size: int) -> list[tuple[int, int]]:
    """Consecutive minibatches of ``size`` samples over a shuffled buffer, the last one possibly
    short, as in the authors' CleanRL-based code (``for start in range(0, batch_size, mb)``)."""
    return [(start, min(start + size, data_size)) for start in range(0, data_size, size)]


def behavior_loss(ratio: torch.Tensor, clip_coef: float) -> torch.Tensor:
    """Eq. 3 as minimized, per seed: ``mean(max(r, clip(r, 1-eps, 1+eps)))`` over ``[S, B]``."""
    return torch.maximum(ratio, ratio.clamp(1 - clip_coef, 1 + clip_coef)).mean(1)


COMPACT_WHEN = 0.75
"""Gather the still-active seeds into smaller tensors once at most this fraction of the seeds
being computed is active. Each compaction copies the working seeds' parameters and Adam state
twice; shrinking geometrically bounds that to a few full copies per update, while a stopped
seed's forward, backward and clipping arithmetic (the bulk of a step) is skipped."""


class WorkingSeeds:
    """The seeds a behavior update still computes: all of them, or a gathered subset.

    Compaction only moves rows: every seed's arithmetic is the same per-seed batched operation
    on the same values, so its numbers do not depend on which other seeds are computed beside
    it (the block-invariance tests cover this path)."""

    def __init__(self, params, optimizer: StackedAdam, policy: BehaviorPolicy, target_log_prob: torch.Tensor):
        self.full = (params, optimizer, policy, target_log_prob)
        self.n_seeds = target_log_prob.shape[0]
        self.ids: torch.Tensor | None = None  # None: every seed, computed in place
        self.params, self.optimizer, self.policy, self.target = self.full
        self.active = torch.ones(self.n_seeds, dtype=torch.bool)

    def rows(self, per_seed: torch.Tensor) -> torch.Tensor:
        """A per-seed tensor of the whole block ``[S, ...]`` -> the working seeds' rows."""
        return per_seed if self.ids is None else per_seed[self.ids]

    def compact_if_sparse(self) -> None:
        if int(self.active.sum()) > COMPACT_WHEN * len(self.active):
            return
        self.write_back()
        params, optimizer, policy, target = self.full
        ids = self.rows(torch.arange(self.n_seeds))[self.active]
        by_seed = params.view(self.n_seeds, -1)
        self.params = by_seed[ids].view(-1, params.shape[1])
        self.optimizer = optimizer.take(ids, self.params)
        self.policy = policy.take(ids)
        self.target = target[ids]
        self.ids = ids
        self.active = torch.ones(len(ids), dtype=torch.bool)

    def write_back(self) -> None:
        """Copy the working seeds' parameters and Adam state into the block's tensors."""
        if self.ids is None:
            return
        params, optimizer = self.full[:2]
        params.view(self.n_seeds, -1)[self.ids] = self.params.view(len(self.ids), -1)
        optimizer.put(self.optimizer, self.ids)


def approx_kl(log_ratio: torch.Tensor) -> torch.Tensor:
    """The k3 estimate of KL(pi_theta || pi_phi) per seed from ``log(pi_phi / pi_theta)`` of
    samples drawn under the target ``[S, B]`` (nonnegative, unbiased)."""
    return (log_ratio.exp() - 1 - log_ratio).mean(1)


def buffer_kl(work: WorkingSeeds) -> torch.Tensor:
    """:func:`approx_kl` over the working seeds' whole buffer, at their current parameters."""
    every = torch.arange(work.target.shape[1]).expand(work.target.shape[0], -1)
    log_prob, _ = work.policy.log_prob(work.params, every)
    return approx_kl(log_prob - work.target)


def behavior_update(
    params: torch.Tensor,
    optimizer: StackedAdam,
    policy: BehaviorPolicy,
    target_log_prob: torch.Tensor,
    config: BehaviorSamplerConfig,
    rng: SeedStreams,
    tag: tuple[int, ...],
    minibatch_size: int | None = None,
) -> int:
    """Run up to ``config.epochs`` epochs of minibatch steps on ``params`` in place.
    ``target_log_prob [S, M]`` is log pi_theta of the buffer's joint actions. ``minibatch_size``
    is fixed by the buffer's capacity (``behavior_buffer: ring``, :class:`maprops.history.
    BehaviorWindow`), so a partly filled buffer takes fewer minibatch steps per epoch; None
    divides the data present into ``config.minibatches`` (``behavior_buffer: batch``). Returns
    the number of minibatch steps taken by the block (the slowest seed)."""
    data_size = target_log_prob.shape[1]
    size = minibatch_size if minibatch_size is not None else max(1, data_size // config.minibatches)
    enforce = config.kl_cutoff == "enforce"
    work = WorkingSeeds(params, optimizer, policy, target_log_prob)
    lower = 1.0 - config.clip_coef
    steps = 0
    for epoch in range(config.epochs):
        order = rng.permutations((Tag.BEHAVIOR_PERM, *tag, epoch), data_size)
        for start, stop in minibatch_bounds(data_size, size):
            if config.target_kl is not None:  # only the cut-off stops seeds
                work.compact_if_sparse()
            idx = work.rows(order[:, start:stop])
            log_prob, ctx = work.policy.log_prob(work.params, idx)
            log_ratio = log_prob - work.target.gather(1, idx)
            ratio = log_ratio.exp()
            if config.target_kl is not None and not enforce:
                work.active &= approx_kl(log_ratio) <= config.target_kl
                if not bool(work.active.any()):
                    work.write_back()
                    return steps
            d_log_prob = ratio * (ratio >= lower) / (stop - start)
            grad = work.optimizer.grad
            work.policy.backward(work.params, ctx, d_log_prob, grad.view_as(work.params))
            clip_grad_norm_(grad, len(work.active), config.max_grad_norm)
            before = work.optimizer.snapshot() if enforce else None
            work.optimizer.step(mask=work.active)
            steps += 1
            if enforce:
                crossed = work.active & (buffer_kl(work) > config.target_kl)
                work.optimizer.restore(before, crossed)
                work.active &= ~crossed
                if not bool(work.active.any()):
                    work.write_back()
                    return steps
    work.write_back()
    return steps
