"""Seed-block result CSVs -> one tidy table of mean and 95% bootstrap CI per curve.

A curve is one (panel, sampler, metric): the mean over seeds at every evaluation step. The
confidence band is a percentile bootstrap over seeds that resamples *whole curves* (one draw of
seed indices is applied to every step), so the band describes run-to-run variation of the
learning curve rather than of isolated points.

The output depends only on the numbers, never on bookkeeping: rows are sorted by seed before any
statistic is computed, and each curve's random generator is derived from the global seed and the
curve's name, so splitting seeds over more files, listing files or cells in another order, or
adding a figure panel leaves every other curve's CI byte-identical.

Usage (the Snakefile's ``aggregate`` rule does this; the ``manifest`` rule writes the file)::

    python -m pipeline.aggregate --manifest MANIFEST.json --out OUT.csv

where MANIFEST.json is ``{"metrics": [...], "cells": [...]}`` (pipeline/expand.py, ``Plan.manifest``).
A cell may list the ``steps`` its curve keeps (a figure with geometric checkpoints: the engine
measures every ``first_checkpoint`` samples, the figure plots 16, 32, 64, ...); by default every
measured step is kept.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from maprops.io import atomic_path, write_text_atomic
from maprops.results import KEY_COLUMNS, METRIC_COLUMNS, RESULT_HEADERS

HEADERS = [list(h) for h in RESULT_HEADERS.values()]
INT_COLUMNS = list(KEY_COLUMNS)
OUTPUT_COLUMNS = ["panel_index", "panel", "panel_title", "sampler", "metric", "step", "mean", "ci_low", "ci_high", "n_seeds"]
# A study's tables lead with the setting (cells carry a "setting" label); a figure's have none.
SETTING_COLUMN = "setting"
# Per-seed summaries of every curve: what claims and study tables compare (``--seeds-out``).
SEED_STATISTICS = ("first", "final", "mean")  # first / last evaluation, mean over evaluations
SEED_COLUMNS = ["panel_index", "panel", "panel_title", "sampler", "metric", "seed", *SEED_STATISTICS]
# Every seed's value at every evaluation (``--steps-out``): what per-evaluation claims compare.
STEP_COLUMNS = ["panel_index", "panel", "panel_title", "sampler", "metric", "seed", "step", "value"]
FLOAT_OUTPUT_COLUMNS = {"mean", "ci_low", "ci_high", "first", "final", "slope", "value"}
INT_OUTPUT_COLUMNS = {"panel_index", "step", "n_seeds", "seed", "first_step", "last_step", "n_points"}

CI_PERCENTILES = (2.5, 97.5)
MAX_CHUNK_ELEMENTS = 2**22  # bound on one chunk of resampled curves (32 MiB of float64)


class AggregationError(ValueError):
    """Raw results that cannot make a trustworthy curve; the message names the offending file."""


# --------------------------------------------------------------------------- reading


def read_block(path: str | Path, metrics: list[str]) -> pd.DataFrame:
    """One seed-block CSV, refused unless its header, keys and requested metrics are clean."""
    path = str(path)
    try:
        header = table_shape(path)
        frame = pd.read_csv(path, comment="#")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise AggregationError(f"{path}: cannot read ({e})") from e
    missing = [m for m in metrics if m not in header]
    if missing:
        raise AggregationError(f"{path}: has no column {missing[0]!r} (columns: {','.join(header)})")
    if frame.empty:  # header only: typed empty columns, so missing seeds are reported later
        return frame.astype({c: "int64" for c in INT_COLUMNS} | {c: "float64" for c in header[len(INT_COLUMNS) :]})
    for column in INT_COLUMNS:
        if not pd.api.types.is_integer_dtype(frame[column]):
            raise AggregationError(f"{path}: column {column!r} holds non-integer values")
    for column in metrics:
        check_finite(frame, column, path)
    duplicated = frame.duplicated(["seed", "step"])
    if duplicated.any():
        seed, step = frame.loc[duplicated, ["seed", "step"]].iloc[0].tolist()
        raise AggregationError(f"{path}: seed {seed} has step {step} more than once")
    check_evaluations(frame, path)
    return frame


def check_evaluations(frame: pd.DataFrame, path: str) -> None:
    """Every seed must have a row at every step its run spec evaluates (its provenance says
    which): a result cut short (a lost last row) would otherwise make a curve one point short."""
    from maprops.config import RunSpec
    from maprops.provenance import read_provenance
    from maprops.results import evaluation_steps

    try:
        record = read_provenance(path)
    except (OSError, ValueError):
        return  # no provenance (a hand-made table): nothing to check against
    expected = evaluation_steps(RunSpec.from_canonical(record["run_spec"]))
    for seed, steps in frame.groupby("seed")["step"]:
        missing = sorted(set(expected) - set(steps.tolist()))
        if missing:
            shown = ", ".join(map(str, missing[:6])) + (", ..." if len(missing) > 6 else "")
            raise AggregationError(
                f"{path}: seed {seed} has no row at step {shown}, which its run spec evaluates "
                f"({len(expected)} steps, {expected[0]} to {expected[-1]}): the file is incomplete; train it again"
            )


def table_shape(path: str) -> list[str]:
    """The header of a result CSV (after its ``#`` provenance lines), refused unless it is a
    known result header and every row has as many fields (a ragged row is a cut-off file)."""
    header = None
    with open(path, newline="") as f:
        for number, row in enumerate(csv.reader(f), 1):
            if not row or row[0].startswith("#"):
                continue
            if header is None:
                header = row
                if header not in HEADERS:
                    expected = " or ".join(repr(",".join(h)) for h in HEADERS)
                    raise AggregationError(f"{path}: header is {','.join(header)!r}, expected {expected}")
            elif len(row) != len(header):
                raise AggregationError(f"{path}: line {number} has {len(row)} fields, the header {len(header)}")
    if header is None:
        raise AggregationError(f"{path}: empty file")
    return header


def check_finite(frame: pd.DataFrame, column: str, path: str) -> None:
    """A NaN or inf would silently poison a mean; name the seed it came from instead."""
    if not pd.api.types.is_numeric_dtype(frame[column]):
        raise AggregationError(f"{path}: column {column!r} holds non-numeric values")
    values = frame[column].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        seed, step = int(frame["seed"].iat[i]), int(frame["step"].iat[i])
        raise AggregationError(f"{path}: column {column!r} is {values[i]} for seed {seed} at step {step}")


def cell_columns(cell: dict, metrics: list[str]) -> dict[str, str]:
    """metric -> the result column that holds it for this cell. A figure's metric may be a
    generic name (``joint_sampling_error``) that each cell maps to its game's column
    (``joint_tv`` or ``joint_kl``) through the manifest's optional ``columns``."""
    mapping = cell.get("columns", {})
    return {m: mapping.get(m, m) for m in metrics}


def load_cell(cell: dict, metrics: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All seed blocks of one cell -> (steps, metric -> array of shape (n_seeds, n_steps)).

    Rows are sorted by (seed, step), so the arrays are the same however the seeds were split
    into files and in whatever order the files are listed.
    """
    columns = cell_columns(cell, metrics)
    expected = list(cell["seeds"])
    if len(set(expected)) != len(expected):
        raise AggregationError(f"cell {cell['panel']}/{cell['sampler']}: seeds listed twice in the manifest")
    owner: dict[int, str] = {}  # seed -> the file it was read from
    frames = []
    for path in cell["files"]:
        frame = read_block(path, list(columns.values()))
        for seed in frame["seed"].unique().tolist():
            if seed in owner:
                raise AggregationError(f"{path}: seed {seed} is also in {owner[seed]}")
            owner[seed] = str(path)
        frames.append(frame)
    check_seeds(owner, expected, cell["files"])
    rows = pd.concat(frames, ignore_index=True).sort_values(["seed", "step"], kind="stable")
    steps = check_steps(rows, owner)
    shape = (len(expected), len(steps))
    return steps, {m: rows[c].to_numpy(dtype=np.float64).reshape(shape) for m, c in columns.items()}


def check_seeds(owner: dict[int, str], expected: list[int], files: list) -> None:
    """The files must hold exactly the manifest's seeds: a curve silently missing seeds lies."""
    extra = sorted(set(owner) - set(expected))
    if extra:
        raise AggregationError(f"{owner[extra[0]]}: seed {extra[0]} is not one of the cell's seeds")
    missing = sorted(set(expected) - set(owner))
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise AggregationError(f"{', '.join(map(str, files))}: {len(missing)} seed(s) missing: {shown}")


def keep_steps(cell: dict, steps: np.ndarray, curves: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Only the steps the cell's ``steps`` lists, in that order (all of them if it lists none);
    a listed step the files never measured is an error, not a silently shorter curve."""
    wanted = cell.get("steps")
    if wanted is None:
        return steps, curves
    index = {int(step): i for i, step in enumerate(steps)}
    missing = [step for step in wanted if step not in index]
    if missing:
        measured = ", ".join(map(str, steps[:8].tolist())) + (", ..." if len(steps) > 8 else "")
        raise AggregationError(
            f"{', '.join(map(str, cell['files']))}: no measurement at step {missing[0]}, which the manifest asks for "
            f"(measured: {measured or 'none'})"
        )
    columns = [index[step] for step in wanted]
    # Row-contiguous copies: NumPy sums a row of a column-indexed (Fortran-ordered) array one
    # element after another, but a contiguous row pairwise, so a seed's mean over evaluations
    # would differ in its last bit between a cell of many seeds and the same seed alone (as
    # `maprops verify --seeds 0-0` retrains it). Contiguous rows sum the same way in both.
    return steps[columns], {metric: np.ascontiguousarray(values[:, columns]) for metric, values in curves.items()}


def check_steps(rows: pd.DataFrame, owner: dict[int, str]) -> np.ndarray:
    """Every seed must be evaluated at the same steps, else the per-step mean mixes curves."""
    per_seed = rows.groupby("seed", sort=True)["step"]
    steps = None
    for seed, seed_steps in per_seed:
        seed_steps = seed_steps.to_numpy()
        if steps is None:
            steps, first = seed_steps, seed
        elif not np.array_equal(seed_steps, steps):
            raise AggregationError(
                f"{owner[seed]}: seed {seed} has steps {seed_steps.tolist()}, seed {first} has {steps.tolist()}"
            )
    return steps if steps is not None else np.zeros(0, dtype=np.int64)


# --------------------------------------------------------------------------- statistics


def curve_rng(seed: int, panel: str, sampler: str, metric: str) -> np.random.Generator:
    """The bootstrap generator of one curve, from the global seed and the curve's name only
    (not a study's setting: the same run shows the same CI in a figure and in every setting of
    a study that shares it).

    A cryptographic hash (not Python's salted ``hash()``) keeps it the same in every process.
    """
    key = json.dumps([panel, sampler, metric]).encode()
    return np.random.default_rng([seed, int.from_bytes(hashlib.sha256(key).digest()[:8], "little")])


def seed_mean(curves: np.ndarray) -> np.ndarray:
    """Mean over the seed axis (second to last), adding seeds one at a time in a fixed order.

    The point estimate and every resampled mean round identically, so identical seeds give a CI
    of exactly zero width and the result does not depend on numpy's choice of summation order.
    """
    total = curves[..., 0, :].copy()
    for i in range(1, curves.shape[-2]):
        total += curves[..., i, :]
    return total / curves.shape[-2]


def bootstrap_ci(curves: np.ndarray, rng: np.random.Generator, resamples: int) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile bootstrap CI of the per-step mean, resampling whole seed curves.

    ``curves`` has shape (n_seeds, n_steps). Each resample draws n_seeds seed indices with
    replacement and applies that one draw to every step.
    """
    n_seeds, n_steps = curves.shape
    draws = rng.integers(0, n_seeds, size=(resamples, n_seeds))
    chunk = max(1, MAX_CHUNK_ELEMENTS // max(1, n_seeds * n_steps))
    means = np.concatenate([seed_mean(curves[draws[i : i + chunk]]) for i in range(0, resamples, chunk)])
    low, high = np.percentile(means, CI_PERCENTILES, axis=0)
    return low, high


def summarise(curves: np.ndarray, steps: np.ndarray, rng: np.random.Generator, resamples: int) -> pd.DataFrame:
    """Per-step mean, CI bounds and seed count of one curve."""
    low, high = bootstrap_ci(curves, rng, resamples)
    return pd.DataFrame(
        {"step": steps.astype(np.int64), "mean": seed_mean(curves), "ci_low": low, "ci_high": high, "n_seeds": len(curves)}
    )


# --------------------------------------------------------------------------- the table


def aggregate(
    cells: list[dict],
    metrics: list[str],
    resamples: int = 10000,
    seed: int = 0,
    per_seed: list | None = None,
    per_step: list | None = None,
) -> pd.DataFrame:
    """Mean and 95% bootstrap CI of every (setting, panel, sampler, metric) curve, as one tidy table.

    Rows are ordered by setting, panel (first appearance in ``cells``: the plotting order),
    sampler (first appearance), metric (order of ``metrics``) and step. A ``setting`` column
    leads only if cells carry settings (a study). With ``per_seed`` (a list), the per-seed
    summaries of every curve (:func:`seed_summary`) are appended to it as tables; with
    ``per_step``, every seed's value at every step (:func:`seed_steps`).
    """
    check_request(cells, metrics, resamples)
    settings = list(dict.fromkeys(c.get(SETTING_COLUMN, "") for c in cells))
    panels = list(dict.fromkeys(c["panel"] for c in cells))
    samplers = list(dict.fromkeys(c["sampler"] for c in cells))
    by_key = {(c.get(SETTING_COLUMN, ""), c["panel"], c["sampler"]): c for c in cells}
    columns = output_columns(cells, OUTPUT_COLUMNS)
    tables = []
    for setting in settings:
        for panel_index, panel in enumerate(panels):
            for sampler in samplers:
                cell = by_key.get((setting, panel, sampler))
                if cell is None:
                    continue
                steps, curves = keep_steps(cell, *load_cell(cell, metrics))
                labels = {
                    SETTING_COLUMN: setting,
                    "panel_index": panel_index,
                    "panel": panel,
                    "panel_title": cell["panel_title"],
                    "sampler": sampler,
                }
                for metric in metrics:
                    rng = curve_rng(seed, panel, sampler, metric)
                    tables.append(summarise(curves[metric], steps, rng, resamples).assign(**labels, metric=metric))
                    if per_seed is not None:
                        per_seed.append(seed_summary(curves[metric], cell["seeds"]).assign(**labels, metric=metric))
                    if per_step is not None:
                        per_step.append(seed_steps(curves[metric], cell["seeds"], steps).assign(**labels, metric=metric))
    if not tables:
        return pd.DataFrame({c: [] for c in columns})
    return pd.concat(tables, ignore_index=True)[columns]


def output_columns(cells: list[dict], columns: list[str]) -> list[str]:
    """``columns``, led by the setting column when the cells belong to a study."""
    return ([SETTING_COLUMN] if any(c.get(SETTING_COLUMN) for c in cells) else []) + columns


def seed_summary(curves: np.ndarray, seeds: list[int]) -> pd.DataFrame:
    """Each seed's first and final evaluation and its mean over evaluations: the numbers a
    claim compares across samplers (rows of ``curves`` are in sorted seed order)."""
    return pd.DataFrame(
        {
            "seed": sorted(seeds),
            "first": curves[:, 0] if curves.shape[1] else np.nan,
            "final": curves[:, -1] if curves.shape[1] else np.nan,
            "mean": curves.mean(1) if curves.shape[1] else np.nan,
        }
    )


def seed_steps(curves: np.ndarray, seeds: list[int], steps: np.ndarray) -> pd.DataFrame:
    """Every seed's value at every step, long form (rows of ``curves`` in sorted seed order)."""
    n_seeds, n_steps = curves.shape
    return pd.DataFrame(
        {
            "seed": np.repeat(sorted(seeds), n_steps),
            "step": np.tile(steps.astype(np.int64), n_seeds),
            "value": curves.reshape(-1),
        }
    )


def check_request(cells: list[dict], metrics: list[str], resamples: int) -> None:
    """Refuse manifests that are ambiguous before reading any file."""
    if not metrics or len(set(metrics)) != len(metrics):
        raise AggregationError(f"metrics must be distinct names, got {metrics}")
    if int(resamples) != resamples or resamples < 1:
        raise AggregationError(f"resamples must be a positive integer, got {resamples}")
    seen = set()
    for cell in cells:
        missing = {"panel", "panel_title", "sampler", "seeds", "files"} - set(cell)
        if missing:
            raise AggregationError(f"cell {cell}: missing keys {sorted(missing)}")
        key = (cell.get(SETTING_COLUMN, ""), cell["panel"], cell["sampler"])
        if key in seen:
            raise AggregationError(f"cell {'/'.join(k for k in key if k)} is listed twice")
        seen.add(key)
        steps = cell.get("steps")
        if steps is not None and (
            not isinstance(steps, list)
            or not steps
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in steps)
            or len(set(steps)) != len(steps)
        ):
            raise AggregationError(f"cell {'/'.join(k for k in key if k)}: steps must be a non-empty list of distinct integers")
        unknown = [c for c in cell_columns(cell, metrics).values() if c not in METRIC_COLUMNS]
        if unknown:
            raise AggregationError(
                f"cell {key[1]}/{key[2]}: unknown result column {unknown[0]!r}; known: {', '.join(METRIC_COLUMNS)}"
            )


def format_value(column: str, value) -> str:
    """Floats in shortest round-trip form, so equal numbers always give equal bytes."""
    if column in FLOAT_OUTPUT_COLUMNS:
        return repr(float(value))
    if column in INT_OUTPUT_COLUMNS:
        return str(int(value))
    return str(value)


def write_aggregate(df: pd.DataFrame, path: str | Path) -> None:
    """Write the table (aggregated curves or per-seed summaries) as CSV atomically, in its own
    column order: a killed job never leaves half a file."""
    columns = list(df.columns)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in df.itertuples(index=False):
            writer.writerow([format_value(c, v) for c, v in zip(columns, row)])


# --------------------------------------------------------------------------- command line


def read_manifest(path: str | Path) -> dict:
    """The manifest file the Snakefile's ``manifest`` rule writes: {"metrics": [...], "cells":
    [...], "resamples"?, "seed"?}."""
    try:
        manifest = json.loads(Path(path).read_text())
    except OSError as e:
        raise AggregationError(f"manifest {path}: cannot read ({e.strerror or e})") from e
    except json.JSONDecodeError as e:
        raise AggregationError(f"manifest {path} is not valid JSON ({e})") from e
    if not isinstance(manifest, dict) or not {"metrics", "cells"} <= set(manifest):
        raise AggregationError(f"manifest {path} must be an object with 'metrics' and 'cells'")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, help="JSON file: cells, metrics, optional resamples and seed")
    parser.add_argument("--out", required=True, help="aggregated CSV to write")
    parser.add_argument("--inputs-out", help="JSON record of the result files that fed the table (provenance)")
    parser.add_argument("--seeds-out", help="CSV of every curve's per-seed first, final and mean values")
    parser.add_argument("--steps-out", help="CSV of every curve's per-seed value at every step")
    args = parser.parse_args(argv)
    per_seed: list[pd.DataFrame] = []
    per_step: list[pd.DataFrame] = []
    try:
        manifest = read_manifest(args.manifest)
        table = aggregate(
            manifest["cells"],
            manifest["metrics"],
            resamples=manifest.get("resamples", 10000),
            seed=manifest.get("seed", 0),
            per_seed=per_seed,
            per_step=per_step if args.steps_out else None,
        )
    except AggregationError as e:
        print(f"aggregate: {e}", file=sys.stderr)
        return 1
    if args.inputs_out:  # before the tables: a table on disk always has its record beside it
        write_inputs_record(manifest["cells"], args.inputs_out)
    for path, parts, columns in ((args.seeds_out, per_seed, SEED_COLUMNS), (args.steps_out, per_step, STEP_COLUMNS)):
        if path:
            columns = output_columns(manifest["cells"], columns)
            rows = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame({c: [] for c in columns})
            write_aggregate(rows, path)
    write_aggregate(table, args.out)
    return 0


def inputs_record(cells: list[dict]) -> dict:
    """Which result files fed an aggregated table: path, content hash and the provenance each
    carries (run, seeds, code version). Kept out of the CSV itself, which depends only on the
    numbers (the same curves from other seed blocks are byte-identical)."""
    from maprops.provenance import read_provenance

    results = []
    for cell in cells:
        for path in cell["files"]:
            record = read_provenance(path)
            results.append(
                {
                    "path": path,
                    "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
                    "panel": cell["panel"],
                    "sampler": cell["sampler"],
                    **{k: record[k] for k in ("run_id", "seeds", "git_commit", "maprops_version", "wall_time_s")},
                    "engine": record.get("engine", "unknown"),  # results made before 0.2 do not name it
                }
            )
    return {"results": results}


def inputs_summary(path: str | Path) -> dict:
    """What an inputs record (:func:`inputs_record`) says about where a table's numbers came
    from: how many result files and seed runs, and which commits, engines and versions made them."""
    results = json.loads(Path(path).read_text())["results"]

    def distinct(key: str) -> list[str]:
        return sorted({str(r.get(key, "unknown")) for r in results})

    return {
        "result_files": len(results),
        "seed_runs": sum(len(r["seeds"]) for r in results),
        "commits": distinct("git_commit"),
        "engines": distinct("engine"),
        "maprops_versions": distinct("maprops_version"),
    }


def write_inputs_record(cells: list[dict], path: str) -> None:
    write_text_atomic(path, json.dumps(inputs_record(cells), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.exit(main())
