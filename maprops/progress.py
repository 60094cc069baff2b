"""Progress lines for long train jobs: iteration, environment step, elapsed time and an ETA.

A full-scale PROPS / MA-PROPS block can run for hours; its log (``results/<scale>/logs/train/
<run>/seeds_<lo>-<hi>.log``) says how far it is. The ETA is the mean time per target update of
this attempt times the updates left: later updates of a run can cost more than early ones (the
behavior update runs longer once the KL cut-off stops triggering), so it is a lower bound early on.
"""

from __future__ import annotations

import sys
import time


def duration(seconds: float) -> str:
    """``3h07m``, ``12m05s`` or ``41s``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    """Print a progress line after a target update, at most every ``every_s`` seconds (and
    always after the last one)."""

    def __init__(self, iterations: int, steps_per_iteration: int, every_s: float = 60.0, stream=None):
        self.iterations = iterations
        self.steps_per_iteration = steps_per_iteration
        self.every_s = every_s
        self.stream = stream  # None: the standard error of the moment (a default bound at import goes stale)
        self._start = time.monotonic()
        self._first: int | None = None  # the iteration this attempt started from (resumed jobs)
        self._last = float("-inf")

    def line(self, iteration: int, now: float) -> str:
        elapsed = now - self._start
        done = iteration - self._first
        left = self.iterations - iteration
        eta = f", ETA {duration(elapsed / done * left)}" if done and left else ""
        return (
            f"progress: iteration {iteration}/{self.iterations}, environment step "
            f"{iteration * self.steps_per_iteration}/{self.iterations * self.steps_per_iteration} per seed, "
            f"elapsed {duration(elapsed)}{eta}"
        )

    def start(self, iteration: int) -> None:
        self._first = iteration
        self._start = time.monotonic()

    def after_iteration(self, iteration: int) -> None:
        now = time.monotonic()
        if self._first is None:
            self.start(iteration - 1)
        if now - self._last >= self.every_s or iteration == self.iterations:
            print(self.line(iteration, now), file=self.stream or sys.stderr, flush=True)
            self._last = now
