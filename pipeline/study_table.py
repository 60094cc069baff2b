"""A study's per-seed values -> one Markdown table: final value per (setting, panel, sampler)
with its 95% bootstrap CI, and each sampler minus on-policy sampling (MA-PROPS, PROPS, then any
named variant of specs/samplers.yaml the figure lists) with its own bootstrap CI
(pipeline/compare.py: independent runs, so a two-sample bootstrap).

    python -m pipeline.study_table --seeds STUDY.seeds.csv --settings-json '[...]' \
        --metric success_rate --title "..." --out STUDY.md [--sampler-labels-json '{"name": "label"}']
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from maprops.io import write_text_atomic
from maprops.kinds import SAMPLERS  # the paper's order
from pipeline.compare import difference_ci, mean_ci, named_rng

SAMPLER_NAMES = {name: kind.name_in_text for name, kind in SAMPLERS.items()}
BASELINE = "on_policy"


def sampler_order(present: set[str], seen: list[str]) -> list[str]:
    """Registered samplers in the paper's order, then named variants in the order they appear."""
    return [s for s in SAMPLERS if s in present] + list(dict.fromkeys(s for s in seen if s not in SAMPLERS))


def differences(samplers: list[str], names: dict[str, str]) -> list[tuple[str, str, str]]:
    """Every sampler against on-policy sampling: registered ones latest first (MA-PROPS, then
    PROPS), then the variants, each with its column header."""
    if BASELINE not in samplers:
        return []
    registered = [s for s in reversed(SAMPLERS) if s in samplers and s != BASELINE]
    variants = [s for s in samplers if s not in SAMPLERS]
    return [(s, BASELINE, f"{names[s]} − {names[BASELINE]}") for s in registered + variants]


def final_values(seeds: pd.DataFrame, metric: str) -> dict[tuple[str, str, str], pd.Series]:
    """(setting, panel title, sampler) -> each seed's final value, in seed order."""
    rows = seeds[seeds["metric"] == metric].sort_values("seed")
    return {
        key: group["final"].reset_index(drop=True)
        for key, group in rows.groupby(["setting", "panel_title", "sampler"], sort=False)
    }


def study_markdown(
    seeds: pd.DataFrame, settings: list[dict], metric: str, title: str, labels: dict[str, str] | None = None
) -> str:
    """``labels`` names the named sampler variants (their legend labels). Bootstrap generators
    are named by panel and samplers, not by setting, so a run that two settings share
    (on-policy sampling, whose runs no behavior setting changes) shows the same CI in both."""
    values = final_values(seeds, metric)
    panels = list(dict.fromkeys(seeds.sort_values("panel_index")["panel_title"]))
    samplers = sampler_order(set(seeds["sampler"]), list(seeds["sampler"]))
    names = {s: SAMPLER_NAMES.get(s) or (labels or {}).get(s, s) for s in samplers}
    pairs = differences(samplers, names)
    lines = [
        f"# {title}",
        "",
        f"Final {metric} (last evaluation), mean over seeds [95% bootstrap CI]; differences between "
        "samplers with a two-sample bootstrap CI (each sampler's seeds resampled on their own).",
        "",
    ]
    for setting in settings:
        label = setting["label"]
        resolved = ", ".join(f"{path} = {value}" for path, value in setting["resolved"].items())
        lines += [f"## {label}" + (" (the base figure's runs)" if setting["base"] else ""), "", f"Overrides: {resolved}.", ""]
        header = ["panel", *(names[s] for s in samplers), *(d[2] for d in pairs)]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for panel in panels:
            cells = [panel]
            for sampler in samplers:
                v = values.get((label, panel, sampler))
                cells.append("not run" if v is None else f"{mean_ci(v, named_rng(panel, sampler)).format()} ({len(v)})")
            for a, b, _ in pairs:
                va, vb = values.get((label, panel, a)), values.get((label, panel, b))
                cells.append(
                    "not run" if va is None or vb is None else difference_ci(va, vb, named_rng(panel, a, b)).format(signed=True)
                )
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", required=True, help="per-seed CSV from pipeline/aggregate.py --seeds-out")
    parser.add_argument("--settings-json", required=True, help="the study's settings (pipeline/expand.py: study_settings)")
    parser.add_argument("--metric", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sampler-labels-json", default="{}", help="named variants' labels (Plan.sampler_labels)")
    args = parser.parse_args(argv)
    try:
        labels = json.loads(args.sampler_labels_json)
        text = study_markdown(pd.read_csv(args.seeds), json.loads(args.settings_json), args.metric, args.title, labels)
    except (OSError, ValueError, KeyError) as err:
        print(f"study_table: {args.seeds}: {err}", file=sys.stderr)
        return 1
    write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
