"""A sweep's aggregated curves -> one row per (sampler, Table 1 setting) and the best setting.

    python -m pipeline.sweep --curves CURVES.csv --settings-json '[...]' --out SWEEP.csv

Score: the mean over seeds of the metric at the final evaluation (with its 95% bootstrap CI
from the aggregation). ``best`` marks, per sampler, the highest score; ties go to the setting
listed first in ``hyperparams/table1.yaml`` order, so the choice is deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from maprops.io import atomic_path


def sweep_table(curves: pd.DataFrame, settings: list[dict]) -> pd.DataFrame:
    final = curves[curves["step"] == curves.groupby("sampler")["step"].transform("max")].set_index("sampler")
    rows = []
    for setting in settings:
        label = setting["label"]
        if label not in final.index:
            raise ValueError(f"no curve for setting {label!r}")
        point = final.loc[label]
        rows.append(
            {
                **setting,
                "score": point["mean"],
                "ci_low": point["ci_low"],
                "ci_high": point["ci_high"],
                "n_seeds": point["n_seeds"],
            }
        )
    first = ["sampler", "label", "learning_rate", "batch_size", "target_kl", "clip_coef"]
    table = pd.DataFrame(rows)
    table = table[first + [c for c in table.columns if c not in first]]
    best = table.groupby("sampler", sort=False)["score"].idxmax()  # first maximum: Table 1 order
    table["best"] = table.index.isin(best.values)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", required=True)
    parser.add_argument("--settings-json", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        table = sweep_table(pd.read_csv(args.curves), json.loads(args.settings_json))
    except (OSError, ValueError, KeyError) as err:
        print(f"sweep: {args.curves}: {err}", file=sys.stderr)
        return 1
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False)
    for _, row in table[table["best"]].iterrows():
        print(f"best {row['sampler']}: {row['label']} score {row['score']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
