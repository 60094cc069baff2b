"""Resumable training: periodic snapshots of a whole seed block, so a killed job continues.

A snapshot is the :class:`~maprops.train.Trainer` itself (every tensor, optimizer moment, game
core and live episode of the block) plus the result rows so far, serialized with
``torch.save``. ``torch.save`` keeps tensors that share storage sharing it after loading, which
plain ``pickle`` does not: the optimizers and samplers hold views of the parameters. Random
numbers are counter-based (:mod:`maprops.rng`), so there is no generator state to lose, and a
resumed run produces exactly the numbers of an uninterrupted one (``tests/test_resume.py``).

Snapshots are written atomically after a target update, at most once per ``every_s`` seconds,
and deleted once the result file exists. A snapshot from another run, seed list or code version
is ignored (with a message) rather than trusted: training from scratch is always correct.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from maprops.io import atomic_path
from maprops.provenance import engine_fingerprint

FORMAT = 1


class Checkpoints:
    def __init__(self, path: str | Path, every_s: float = 60.0):
        self.path = Path(path)
        self.every_s = every_s
        self.code = engine_fingerprint()
        self._started = self._last_save = time.monotonic()
        self._earlier_wall_time_s = 0.0  # spent by earlier attempts of this job
        self.attempts = 1

    @property
    def wall_time_s(self) -> float:
        """Wall time of this job so far, over every attempt."""
        return self._earlier_wall_time_s + time.monotonic() - self._started

    def _identity(self, run_id: str, seeds) -> dict:
        return {"format": FORMAT, "run_id": run_id, "seeds": [int(s) for s in seeds], "code": self.code}

    def load(self, run_id: str, seeds):
        """``(trainer, rows)`` from an earlier attempt of this very job, or ``None``."""
        if not self.path.exists():
            return None
        try:
            snapshot = torch.load(self.path, weights_only=False)
            identity = {k: snapshot[k] for k in ("format", "run_id", "seeds", "code")}
        except Exception as err:  # unreadable: say so and start over
            print(f"{self.path}: ignoring an unreadable checkpoint ({err})", file=sys.stderr)
            return None
        expected = self._identity(run_id, seeds)
        if identity != expected:
            print(f"{self.path}: ignoring a checkpoint of {identity}, this job is {expected}", file=sys.stderr)
            return None
        self._earlier_wall_time_s = snapshot["wall_time_s"]
        self.attempts = snapshot["attempts"] + 1
        trainer = snapshot["trainer"]
        print(f"{self.path}: resuming after iteration {trainer.iteration} (attempt {self.attempts})", file=sys.stderr)
        return trainer, snapshot["rows"]

    def after_iteration(self, trainer, rows: list) -> None:
        """Snapshot if ``every_s`` seconds have passed since the last one (0: every iteration)."""
        if time.monotonic() - self._last_save < self.every_s:
            return
        snapshot = self._identity(trainer.spec.run_id(), trainer.seeds) | {
            "trainer": trainer,
            "rows": rows,
            "wall_time_s": self.wall_time_s,
            "attempts": self.attempts,
        }
        with atomic_path(self.path) as tmp:
            torch.save(snapshot, tmp)
        self._last_save = time.monotonic()
        print(f"checkpoint: iteration {trainer.iteration} -> {self.path}", file=sys.stderr, flush=True)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
