"""``maprops verify``: retrain recorded cells at this checkout and compare every per-seed value.

For each recorded entry (record/index.json) the entry's cells are resolved from the specs of
this checkout, exactly as a build would (:class:`pipeline.expand.Plan`), then:

1. every cell's run must be one the record was made from (its ``inputs.json``): a run whose
   spec changed since (a YAML edit, a new default) has another hash and is reported as such;
2. the chosen cells are retrained -- the chosen seeds only, in a temporary folder, one
   ``maprops train`` process per cell, ``--jobs`` at a time -- and each seed's first, final and
   mean value of every metric, computed by the aggregation's own code, must equal the record's
   ``.seeds.csv`` exactly. A seed's numbers do not depend on which seeds train beside it, so a
   few seeds of a cell check the same numbers as the whole cell;
3. ``premise`` entries are recomputed (``maprops premise``) and compared byte for byte.

Every difference is listed (entry, setting, panel, sampler, metric, seed, statistic, recorded
and new value) and the exit status is 1; a clean run exits 0. The estimated cost (the cost model
of pipeline/resources.py) is printed before anything trains, and a line per finished cell.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from pipeline.aggregate import SEED_STATISTICS, keep_steps, load_cell, seed_summary
from pipeline.plan import forecast_seconds, hours
from pipeline.record import PREMISE, Entry, RecordError, entry_kind, recorded_entries
from pipeline.resources import train_seconds


@dataclass
class Check:
    """One cell to retrain, and what the record says it gave."""

    entry: Entry
    cell: dict
    metrics: list[str]
    run_id: str
    spec_json: str
    seeds: list[int]
    recorded: pd.DataFrame
    recorded_steps: pd.DataFrame | None = None  # every seed's value at every step, where recorded
    seconds: float = field(init=False)

    def __post_init__(self):
        self.seconds = train_seconds(self.spec_json, len(self.seeds))

    @property
    def label(self) -> str:
        setting = f"[{self.cell['setting']}] " if self.cell.get("setting") else ""
        return f"{self.entry.key} {setting}{self.cell['panel']} {self.cell['sampler']}"


def manifest_of(plan, entry: Entry) -> dict:
    if entry.kind == "figure":
        return plan.manifest(entry.name)
    if entry.kind == "study":
        return plan.study_manifest(entry.name)
    return plan.calibration_manifest(entry.name)


def run_of(cell: dict) -> str:
    """A manifest cell's run id, from its result files (``.../runs/<run_id>/seeds_lo-hi.csv``)."""
    return Path(cell["files"][0]).parent.name


def matches(cell: dict, pattern: str) -> bool:
    """``GAME/SAMPLER`` (either may be ``*``; GAME is the panel's game, or the whole panel)."""
    game, _, sampler = pattern.partition("/")
    panel = cell["panel"]
    return game in ("*", panel, panel.split("/")[0]) and sampler in ("", "*", cell["sampler"])


def choose_cells(cells: list[dict], selection: str | None) -> list[dict]:
    """All cells; ``K`` evenly spaced ones (the first and last included); or those matching a
    comma-separated list of ``GAME/SAMPLER`` patterns."""
    if selection is None:
        return cells
    if selection.isdigit():
        k = int(selection)
        if k < 1:
            raise RecordError("--cells: at least 1")
        if k >= len(cells):
            return cells
        picks = sorted({round(i * (len(cells) - 1) / max(1, k - 1)) for i in range(k)})
        return [cells[i] for i in picks]
    patterns = [p.strip() for p in selection.split(",") if p.strip()]
    return [c for c in cells if any(matches(c, p) for p in patterns)]


def choose_seeds(seeds: list[int], selection: str | None) -> list[int]:
    """All of a cell's seeds; the first ``K``; or those in ``LO-HI``."""
    if selection is None:
        return list(seeds)
    if selection.isdigit():
        if int(selection) < 1:
            raise RecordError(
                f"--seeds: {selection} selects no seed; give a count K of at least 1, or a range LO-HI (0-0 is seed 0)"
            )
        return sorted(seeds)[: int(selection)]
    lo, sep, hi = selection.partition("-")
    if not (sep and lo.isdigit() and hi.isdigit()):
        raise RecordError(f"--seeds: {selection!r} is neither a count K nor a range LO-HI")
    if int(lo) > int(hi):
        raise RecordError(f"--seeds: {selection!r} is an empty range (LO above HI)")
    return [s for s in sorted(seeds) if int(lo) <= s <= int(hi)]


def cell_rows(table: pd.DataFrame, cell: dict) -> pd.DataFrame:
    """A recorded table's rows of one cell (and its setting, in a study)."""
    rows = table[(table["panel"] == cell["panel"]) & (table["sampler"] == cell["sampler"])]
    if "setting" in table.columns:
        rows = rows[rows["setting"] == cell.get("setting", "")]
    return rows


def plan_checks(entry: Entry, plan, record: Path, cells: str | None, seeds: str | None) -> tuple[list[Check], list[str]]:
    """The cells of ``entry`` to retrain, and problems found without training (runs the record
    was not made from, a missing record file)."""
    seeds_path, inputs_path = record / entry.seeds_table, record / entry.inputs_record
    for path in (seeds_path, inputs_path):
        if not path.is_file():
            return [], [f"{entry.key}: {path} is missing from the record"]
    recorded_runs = {r["run_id"] for r in json.loads(inputs_path.read_text())["results"]}
    table = pd.read_csv(seeds_path)
    steps_path = seeds_path.with_name(seeds_path.name.replace(".seeds.csv", ".steps.csv"))
    steps_table = pd.read_csv(steps_path) if steps_path.is_file() else None
    manifest = manifest_of(plan, entry)
    problems, checks = [], []
    for cell in choose_cells(manifest["cells"], cells):
        run_id = run_of(cell)
        where = (f"[{cell['setting']}] " if cell.get("setting") else "") + f"{cell['panel']} {cell['sampler']}"
        if run_id not in recorded_runs:
            problems.append(
                f"{entry.key} {where}: this checkout's run {run_id} is not one the record was made from "
                "(its run spec changed: a spec edit or a new default); publish a rebuild"
            )
            continue
        chosen = choose_seeds(cell["seeds"], seeds)
        if chosen:
            rows, steps = (None if t is None else cell_rows(t, cell) for t in (table, steps_table))
            checks.append(Check(entry, cell, manifest["metrics"], run_id, plan.runs[run_id], chosen, rows, steps))
    return checks, problems


def retrain(checks: list[Check], folder: Path) -> list[str]:
    """Train one (run, seeds) in ``folder`` once and list every per-seed value that differs
    from each record that holds it (fig13 and fig14 are drawn from fig11's runs)."""
    first = checks[0]
    spec_file = folder / f"{first.run_id}-{os.getpid()}-{id(first)}.json"
    out = spec_file.with_suffix(".csv")
    spec_file.write_text(first.spec_json)
    seeds = ",".join(map(str, first.seeds))
    command = [sys.executable, "-m", "maprops.cli", "train", "--run-spec", str(spec_file), "--seeds", seeds, "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        tail = "\n    ".join(done.stderr.strip().splitlines()[-5:])
        return [f"{c.label}: training failed (exit {done.returncode}):\n    {tail}" for c in checks]
    differences = []
    for check in checks:
        differences += compare(check, out)
    out.unlink(missing_ok=True)
    spec_file.unlink(missing_ok=True)
    return differences


def compare(check: Check, result: Path) -> list[str]:
    """Every per-seed value of ``result`` (a fresh training of the check's run and seeds),
    computed by the aggregation's own code, against the record."""
    cell = {**check.cell, "files": [str(result)], "seeds": check.seeds}
    steps, curves = keep_steps(cell, *load_cell(cell, check.metrics))
    differences = []
    for metric in check.metrics:
        new = seed_summary(curves[metric], check.seeds).set_index("seed")
        old = check.recorded[check.recorded["metric"] == metric].set_index("seed")
        for seed in check.seeds:
            if seed not in old.index:
                differences.append(f"{check.label} {metric} seed {seed}: not in the record")
                continue
            for statistic in SEED_STATISTICS:
                before, after = float(old.at[seed, statistic]), float(new.at[seed, statistic])
                if not (before == after or (math.isnan(before) and math.isnan(after))):
                    differences.append(f"{check.label} {metric} seed {seed} {statistic}: record {before!r}, HEAD {after!r}")
        if check.recorded_steps is not None:
            differences += step_differences(check, metric, curves[metric], steps)
    return differences


def step_differences(check: Check, metric: str, values, steps) -> list[str]:
    """Every (seed, step) whose value differs from the record's steps table."""
    old = check.recorded_steps[check.recorded_steps["metric"] == metric].set_index(["seed", "step"])["value"]
    differences = []
    for row, seed in enumerate(sorted(check.seeds)):
        for column, step in enumerate(steps.tolist()):
            after = float(values[row, column])
            if (seed, step) not in old.index:
                differences.append(f"{check.label} {metric} seed {seed} step {step}: not in the record")
            elif (before := float(old.at[(seed, step)])) != after and not (math.isnan(before) and math.isnan(after)):
                differences.append(f"{check.label} {metric} seed {seed} step {step}: record {before!r}, HEAD {after!r}")
    return differences


def verify_premise(entry: Entry, specs: str, record: Path, folder: Path) -> list[str]:
    """Recompute a premise table with the recorded episodes and seed; compare bytes."""
    recorded = record / entry.files(None)[0]
    if not recorded.is_file():
        return [f"{entry.key}: {recorded} is missing from the record"]
    first = pd.read_csv(recorded).iloc[0]
    out = folder / "premise.csv"
    command = [sys.executable, "-m", "maprops.cli", "premise", "--specs", specs, "--episodes", str(int(first["episodes"]))]
    done = subprocess.run([*command, "--seed", str(int(first["seed"])), "--csv", str(out)], capture_output=True, text=True)
    if done.returncode:
        return [f"{entry.key}: maprops premise failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"]
    if out.read_bytes() != recorded.read_bytes():
        old, new = pd.read_csv(recorded), pd.read_csv(out)
        if old.shape != new.shape:
            return [f"{entry.key}: premise table has shape {new.shape} at HEAD, {old.shape} in the record"]
        differing = (old.astype(str) != new.astype(str)).any(axis=1)
        return [
            f"{entry.key}: premise row {i} ({old.at[i, 'game']}/{old.at[i, 'variant']} agent {old.at[i, 'agent']}) differs"
            for i in differing[differing].index
        ]
    return []


def cpu_time(seconds: float) -> str:
    return hours(seconds) if seconds >= 60 else f"{seconds:.0f} s"


def nothing_selected(name: str | None, cells: str | None, seeds: str | None, entries: list[Entry], plan_of) -> str:
    """The error for a request that selects no cell and seed: what was asked, and the cells
    (``GAME/SAMPLER``) the named entry has, to correct a pattern against."""
    asked = " ".join(f"{flag} {value}" for flag, value in (("--cells", cells), ("--seeds", seeds)) if value is not None)
    text = f"{name or 'the record'}: {asked or 'the selection'} selects no recorded cell and seed, so nothing would be checked"
    if name is not None and entries:
        cells_of = manifest_of(plan_of(entries[0].scale), entries[0])["cells"]
        names = sorted({f"{c['panel'].split('/')[0]}/{c['sampler']}" for c in cells_of})
        text += f"; its cells: {', '.join(names)}"
    return text


def read_sample(path: str) -> list[tuple[str, str | None, str | None]]:
    """A drift-guard sample file: ``checks: [{entry: NAME, cells: PATTERNS, seeds: K|LO-HI}]``."""
    try:
        data = yaml.safe_load(Path(path).read_text())
        return [(str(c["entry"]), c.get("cells"), None if c.get("seeds") is None else str(c["seeds"])) for c in data["checks"]]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise RecordError(f"{path}: not a sample file with checks: [{{entry, cells, seeds}}] ({err})") from err


def verify_main(
    names: list[str],
    scale: str | None,
    cells: str | None,
    seeds: str | None,
    sample: str | None,
    jobs: int,
    specs: str,
    record: str,
    dry_run: bool = False,
) -> int:
    from pipeline.expand import Plan

    record_path = Path(record)
    plans: dict[str, Plan] = {}

    def plan_of(s: str) -> Plan:
        if s not in plans:
            plans[s] = Plan(specs, s)
        return plans[s]

    try:
        recorded = recorded_entries(record_path)
        if not recorded:
            raise RecordError(f"{record_path}/index.json lists no entries: nothing is recorded to verify")
        if sample:
            requests = read_sample(sample)
        else:
            requests = [(n, cells, seeds) for n in names] or [(None, cells, seeds)]
        checks, problems, premises = [], [], []
        for name, cell_selection, seed_selection in requests:
            chosen = [e for e in recorded if (name is None or e.name == name) and (scale is None or e.scale == scale)]
            if name is not None and not chosen:
                entry_kind(plan_of(scale or "full"), name)  # unknown names are refused with the known ones
                where = f" at scale {scale}" if scale else ""
                raise RecordError(f"{name!r} is not recorded{where}; recorded: {', '.join(e.key for e in recorded)}")
            cells_before, premises_before = len(checks) + len(problems), len(premises)
            for entry in chosen:
                if entry.kind == PREMISE:
                    premises.append(entry)
                    continue
                found, trouble = plan_checks(entry, plan_of(entry.scale), record_path, cell_selection, seed_selection)
                checks += found
                problems += trouble
            # A selection that matches nothing would "pass" having checked nothing: a typo in a
            # drift-guard sample (or a renamed panel) must fail, not quietly shrink the guard. A
            # premise table has no cells or seeds, so it does not answer a --cells/--seeds selection.
            matched = len(checks) + len(problems) > cells_before
            selecting = cell_selection is not None or seed_selection is not None
            if not matched and (selecting or len(premises) == premises_before):
                raise RecordError(nothing_selected(name, cell_selection, seed_selection, chosen, plan_of))
    except RecordError as err:
        print(f"maprops verify: {err}", file=sys.stderr)
        return 2

    trainings: dict[tuple, list[Check]] = {}  # one training per (run, seeds), compared with every record holding it
    for check in checks:
        trainings.setdefault((check.run_id, tuple(check.seeds)), []).append(check)
    total = sum(group[0].seconds for group in trainings.values())
    seed_runs = sum(len(c.seeds) for c in checks)
    wall = forecast_seconds([group[0].seconds for group in trainings.values()], jobs) if checks else 0.0
    print(
        f"verify: {len(checks)} cells ({seed_runs} seed runs) of {len({c.entry for c in checks})} recorded entries, "
        f"{len(trainings)} trainings"
        + (f", and {len(premises)} premise tables" if premises else "")
        + f"; estimated {cpu_time(total)} of CPU, about {cpu_time(wall)} on {jobs} jobs (pipeline/resources.py)",
        flush=True,
    )
    if dry_run:
        for check in sorted(checks, key=lambda c: -c.seconds):
            print(f"  {check.label}, {len(check.seeds)} seeds: about {cpu_time(check.seconds)}")
        for line in problems:
            print(f"  {line}")
        return 1 if problems else 0
    differences = list(problems)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="maprops-verify-") as tmp, ThreadPoolExecutor(max_workers=jobs) as pool:
        folder = Path(tmp)
        for entry in premises:
            found = verify_premise(entry, specs, record_path, folder)
            print(f"{entry.key}: {'ok' if not found else f'{len(found)} differences'}", flush=True)
            differences += found
        # longest first, as the forecast assumes
        groups = sorted(trainings.values(), key=lambda g: -g[0].seconds)
        futures = {pool.submit(retrain, group, folder): group for group in groups}
        done_seconds = 0.0
        for i, future in enumerate(as_completed(futures), 1):
            group, found = futures[future], future.result()
            differences += found
            done_seconds += group[0].seconds
            elapsed = time.monotonic() - started
            left = elapsed * (total - done_seconds) / done_seconds if done_seconds else 0.0
            status = "ok" if not found else f"{len(found)} DIFFERENCES"
            also = f" (+{len(group) - 1} records of the same run)" if len(group) > 1 else ""
            print(
                f"[{i}/{len(groups)}] {group[0].label}{also}, {len(group[0].seeds)} seeds: {status} "
                f"({elapsed:.0f} s; about {left:.0f} s left)",
                flush=True,
            )
    if differences:
        print(f"\nverify: {len(differences)} differences between the record and this checkout:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"verify: the record and this checkout agree on all {seed_runs} seed runs checked")
    return 0


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
