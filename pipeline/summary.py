"""Print the final point of every curve of an aggregated figure table as a Markdown table.

    python -m pipeline.summary results/full/aggregated/fig11.csv [--metric success_rate]

One row per panel, one column per sampler, each cell ``mean [ci_low, ci_high]`` at the last
evaluated step: the numbers a closing note or a findings page quotes. A curve missing from the
table (a cell not yet trained) shows as "not run".
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from maprops.kinds import SAMPLERS  # the paper's order


def final_table(aggregated: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = aggregated[aggregated["metric"] == metric]
    if rows.empty:
        raise ValueError(f"no rows for metric {metric!r}; present: {', '.join(aggregated['metric'].unique())}")
    last = rows[rows["step"] == rows.groupby(["panel", "sampler"])["step"].transform("max")]
    cells = last.assign(
        cell=[f"{m:.2f} [{lo:.2f}, {hi:.2f}]" for m, lo, hi in zip(last["mean"], last["ci_low"], last["ci_high"])]
    )
    table = cells.pivot(index=["panel_index", "panel_title"], columns="sampler", values="cell")
    present = set(rows["sampler"])
    samplers = [s for s in SAMPLERS if s in present] + sorted(present - set(SAMPLERS))
    return table[samplers].reset_index(level=0, drop=True).fillna("not run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("aggregated")
    parser.add_argument("--metric", default="success_rate")
    args = parser.parse_args(argv)
    try:
        table = final_table(pd.read_csv(args.aggregated), args.metric)
    except (OSError, ValueError) as err:
        print(f"summary: {args.aggregated}: {err}", file=sys.stderr)
        return 1
    print(f"| panel | {' | '.join(table.columns)} |")
    print("|---|" + "---|" * len(table.columns))
    for title, row in table.iterrows():
        print(f"| {title} | {' | '.join(row)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
