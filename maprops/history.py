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

With b = 1 nothing is kept, :meth:`History.extend` returns the fresh batch itself and training
is the paper's, number for number.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from maprops.ppo import PPOLearner, Rollout


@dataclass
class Buffer:
    """``D`` for one target update: ``rollout`` and the shadow buffer ``(obs, actions)``, time
    axis 1, the kept batches first; the new batch's steps start at ``start``."""

    rollout: Rollout
    shadow: tuple[torch.Tensor, torch.Tensor]
    start: int = 0

    @classmethod
    def empty(cls, s: int, steps: int, e: int, n: int, d: int, k: int, action_shape=(), action_dtype=torch.int64) -> Buffer:
        rollout = Rollout.empty(s, steps, e, n, d, k, action_shape, action_dtype)
        return cls(rollout, (torch.zeros_like(rollout.obs), torch.zeros_like(rollout.actions)))


class History:
    """The last ``batches - 1`` complete batches, kept between target updates."""

    def __init__(self, batches: int):
        self.batches = batches
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
        return Buffer(rollout, shadow, steps)

    def keep(self, buffer: Buffer, batch_steps: int) -> None:
        """After the target update: keep the last ``batches - 1`` batches of ``buffer`` (views)."""
        if self.batches == 1:
            return
        tail = slice(-(self.batches - 1) * batch_steps, None)
        rollout = Rollout(*(x[:, tail] for x in _fields(buffer.rollout)))
        self.kept = Buffer(rollout, tuple(x[:, tail] for x in buffer.shadow))


def _fields(rollout: Rollout) -> list[torch.Tensor]:
    """A rollout's tensors in constructor order (``dataclasses.astuple`` would deep-copy them)."""
    return [getattr(rollout, f.name) for f in dataclasses.fields(rollout)]
