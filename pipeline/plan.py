"""``maprops plan TARGET``: the train jobs a target needs, their estimated cost, and a forecast
of the build's wall time on N cores, before anything runs.

The jobs are exactly the ones Snakemake would run for the same target and core count (the same
:class:`pipeline.expand.Plan`, so ``seed_block: auto`` gives the same blocks), assuming nothing
is built yet. Their durations are the cost model's estimates (``pipeline/resources.py``, no
safety factor). The forecast is a list-scheduling simulation: jobs longest first, each started
on the core that frees up first; aggregation, plots and reports take seconds and are left out.
Longest-first list scheduling finishes within 4/3 of the best possible schedule of the same
estimates, and never before max(total / cores, longest job).

A target is a figure, study, sweep or calibration name (``fig5``) or a file Snakemake builds for
one (``paper_figs/fig5.pdf``, ``results/smoke/figures/fig5.pdf``, ``results/full/studies/x.md``,
``results/full/calibrations/lbf.md``); a path under ``results/<scale>/`` sets the scale.
"""

from __future__ import annotations

import heapq
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.expand import Plan, seed_blocks
from pipeline.resources import train_seconds


@dataclass(frozen=True)
class Job:
    run_id: str
    sampler: str
    game: str
    lo: int
    hi: int
    seconds: float


@dataclass(frozen=True)
class Target:
    kind: str  # "figure", "study", "sweep" or "calibration"
    name: str
    scale: str | None  # from the path, if it names one


class UnknownTarget(ValueError):
    pass


def parse_target(text: str, plan_names: dict[str, list[str]]) -> Target:
    """``fig5``, ``paper_figs/fig5.pdf``,
    ``results/<scale>/{figures,aggregated,studies,sweeps,calibrations}/NAME.*``."""
    path = PurePosixPath(text)
    name = path.name.split(".")[0] if path.suffix else text
    scale = None
    match = re.match(r"^(?:.*/)?results/([A-Za-z0-9_]+)/(figures|aggregated|studies|sweeps|calibrations)/[^/]+$", text)
    if match:
        scale = match.group(1)
    elif path.suffix and path.parent.name == "paper_figs":
        scale = "full"
    elif path.suffix or "/" in text:
        raise UnknownTarget(f"unknown target {text!r}: not a figure, study, sweep or calibration name, nor one of their files")
    for kind in ("figure", "study", "sweep", "calibration"):
        if name in plan_names.get(kind, ()):
            return Target(kind, name, scale)
    plural = {"figure": "figures", "study": "studies", "sweep": "sweeps", "calibration": "calibrations"}
    known = "; ".join(f"{plural[kind]}: {', '.join(names)}" for kind, names in plan_names.items() if names)
    raise UnknownTarget(f"unknown target {text!r}; {known}")


def target_cells(plan: Plan, target: Target) -> list:
    """Every cell whose runs the target trains. A figure panel that takes its behavior settings
    from a sweep needs that whole sweep first, so the sweep's cells stand in for it."""
    if target.kind == "sweep":
        return [cell for _, cell in plan._sweep_cells[target.name]]
    if target.kind == "calibration":
        return plan.calibration_cells(target.name)
    if target.kind == "study":
        cells = plan._study_cells[target.name]
        figure = plan.library.study(target.name).figure
    else:
        cells = plan._cells[target.name]
        figure = target.name
    sweeps = {p.sweep for p in plan.library.figure(figure).panels if p.sweep}
    return [*cells, *(cell for sweep in sorted(sweeps) for _, cell in plan._sweep_cells[sweep])]


def train_jobs(plan: Plan, cells: list) -> list[Job]:
    """One job per (run, seed block), each run once, longest first."""
    jobs: dict[tuple, Job] = {}
    for cell in cells:
        run_id, spec = cell.run.run_id(), cell.run.canonical_json()
        for lo, hi in seed_blocks(cell.seeds, plan.block(cell), cell.first_seed):
            key = (run_id, lo, hi)
            if key not in jobs:
                seconds = train_seconds(spec, hi - lo + 1)
                jobs[key] = Job(run_id, cell.run.sampler.kind, cell.run.game.name, lo, hi, seconds)
    return sorted(jobs.values(), key=lambda j: (-j.seconds, j.run_id, j.lo))


def forecast_seconds(durations: list[float], cores: int) -> float:
    """Makespan of longest-first list scheduling of ``durations`` on ``cores`` identical cores."""
    free = [0.0] * min(cores, max(1, len(durations)))
    for duration in sorted(durations, reverse=True):
        heapq.heapreplace(free, free[0] + duration)
    return max(free)


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def job_lines(jobs: list[Job]) -> list[str]:
    """One line per run and block size: a run cut into 100 one-seed blocks is one line
    (``0-99 in 100 x 1``), not a hundred."""
    groups: dict[tuple, list[Job]] = {}
    for job in jobs:
        groups.setdefault((job.run_id, job.hi - job.lo + 1), []).append(job)
    lines = []
    for (run_id, size), members in groups.items():
        first, lo, hi = members[0], min(j.lo for j in members), max(j.hi for j in members)
        seeds = f"{lo}-{hi}" if len(members) == 1 else f"{lo}-{hi} in {len(members)} x {size}"
        lines.append(f"{run_id:16}  {first.sampler:9}  {first.game:16}  {seeds:20}  {first.seconds / 60:9.1f}")
    return lines


def report(target: Target, scale: str, cores: int, jobs: list[Job]) -> str:
    lines = [
        f"{target.kind} {target.name}, scale {scale}, {cores} cores: {len(jobs)} train jobs (estimates from pipeline/resources.py)"
    ]
    lines.append(f"{'run':16}  {'sampler':9}  {'game':16}  {'seeds (blocks)':20}  {'min / job':>9}")
    lines += job_lines(jobs)
    total = sum(j.seconds for j in jobs)
    longest = jobs[0].seconds if jobs else 0.0
    wall = forecast_seconds([j.seconds for j in jobs], cores)
    lines.append(f"total: {total / 3600:.1f} CPU-hours; longest job {hours(longest)}")
    lines.append(
        f"forecast wall time on {cores} cores: {hours(wall)} (longest-first list scheduling of the estimates; "
        f"no schedule beats max(total / cores, longest job) = {hours(max(total / cores, longest))})"
    )
    return "\n".join(lines)


def plan_main(target_text: str, cores: int, scale: str | None, specs: str) -> int:
    if cores < 1:
        print(f"maprops plan: --cores must be at least 1, got {cores}", file=sys.stderr)
        return 2
    if not Path(specs).is_dir():
        print(f"maprops plan: spec folder {specs!r} not found (run from the repository, or pass --specs)", file=sys.stderr)
        return 2
    from maprops.specs.errors import SpecErrors

    try:
        probe = Plan(specs, scale or "full", cores=cores)
    except SpecErrors as err:
        print(f"maprops plan: {err}", file=sys.stderr)
        return 2
    except KeyError as err:  # unknown scale
        print(f"maprops plan: {err.args[0]}", file=sys.stderr)
        return 2
    names = {"figure": probe.figures, "study": probe.studies, "sweep": probe.sweeps, "calibration": probe.calibrations}
    try:
        target = parse_target(target_text, names)
    except UnknownTarget as err:
        print(f"maprops plan: {err}", file=sys.stderr)
        return 2
    if scale and target.scale and scale != target.scale:
        print(f"maprops plan: --scale {scale} contradicts the target's path (scale {target.scale})", file=sys.stderr)
        return 2
    chosen = scale or target.scale or "full"
    try:
        plan = probe if chosen == probe.scale else Plan(specs, chosen, cores=cores)
    except KeyError as err:
        print(f"maprops plan: {err.args[0]}", file=sys.stderr)
        return 2
    jobs = train_jobs(plan, target_cells(plan, target))
    print(report(target, chosen, cores, jobs))
    return 0
