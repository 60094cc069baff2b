"""``maprops train``: one process trains one block of seeds of one run spec."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import torch

from maprops.config import RunSpec
from maprops.io import write_columns_csv


def parse_seeds(text: str) -> list[int]:
    """``"0-99"`` (inclusive) or ``"1,2,5"`` -> sorted distinct non-negative seeds."""
    seeds: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"--seeds: {part!r} is not a non-negative integer or range LO-HI")
        lo_i, hi_i = int(lo), int(hi) if sep else int(lo)
        if hi_i < lo_i:
            raise ValueError(f"--seeds: empty range {part!r}")
        seeds.update(range(lo_i, hi_i + 1))
    return sorted(seeds)


def load_run_spec(text: str) -> RunSpec:
    source = Path(text).read_text() if not text.lstrip().startswith("{") else text
    return RunSpec.from_canonical(source)


class BlockLock:
    """At most one trainer per seed block: an exclusive ``flock`` on ``OUT`` with suffix
    ``.lock``, held for the whole job. The kernel releases it when the process dies, however it
    dies, so a killed trainer never leaves a stale lock; a second trainer of the same block
    (a rerun beside a job that is still running) refuses instead of writing the same snapshot
    and result."""

    def __init__(self, out: str | Path):
        self.path = Path(out).with_suffix(".lock")
        self.file = None

    def __enter__(self) -> BlockLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RuntimeError(
                f"{self.path}: this seed block is being trained by {holder}; not starting a second trainer"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"PID {os.getpid()} on {platform.node()}")
        self.file.flush()
        return self

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)  # while still holding it: a waiting trainer then locks a new file
        self.file.close()


def log_to(path: str) -> int:
    """Send this process's stdout and stderr to ``path`` (what the rule's ``> log 2>&1`` did
    before the rule exec'ed the trainer); return a duplicate of the original stderr, so a
    failure can still be shown on Snakemake's console."""
    console = os.dup(2)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return console


def show_failure(console: int, log: str, status: int) -> None:
    """The log's last lines (the NaN's seed, iteration and step; a refusal) on the console."""
    sys.stdout.flush()
    sys.stderr.flush()
    lines = Path(log).read_text(errors="replace").splitlines()[-15:]
    os.write(console, (f"maprops train exited with {status}; last lines of {log}:\n" + "\n".join(lines) + "\n").encode())


def train_main(
    run_spec: str,
    seeds: str,
    out: str,
    checkpoint: str | None = None,
    checkpoint_every: float = 60.0,
    log: str | None = None,
) -> int:
    """Train, then write the result CSV (provenance first) atomically. The snapshot file
    (default: ``OUT`` with suffix ``.ckpt``) lets a killed job resume; it is removed on success.
    With ``log``, output goes to that file and a failure's last lines to the console."""
    console = log_to(log) if log else None
    try:
        status = _train(run_spec, seeds, out, checkpoint, checkpoint_every)
    except OSError as err:  # an unwritable results folder, a full disk: one line naming the path
        print(f"maprops train: cannot write {err.filename or out}: {err.strerror}", file=sys.stderr)
        status = 4
    except RuntimeError as err:  # another trainer holds the block
        print(f"maprops train: {err}", file=sys.stderr)
        status = 5
    if status and console is not None:
        show_failure(console, log, status)
    return status


def _train(run_spec: str, seeds: str, out: str, checkpoint: str | None, checkpoint_every: float) -> int:
    from maprops.checkpoint import Checkpoints
    from maprops.progress import Progress
    from maprops.provenance import header_lines, provenance
    from maprops.train import NonFiniteError, train

    torch.set_num_threads(1)  # parallelism comes from seed batching and concurrent jobs
    try:
        spec = load_run_spec(run_spec)
        seed_list = parse_seeds(seeds)
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        print(f"maprops train: {err}", file=sys.stderr)
        return 2
    with BlockLock(out):
        checkpoints = Checkpoints(checkpoint or Path(out).with_suffix(".ckpt"), checkpoint_every)
        try:
            progress = None if spec.fixed_target else Progress(spec.iterations, spec.ppo.batch_size)
            columns = train(spec, seed_list, checkpoints, progress)
        except NonFiniteError as err:
            print(f"maprops train: {err}", file=sys.stderr)
            return 3
        wall = checkpoints.wall_time_s
        record = provenance(spec.canonical_json(), spec.run_id(), seed_list, wall, checkpoints.attempts)
        write_columns_csv(out, columns, header_lines(record))
        checkpoints.remove()
    print(f"trained {len(seed_list)} seeds of run {spec.run_id()} in {wall:.1f}s -> {out}")
    return 0
