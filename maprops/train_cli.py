"""``maprops train``: one process trains one block of seeds of one run spec."""

from __future__ import annotations

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
    return RunSpec.model_validate_json(source)


def train_main(run_spec: str, seeds: str, out: str, checkpoint: str | None = None, checkpoint_every: float = 60.0) -> int:
    """Train, then write the result CSV (provenance first) atomically. The snapshot file
    (default: ``OUT`` with suffix ``.ckpt``) lets a killed job resume; it is removed on success."""
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
