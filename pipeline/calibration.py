"""A calibration's per-seed on-policy values -> its table: one row per candidate, the chosen one
marked (the protocol: docs/assumptions.md#calibration).

Per candidate, in the spec's order: the final value of the criterion's metric (each seed's last
evaluation), its mean over seeds with a 95% percentile bootstrap CI (pipeline/compare.py), and
whether it meets the criterion: the mean (``require: mean``) or the whole CI (``require: ci``)
inside ``final_between``, bounds included. The first candidate that meets it is chosen. If none
does, the table says so and names the candidate closest to the band: the smallest distance from
its mean to the band, the earlier candidate on a tie.

Only on-policy rows are read; a per-seed table holding any other sampler is refused.

    python -m pipeline.calibration --seeds NAME.seeds.csv --spec-json '{...}' --md NAME.md --csv NAME.csv

(``--spec-json``: pipeline/expand.py ``Plan.calibration_table_spec``.)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import dataclass

import pandas as pd

from maprops.io import write_text_atomic
from maprops.specs.calibrations import CALIBRATION_SAMPLER
from pipeline.compare import Estimate, mean_ci, named_rng


@dataclass(frozen=True)
class Selection:
    """``index``: the chosen candidate, or (``met`` False) the one closest to the band."""

    index: int
    met: bool


def meets(estimate: Estimate, criterion: dict, premise: str | None = None) -> bool:
    """Whether one candidate meets the criterion: its estimate within the band (bounds included)
    and, with ``premise: holds``, its game's premise verdict ``premise`` is "holds"."""
    if criterion.get("premise") == "holds" and premise != "holds":
        return False
    low, high = criterion["final_between"]
    if criterion.get("require", "mean") == "ci":
        return low <= estimate.low and estimate.high <= high
    return low <= estimate.value <= high


def distance(estimate: Estimate, criterion: dict) -> float:
    """How far the mean lies outside the band (0 inside)."""
    low, high = criterion["final_between"]
    return max(low - estimate.value, estimate.value - high, 0.0)


def select(estimates: list[Estimate], criterion: dict, premises: list[str | None] | None = None) -> Selection:
    """The first candidate, in order, that meets the criterion; else the closest to the band
    (whatever its premise: the fallback names where the runs come nearest)."""
    if not estimates:
        raise ValueError("no candidates")
    premises = premises or [None] * len(estimates)
    for i, (estimate, premise) in enumerate(zip(estimates, premises)):
        if meets(estimate, criterion, premise):
            return Selection(i, True)
    distances = [distance(e, criterion) for e in estimates]
    return Selection(distances.index(min(distances)), False)


def final_values(seeds: pd.DataFrame, metric: str, labels: list[str]) -> list[pd.Series]:
    """Each candidate's per-seed final values, in seed order; refuses rows of other samplers and
    candidates without rows."""
    others = sorted(set(seeds["sampler"]) - {CALIBRATION_SAMPLER})
    if others:
        raise ValueError(f"holds rows of sampler(s) {', '.join(others)}: a calibration reads {CALIBRATION_SAMPLER} only")
    rows = seeds[seeds["metric"] == metric].sort_values("seed", kind="stable")
    groups = {label: group["final"].reset_index(drop=True) for label, group in rows.groupby("setting", sort=False)}
    missing = [label for label in labels if label not in groups]
    if missing:
        raise ValueError(f"no {metric} values for candidate(s): {'; '.join(missing)}")
    return [groups[label] for label in labels]


def premise_verdicts(path: str | None, labels: list[str]) -> list[str | None]:
    """Each candidate's premise verdict from the premise table (None for all without one)."""
    if path is None:
        return [None] * len(labels)
    rows = pd.read_csv(path).sort_values("order")
    if list(rows["candidate"]) != labels:
        raise ValueError(f"{path}: its candidates {list(rows['candidate'])} are not this calibration's {labels}")
    return list(rows["verdict"])


def estimates_of(values: list[pd.Series], spec: dict) -> list[Estimate]:
    """Mean and 95% bootstrap CI per candidate; each generator is named by the calibration and
    the candidate, so a row does not change when other candidates are added."""
    return [mean_ci(v, named_rng(spec["calibration"], c["label"])) for v, c in zip(values, spec["candidates"])]


def _band(criterion: dict) -> str:
    low, high = criterion["final_between"]
    return f"[{low:g}, {high:g}]"


def _rule(criterion: dict) -> str:
    what = "the whole 95% bootstrap CI of the mean" if criterion.get("require", "mean") == "ci" else "the mean over seeds"
    premise = (
        "; and the premise holds for the candidate's game (every agent's gradient on its cooperative action above 0 under uniform random policies)"
        if criterion.get("premise") == "holds"
        else ""
    )
    return (
        f"final {criterion['metric']} (each seed's last evaluation): {what} within {_band(criterion)}, bounds included{premise}"
    )


def _setting_text(value) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def table_csv(spec: dict, estimates: list[Estimate], selection: Selection, premises: list[str | None]) -> str:
    fields = spec["fields"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["order", "candidate", *fields, "run_id", "n_seeds", "mean", "ci_low", "ci_high", "premise", "meets", "chosen", "closest"]
    )
    for i, (candidate, estimate, premise) in enumerate(zip(spec["candidates"], estimates, premises)):
        settings = [_setting_text(candidate["settings"][f]) for f in fields]
        writer.writerow(
            [
                i,
                candidate["label"],
                *settings,
                candidate["run_id"],
                estimate.n,
                repr(estimate.value),
                repr(estimate.low),
                repr(estimate.high),
                premise or "",
                meets(estimate, spec["criterion"], premise),
                selection.met and selection.index == i,
                not selection.met and selection.index == i,
            ]
        )
    return out.getvalue()


def table_markdown(spec: dict, estimates: list[Estimate], selection: Selection, premises: list[str | None]) -> str:
    criterion = spec["criterion"]
    n = {e.n for e in estimates}
    seeds = f"{n.pop()} seeds" if len(n) == 1 else "seeds"
    lines = [
        f"# {spec['title']}",
        "",
        f"Calibration `{spec['calibration']}`: game `{spec['game']}` ({spec['variant']}), {spec['algorithm'].upper()} "
        f"with on-policy sampling only, {seeds} per candidate. Criterion: {_rule(criterion)}. Candidates are "
        "tried in the order written; the first that meets the criterion is chosen.",
        "",
    ]
    chosen = spec["candidates"][selection.index]
    if selection.met:
        lines += [f"**Chosen: candidate {selection.index} ({chosen['label']}).**", ""]
    else:
        gap = distance(estimates[selection.index], criterion)
        lines += [
            f"**No candidate meets the criterion.** Closest to the band {_band(criterion)} (by the band alone): candidate "
            f"{selection.index} ({chosen['label']}), {gap:.2f} outside it.",
            "",
        ]
    metric = criterion["metric"]
    lines += [
        f"| # | candidate | run | final {metric}, mean [95% CI] (seeds) | premise | meets | |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (candidate, estimate, premise) in enumerate(zip(spec["candidates"], estimates, premises)):
        mark = "**chosen**" if selection.met and i == selection.index else ("closest" if i == selection.index else "")
        ok = "yes" if meets(estimate, criterion, premise) else "no"
        lines.append(
            f"| {i} | {candidate['label']} | `{candidate['run_id']}` | {estimate.format()} ({estimate.n}) | {premise or 'not checked'} | {ok} | {mark} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", required=True, help="per-seed CSV from pipeline/aggregate.py --seeds-out")
    parser.add_argument("--spec-json", required=True, help="pipeline/expand.py: Plan.calibration_table_spec")
    parser.add_argument("--md", required=True, help="Markdown table to write")
    parser.add_argument("--csv", required=True, help="CSV table to write")
    parser.add_argument("--premise", help="pipeline/calibration_premise.py's table (one verdict per candidate)")
    args = parser.parse_args(argv)
    try:
        spec = json.loads(args.spec_json)
        labels = [c["label"] for c in spec["candidates"]]
        values = final_values(pd.read_csv(args.seeds), spec["criterion"]["metric"], labels)
        estimates = estimates_of(values, spec)
        premises = premise_verdicts(args.premise, labels)
        if spec["criterion"].get("premise") and None in premises:
            raise ValueError("the criterion asks for the premise check: give --premise")
        selection = select(estimates, spec["criterion"], premises)
    except (OSError, ValueError, KeyError) as err:
        print(f"calibration: {args.seeds}: {err}", file=sys.stderr)
        return 1
    write_text_atomic(args.csv, table_csv(spec, estimates, selection, premises))
    write_text_atomic(args.md, table_markdown(spec, estimates, selection, premises))
    return 0


if __name__ == "__main__":
    sys.exit(main())
