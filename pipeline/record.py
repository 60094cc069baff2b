"""The record: what the repository keeps for readers, apart from what a build writes.

A build (Snakemake) writes only ``results/`` and ``paper_figs/``, which git ignores, so no target
is ever satisfied by a committed file and a build never modifies one. ``record/`` holds copies
of finished builds' tables, figures and reports, laid out as a build tree
(``record/<scale>/aggregated/fig11.seeds.csv`` is a copy of ``results/<scale>/aggregated/...``),
plus ``record/index.json`` (what each entry is, which commits and engines trained its inputs)
and ``record/REPORT.md`` (the claims report rendered from the recorded full-scale tables).

Two commands touch it: ``maprops publish`` copies built entries in (the only writer; with
``--withdraw`` it takes entries out, e.g. ones an engine change made stale until they are rebuilt), and
``maprops verify`` (:mod:`pipeline.verify`) retrains recorded cells and compares every per-seed
value with the record. An entry is a figure, a study or a calibration at one scale, or
``premise`` (the Appendix E table of that scale).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from maprops.io import write_text_atomic
from pipeline.aggregate import inputs_summary

RECORD = "record"
INDEX = "index.json"
PREMISE = "premise"


@dataclass(frozen=True)
class Entry:
    """One recorded result: ``kind`` is figure, study, calibration or premise."""

    kind: str
    name: str
    scale: str

    @property
    def key(self) -> str:
        return f"{self.scale}/{self.name}"

    def files(self, plan) -> list[str]:
        """Its files relative to an output tree (``results`` or ``record``); ``plan`` is the
        scale's :class:`pipeline.expand.Plan` (for a figure's optional slopes table)."""
        s, n = self.scale, self.name
        if self.kind == "figure":
            files = [f"{s}/aggregated/{n}{x}" for x in (".csv", ".seeds.csv", ".steps.csv", ".inputs.json")]
            if n in plan.slope_figures:
                files.append(f"{s}/aggregated/{n}.slopes.csv")
            return [*files, f"{s}/figures/{n}.png"]
        if self.kind == "study":
            return [f"{s}/studies/{n}{x}" for x in (".csv", ".seeds.csv", ".steps.csv", ".inputs.json", ".md", ".png")]
        if self.kind == "calibration":
            suffixes = (".md", ".csv", ".curves.csv", ".seeds.csv", ".inputs.json", ".premise.csv")
            return [f"{s}/calibrations/{n}{x}" for x in suffixes]
        return [f"{s}/premise.csv"]

    @property
    def seeds_table(self) -> str | None:
        """The per-seed table verify compares (None: the premise table, which trains nothing)."""
        folder = {"figure": "aggregated", "study": "studies", "calibration": "calibrations"}.get(self.kind)
        return None if folder is None else f"{self.scale}/{folder}/{self.name}.seeds.csv"

    @property
    def inputs_record(self) -> str | None:
        return None if self.seeds_table is None else self.seeds_table.replace(".seeds.csv", ".inputs.json")


class RecordError(ValueError):
    """A publish or verify request that cannot be carried out; the message says why."""


def entry_kind(plan, name: str) -> str:
    """figure, study, calibration or premise; a name that is none of them is refused with the
    known names."""
    for kind, names in (("figure", plan.figures), ("study", plan.studies), ("calibration", plan.calibrations)):
        if name in names:
            return kind
    if name == PREMISE:
        return PREMISE
    known = ", ".join([*plan.figures, *plan.studies, *plan.calibrations, PREMISE])
    raise RecordError(f"{name!r} is not a figure, study, calibration or {PREMISE!r}; known: {known}")


def read_index(record: str | Path = RECORD) -> dict:
    path = Path(record) / INDEX
    if not path.is_file():
        return {"entries": {}}
    return json.loads(path.read_text())


def recorded_entries(record: str | Path = RECORD) -> list[Entry]:
    return [Entry(e["kind"], e["name"], e["scale"]) for e in read_index(record)["entries"].values()]


def head_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def publish(entries: list[Entry], plans: dict, results: str = "results", record: str = RECORD) -> list[str]:
    """Copy each built entry from ``results`` into ``record``, refusing before copying anything
    if a file is missing; then update the index. Returns one line per entry."""
    missing = [f"{results}/{f}" for e in entries for f in e.files(plans[e.scale]) if not (Path(results) / f).is_file()]
    if missing:
        shown = "\n  ".join(missing[:10]) + ("\n  ..." if len(missing) > 10 else "")
        raise RecordError(f"not built yet (build the target first, e.g. with snakemake):\n  {shown}")
    index = read_index(record)
    published = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = []
    for entry in entries:
        files = entry.files(plans[entry.scale])
        for rel in files:
            target = Path(record) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            shutil.copyfile(Path(results) / rel, tmp)
            tmp.replace(target)
        info = {"kind": entry.kind, "name": entry.name, "scale": entry.scale, "files": files, "published": published}
        info["published_at_commit"] = head_commit()
        if entry.inputs_record:
            info |= inputs_summary(Path(record) / entry.inputs_record)
        index["entries"][entry.key] = info
        trained = f", {info['seed_runs']} seed runs, engine {', '.join(info['engines'])}" if entry.inputs_record else ""
        lines.append(f"published {entry.key} ({entry.kind}, {len(files)} files{trained})")
    index["entries"] = dict(sorted(index["entries"].items()))
    write_text_atomic(Path(record) / INDEX, json.dumps(index, indent=1, sort_keys=True) + "\n")
    return lines


def withdraw(entries: list[Entry], record: str = RECORD) -> list[str]:
    """Take recorded entries out of ``record``: their files and index entries. A record must be
    what this checkout computes; an entry that a change moved and that is not rebuilt yet is
    withdrawn (git history keeps it) rather than left standing beside results it no longer matches."""
    index = read_index(record)
    unknown = [e.key for e in entries if e.key not in index["entries"]]
    if unknown:
        raise RecordError(f"not in {record}/{INDEX}: {', '.join(unknown)}")
    lines = []
    for entry in entries:
        files = index["entries"].pop(entry.key)["files"]
        for rel in files:
            path = Path(record) / rel
            path.unlink(missing_ok=True)
            for folder in path.parents:  # folders left empty go too, up to the record itself
                if folder == Path(record) or any(folder.iterdir()):
                    break
                folder.rmdir()
        lines.append(f"withdrew {entry.key} ({entry.kind}, {len(files)} files)")
    write_text_atomic(Path(record) / INDEX, json.dumps(index, indent=1, sort_keys=True) + "\n")
    return lines


def render_report(specs: str, record: str = RECORD, scale: str = "full") -> str:
    """Render ``record/REPORT.md`` from the recorded tables (the claims report of the record)."""
    from pipeline.report import main as report_main

    out = Path(record) / "REPORT.md"
    dates = sorted({e["published"] for e in read_index(record)["entries"].values() if e["scale"] == scale})
    published = f"published into {record}/ on {', '.join(dates)}" if dates else ""
    status = report_main(
        ["--specs", specs, "--scale", scale, "--out-root", str(record), "--out", str(out), "--published", published]
    )
    if status:
        raise RecordError("the claims report could not be rendered (see above)")
    return str(out)


def render_tables(specs: str, record: str = RECORD) -> str:
    """The paper's Tables 1-3 from the specs (no results in them) into ``record/tables/``."""
    from pipeline.tables import main as tables_main

    out = Path(record) / "tables"
    if tables_main(["--specs", specs, "--out-dir", str(out)]):
        raise RecordError("the hyperparameter tables could not be rendered (see above)")
    return f"{out}/table{{1,2,3}}.{{md,tex}}"


def publish_main(
    names: list[str], scale: str, all_entries: bool, specs: str, results: str, record: str, withdrawing: bool = False
) -> int:
    """``maprops publish``: copy built entries into the record (or take them out with
    ``withdrawing``), then render its report."""
    from pipeline.expand import Plan

    try:
        plans = {}

        def plan_of(s: str):
            if s not in plans:
                plans[s] = Plan(specs, s)
            return plans[s]

        if all_entries:
            entries = recorded_entries(record)
            if not entries:
                raise RecordError(f"{record}/{INDEX} lists no entries to publish again")
        else:
            if not names:
                raise RecordError("name the figures, studies or calibrations to publish (or --all)")
            entries = [Entry(entry_kind(plan_of(scale), n), n, scale) for n in names]
        for entry in entries:
            plan_of(entry.scale)
        for line in withdraw(entries, record) if withdrawing else publish(entries, plans, results, record):
            print(line)
        print(f"rendered {render_report(specs, record)}")
        print(f"rendered {render_tables(specs, record)}")
    except RecordError as err:
        print(f"maprops publish: {err}", file=sys.stderr)
        return 1
    return 0
