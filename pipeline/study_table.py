"""A study's per-seed values -> one Markdown table: final value per (setting, panel, sampler)
with its 95% bootstrap CI, and the differences MA-PROPS - on-policy and PROPS - on-policy with
their own bootstrap CIs (pipeline/compare.py: independent runs, so a two-sample bootstrap).

    python pipeline/study_table.py --seeds STUDY.seeds.csv --settings-json '[...]' \
        --metric success_rate --title "..." --out STUDY.md
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
# every other sampler against on-policy sampling, latest registered first (MA-PROPS, then PROPS)
DIFFERENCES = tuple(
    (name, "on_policy", f"{SAMPLER_NAMES[name]} − {SAMPLER_NAMES['on_policy']}")
    for name in reversed(SAMPLERS)
    if name != "on_policy"
)


def final_values(seeds: pd.DataFrame, metric: str) -> dict[tuple[str, str, str], pd.Series]:
    """(setting, panel title, sampler) -> each seed's final value, in seed order."""
    rows = seeds[seeds["metric"] == metric].sort_values("seed")
    return {
        key: group["final"].reset_index(drop=True)
        for key, group in rows.groupby(["setting", "panel_title", "sampler"], sort=False)
    }


def study_markdown(seeds: pd.DataFrame, settings: list[dict], metric: str, title: str) -> str:
    """Bootstrap generators are named by panel and samplers, not by setting, so a run that two
    settings share (on-policy sampling, whose runs no behavior setting changes) shows the same
    CI in both."""
    values = final_values(seeds, metric)
    panels = list(dict.fromkeys(seeds.sort_values("panel_index")["panel_title"]))
    present = set(seeds["sampler"])
    samplers = [s for s in SAMPLERS if s in present]
    differences = [d for d in DIFFERENCES if {d[0], d[1]} <= present]
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
        header = ["panel", *(SAMPLER_NAMES.get(s, s) for s in samplers), *(d[2] for d in differences)]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for panel in panels:
            cells = [panel]
            for sampler in samplers:
                v = values.get((label, panel, sampler))
                cells.append("not run" if v is None else f"{mean_ci(v, named_rng(panel, sampler)).format()} ({len(v)})")
            for a, b, _ in differences:
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
    args = parser.parse_args(argv)
    try:
        text = study_markdown(pd.read_csv(args.seeds), json.loads(args.settings_json), args.metric, args.title)
    except (OSError, ValueError, KeyError) as err:
        print(f"study_table: {args.seeds}: {err}", file=sys.stderr)
        return 1
    write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
