"""The buffer ``D`` of Algorithm 1 across target updates (``sampler.history_batches: b``).

The paper clears ``D`` at every target update (b = 1). With b > 1 (beyond the paper, its §7),
``D`` holds the last b target batches: the b - 1 batches kept from earlier target updates, then
the batch being collected. Corrado and Hanna's PROPS code does the same, and so does this module:

- the behavior update corrects all of ``D`` toward the *current* target, so the aggregate of
  ``D`` -- old batches, which earlier targets' behaviors collected, plus the new one -- is close
  to on-policy for the target that will learn from it;
- the target update (PPO) learns from all of ``D``, with log-probabilities and values recomputed
  by the current target and critic: the old batches are used as on-policy data, without
  importance weights, exactly as behavior-collected data are (a learner that saw only the newest
  batch would see a batch the behavior deliberately skewed to balance the older ones);
- the shadow on-policy buffer keeps the same b batches, each collected by the target of its own
  update, and both buffers' sampling error is measured against the current target.

One environment per seed runs on across target updates, so ``D`` is a stretch of consecutive
steps of one trajectory: GAE over all of it is exact (an old batch's last step bootstraps from
the next batch's first, as any step does within a batch).

With b = 1 and ``behavior_buffer: batch`` nothing is kept and :meth:`History.extend` returns the
fresh batch itself. With ``behavior_buffer: ring`` (the default, the authors' PROPS code) the
behavior update also reaches back into the batch before the oldest one the target learns from
(:class:`BehaviorWindow`), so one more batch is kept for it alone: :attr:`Buffer.learn_start`
marks where the target's part begins.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from maprops.ppo import PPOLearner, Rollout


@dataclass(frozen=True)
class BehaviorWindow:
    """Which of the collected steps a behavior update trains on, and in what minibatches.

    ``ring`` (``behavior_buffer: ring``, the default) follows the authors' discrete PROPS code
    (``PROPS/ppo_props_discrete.py`` in NicholasCorrado/PPOROS; docs/assumptions.md#behavior-buffer):
    ``D`` is a ring buffer of ``capacity`` C steps (b target batches; a fixed-target run: all its
    samples) that a target update does not clear. Every ``every`` (m) steps of the run -- also
    at a step that ends a target batch, right after that target update -- the behavior is reset
    to the (current) target and trained on the newest ``min(steps so far, C - m)`` steps: the
    oldest m steps of a full ring are left out, as they are overwritten before the next update
    (l.312-320). The minibatch size is fixed from the capacity, ``(C - m) // minibatches``
    (l.152), so a partly filled buffer takes fewer minibatch steps per epoch.

    ``batch`` (``behavior_buffer: batch``, this project's rule before the authors' code was
    followed, kept as a named variant): the behavior trains on the steps collected since the
    last target update plus any kept batches, in ``minibatches`` minibatches of whatever is
    there, every m steps of the batch, and is reset to the new target at a target update.
    """

    ring: bool
    capacity: int
    every: int
    minibatches: int

    @classmethod
    def of(cls, sampler, batch_steps: int, fixed_target_steps: int | None = None) -> BehaviorWindow:
        """The window of a PROPS-like sampler config in a run whose target batches have
        ``batch_steps`` steps, or of a fixed-target run of ``fixed_target_steps`` samples."""
        capacity = fixed_target_steps or sampler.history_batches * batch_steps
        return cls(sampler.behavior_buffer == "ring", capacity, sampler.batch_size, sampler.minibatches)

    @property
    def reaches_back(self) -> bool:
        """Whether the window reaches into the batch before the oldest one the target learns
        from (one more batch must then be kept)."""
        return self.ring

    @property
    def minibatch_size(self) -> int | None:
        return max(1, (self.capacity - self.every) // self.minibatches) if self.ring else None

    def due(self, run_step: int, batch_step: int, kept: int) -> bool:
        """Whether a behavior update follows the ``run_step``-th step of the run, the
        ``batch_step``-th of its target batch (0: before the batch's first step, right after a
        target update), with ``kept`` steps of earlier batches in the buffer."""
        if self.ring:
            return run_step > 0 and run_step % self.every == 0
        if batch_step == 0:
            return kept > 0  # kept batches: correct them toward the new target at once
        return batch_step % self.every == 0

    def span(self, run_step: int, end: int) -> slice:
        """The buffer steps the update trains on, ending at buffer index ``end`` (exclusive)."""
        if self.ring:
            return slice(end - min(run_step, self.capacity - self.every), end)
        return slice(0, end)


@dataclass
class Buffer:
    """``D`` for one target update: ``rollout`` and the shadow buffer ``(obs, actions)``, time
    axis 1, the kept batches first; the new batch's steps start at ``start``. The target learns
    from ``rollout``'s steps from ``learn_start`` on (before it: a batch kept for the behavior
    update alone, :class:`BehaviorWindow`); the shadow buffer holds those steps only."""

    rollout: Rollout
    shadow: tuple[torch.Tensor, torch.Tensor]
    start: int = 0
    learn_start: int = 0

    @property
    def learned(self) -> Rollout:
        """The steps the target update learns from (views)."""
        if not self.learn_start:
            return self.rollout
        return Rollout(*(x[:, self.learn_start :] for x in _fields(self.rollout)))

    @classmethod
    def empty(cls, s: int, steps: int, e: int, n: int, d: int, k: int, action_shape=(), action_dtype=torch.int64) -> Buffer:
        rollout = Rollout.empty(s, steps, e, n, d, k, action_shape, action_dtype)
        return cls(rollout, (torch.zeros_like(rollout.obs), torch.zeros_like(rollout.actions)))


class History:
    """The last ``batches - 1`` complete batches, kept between target updates, and one more
    where the behavior update reaches back (``behavior_reach``)."""

    def __init__(self, batches: int, behavior_reach: bool = False):
        self.batches = batches
        self.behavior_reach = behavior_reach
        self.kept: Buffer | None = None

    @torch.no_grad()
    def extend(self, fresh: Buffer, learner: PPOLearner) -> Buffer:
        """``D`` for a new target update: the kept batches, their target log-probs and values
        recomputed by ``learner``'s current networks, then ``fresh`` (one copy per target
        update; nothing is copied per step)."""
        if self.kept is None:
            return fresh
        old = self.kept.rollout
        steps = old.obs.shape[1]
        log_probs, values = learner.act_info(old.obs.flatten(1, 2))
        old = dataclasses.replace(old, log_probs=log_probs.view_as(old.log_probs), values=values.view_as(old.values))
        rollout = Rollout(*(torch.cat(pair, 1) for pair in zip(_fields(old), _fields(fresh.rollout))))
        shadow = tuple(torch.cat(pair, 1) for pair in zip(self.kept.shadow, fresh.shadow))
        return Buffer(rollout, shadow, steps, steps - self.kept.shadow[0].shape[1])

    def keep(self, buffer: Buffer, batch_steps: int) -> None:
        """After the target update: keep the last ``batches - 1`` batches of ``buffer`` (views),
        and of the rollout one more batch if the behavior update reaches back."""
        learned = (self.batches - 1) * batch_steps
        kept = learned + (batch_steps if self.behavior_reach else 0)
        if not kept:
            return
        rollout = Rollout(*(x[:, -kept:] for x in _fields(buffer.rollout)))
        shadow = tuple(x[:, max(0, x.shape[1] - learned) :] for x in buffer.shadow)
        self.kept = Buffer(rollout, shadow)


def _fields(rollout: Rollout) -> list[torch.Tensor]:
    """A rollout's tensors in constructor order (``dataclasses.astuple`` would deep-copy them)."""
    return [getattr(rollout, f.name) for f in dataclasses.fields(rollout)]
