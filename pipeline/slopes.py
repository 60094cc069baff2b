"""Seed-block result CSVs -> each curve's log-log slope with a 95% bootstrap CI (``fit_slope``).

For a fixed-target figure with ``fit_slope: true`` (docs/rate.md): per (panel, sampler, metric)
curve, the least-squares slope of log(mean error over seeds) against log(samples collected) over
the curve's checkpoints from ``first_checkpoint`` on (the manifest's ``slopes.from``; the last
checkpoint is the figure's ``samples``). An error that falls as ``c * m^-a`` has slope ``-a``:
Theorem 2 predicts about -1 for a sampler that always takes the most under-sampled joint action,
-1/2 for on-policy sampling.

The CI is a percentile bootstrap over seeds, as the curves' bands are (pipeline/aggregate.py):
each resample draws the seeds with replacement, recomputes the mean curve and refits the slope.
Its generator comes from the manifest's seed and the curve's name only (``pipeline.compare.
named_rng``), so the table is byte-identical on every rebuild whatever else the figure holds.
The curves are read and their steps selected exactly as the aggregation reads them.

Usage (the Snakefile's ``slopes`` rule does this)::

    python -m pipeline.slopes --manifest MANIFEST.json --out OUT.slopes.csv
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from pipeline.aggregate import (
    CI_PERCENTILES,
    MAX_CHUNK_ELEMENTS,
    AggregationError,
    check_request,
    keep_steps,
    load_cell,
    read_manifest,
    seed_mean,
    write_aggregate,
)
from pipeline.compare import named_rng

SLOPE_COLUMNS = [
    "panel_index",
    "panel",
    "panel_title",
    "sampler",
    "metric",
    "slope",
    "ci_low",
    "ci_high",
    "first_step",
    "last_step",
    "n_points",
    "n_seeds",
]


def loglog_slope(steps: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``log(means)`` on ``log(steps)`` along the last axis (any leading
    axes: one fit per row). Needs at least two steps and positive means."""
    x = np.log(np.asarray(steps, dtype=np.float64))
    x = x - x.mean()
    y = np.log(means)
    return (y * x).sum(-1) / (x * x).sum()


def resampled_means(curves: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The mean curve of each resample of seeds: ``curves (n_seeds, n_steps)``, ``draws
    (resamples, n_seeds)`` -> ``(resamples, n_steps)``, in chunks of bounded memory."""
    n_seeds, n_steps = curves.shape
    chunk = max(1, MAX_CHUNK_ELEMENTS // max(1, n_seeds * n_steps))
    return np.concatenate([seed_mean(curves[draws[i : i + chunk]]) for i in range(0, len(draws), chunk)])


def fit_slope(curves: np.ndarray, steps: np.ndarray, rng: np.random.Generator, resamples: int, name: str = "") -> dict:
    """Slope of the mean curve and its 95% percentile bootstrap CI over seeds (whole seed curves
    resampled: one draw of seed indices serves every step). ``curves`` is ``(n_seeds, n_steps)``
    at ``steps``, already restricted to the fit's range. NaN with fewer than two steps."""
    n_seeds, n_points = curves.shape
    row = {"slope": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n_points": n_points, "n_seeds": n_seeds}
    if n_points < 2 or n_seeds == 0:
        return row
    mean = seed_mean(curves)
    if (mean <= 0).any():
        step = int(steps[np.flatnonzero(mean <= 0)[0]])
        raise AggregationError(f"{name}: mean error {mean[mean <= 0][0]} at step {step}: a log-log slope needs positive errors")
    draws = rng.integers(0, n_seeds, size=(resamples, n_seeds))
    means = resampled_means(curves, draws)
    if (means <= 0).any():
        step = int(steps[np.flatnonzero((means <= 0).any(0))[0]])
        raise AggregationError(
            f"{name}: a resample of seeds has mean error 0 at step {step}: a log-log slope needs positive errors"
        )
    low, high = np.percentile(loglog_slope(steps, means), CI_PERCENTILES)
    return {**row, "slope": float(loglog_slope(steps, mean)), "ci_low": float(low), "ci_high": float(high)}


def slopes(cells: list[dict], metrics: list[str], fit_from: int, resamples: int = 10000, seed: int = 0) -> pd.DataFrame:
    """One row per (panel, sampler, metric) curve, in the aggregated table's order: the slope of
    its log mean over the (kept) steps ``>= fit_from`` and the CI. Cells of a study (with a
    ``setting``) are refused: a study table has no slope column."""
    check_request(cells, metrics, resamples)
    if any(cell.get("setting") for cell in cells):
        raise AggregationError("slopes are fitted for figures, not study settings")
    if isinstance(fit_from, bool) or not isinstance(fit_from, int) or fit_from < 1:
        raise AggregationError(f"slopes.from must be a positive integer, got {fit_from!r}")
    panels = list(dict.fromkeys(c["panel"] for c in cells))
    samplers = list(dict.fromkeys(c["sampler"] for c in cells))
    by_key = {(c["panel"], c["sampler"]): c for c in cells}
    rows = []
    for panel_index, panel in enumerate(panels):
        for sampler in samplers:
            cell = by_key.get((panel, sampler))
            if cell is None:
                continue
            steps, curves = keep_steps(cell, *load_cell(cell, metrics))
            fitted = steps >= fit_from
            for metric in metrics:
                rng = named_rng("slope", panel, sampler, metric, seed=seed)
                fit = fit_slope(curves[metric][:, fitted], steps[fitted], rng, resamples, f"{panel}/{sampler}/{metric}")
                rows.append(
                    {
                        "panel_index": panel_index,
                        "panel": panel,
                        "panel_title": cell["panel_title"],
                        "sampler": sampler,
                        "metric": metric,
                        "first_step": int(steps[fitted][0]) if fitted.any() else 0,
                        "last_step": int(steps[fitted][-1]) if fitted.any() else 0,
                        **fit,
                    }
                )
    return pd.DataFrame(rows, columns=SLOPE_COLUMNS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, help="JSON file: cells, metrics, slopes.from, optional resamples and seed")
    parser.add_argument("--out", required=True, help="slopes CSV to write")
    args = parser.parse_args(argv)
    try:
        manifest = read_manifest(args.manifest)
        if not isinstance(manifest.get("slopes"), dict) or "from" not in manifest["slopes"]:
            raise AggregationError(f"manifest {args.manifest} has no 'slopes': {{'from': N}} (the figure does not set fit_slope)")
        table = slopes(
            manifest["cells"],
            manifest["metrics"],
            manifest["slopes"]["from"],
            resamples=manifest.get("resamples", 10000),
            seed=manifest.get("seed", 0),
        )
    except AggregationError as e:
        print(f"slopes: {e}", file=sys.stderr)
        return 1
    write_aggregate(table, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
