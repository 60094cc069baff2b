"""What cores built on a real environment package share: one live instance per run-axis entry.

LBF (``lbforaging``) and PettingZoo tasks are not re-implemented as tensor code; their cores hold
one environment object per (seed, environment) entry of the run axis ``[S, E]`` (row-major) and
step them in a Python loop. The engine contract still holds because such a package draws its
randomness from a generator that ``reset(seed=...)`` reseeds: every reset, the first and each
automatic one after an episode ends, is seeded from one uniform of the entry's own stream
(:mod:`maprops.rng`), so an entry's trajectory is a function of its seed's stream alone, never
of the block it trains in.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

SEED_RANGE = 2**31 - 1


def reset_seed(u: float) -> int:
    """The integer seed of one reset, ``floor(u * (2**31 - 1))`` for a uniform ``u`` in [0, 1)."""
    return int(u * SEED_RANGE)


class InstancePerEntry:
    """Mixin for cores that step one environment object per run-axis entry (see the module
    docstring). Each reset and each step consumes one uniform per entry: the seed of that entry's
    reset (on a step: of its automatic reset, used only if the episode ends there)."""

    random_numbers_per_reset = 1
    random_numbers_per_step = 1

    name: str
    n_agents: int
    n_actions: tuple[int, ...] | None
    action_dim: int | None = None  # continuous actions: their length (actions [S, E, N, A], clipped by the core)

    def __init__(self):
        self.envs: list = []  # the live instances, row-major over [S, E]
        self._batch: tuple[int, int] | None = None

    def _seeds(self, batch: tuple[int, int], uniforms, count: int, what: str) -> list[int]:
        s, e = batch
        if uniforms is None or tuple(uniforms.shape) != (s, e, count):
            got = None if uniforms is None else tuple(uniforms.shape)
            raise ValueError(f"{self.name} {what} needs uniforms of shape {(s, e, count)}, got {got}")
        return [reset_seed(u) for u in uniforms.reshape(s * e, count)[:, 0].tolist()]

    def _instances(self, batch, make: Callable[[], object]) -> tuple[int, int]:
        """``batch`` as ints; the instances are rebuilt only when the batch shape changes."""
        s, e = (int(b) for b in batch)
        if (s, e) != self._batch:
            self.envs = [make() for _ in range(s * e)]
            self._batch = (s, e)
        return s, e

    def _step_batch(self, actions: torch.Tensor) -> tuple[int, int]:
        """The batch a step acts on, after checking the actions' shape and range."""
        if self._batch is None:
            raise ValueError(f"{self.name}: call reset before step")
        s, e = self._batch
        expected = (s, e, self.n_agents) if self.action_dim is None else (s, e, self.n_agents, self.action_dim)
        if tuple(actions.shape) != expected:
            raise ValueError(f"{self.name} step needs actions of shape {expected}, got {tuple(actions.shape)}")
        if self.action_dim is not None:
            return s, e
        k = self.n_actions[0]
        if actions.numel() and not (0 <= int(actions.min()) and int(actions.max()) < k):
            raise ValueError(f"{self.name} actions must lie in 0..{k - 1}")
        return s, e
