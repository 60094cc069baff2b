"""pipeline/aggregate.py: seed-block CSVs -> mean and whole-curve bootstrap CI per curve."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maprops.io import write_columns_csv
from pipeline.aggregate import AggregationError, aggregate, curve_rng, write_aggregate

REPO = Path(__file__).resolve().parents[1]
STEPS = np.array([10, 20, 30])


def seed_curve(seed: int) -> np.ndarray:
    """A reproducible, seed-specific success-rate curve."""
    return np.random.default_rng(seed).random(len(STEPS))


def write_block(path, seeds, curve=seed_curve, steps=lambda seed: STEPS):
    """A raw result CSV as the training CLI writes it; the other metrics are scaled copies."""
    rows = [(s, i + 1, step, v) for s in seeds for i, (step, v) in enumerate(zip(steps(s), curve(s)))]
    seed, iteration, step, value = (np.array(c) for c in zip(*rows))
    value = value.astype(float)
    write_columns_csv(
        path,
        {
            "seed": seed,
            "iteration": iteration,
            "step": step,
            "success_rate": value,
            "joint_tv": value / 2,
            "agent1_tv": value / 4,
            "joint_tv_on_policy": value / 3,
            "agent1_tv_on_policy": value / 5,
            "mean_return": 8 * value,
        },
    )
    return str(path)


def cell(files, seeds, panel="climbing/original", sampler="props"):
    return {"panel": panel, "panel_title": panel.title(), "sampler": sampler, "seeds": list(seeds), "files": list(files)}


def test_mean_and_ci(tmp_path):
    seeds = range(10)
    table = aggregate([cell([write_block(tmp_path / "a.csv", seeds)], seeds)], ["success_rate"], resamples=2000)
    assert list(table.columns) == [
        "panel_index",
        "panel",
        "panel_title",
        "sampler",
        "metric",
        "step",
        "mean",
        "ci_low",
        "ci_high",
        "n_seeds",
    ]
    assert table["step"].tolist() == STEPS.tolist() and (table["n_seeds"] == 10).all()
    np.testing.assert_allclose(table["mean"], np.mean([seed_curve(s) for s in seeds], axis=0), rtol=1e-12)
    assert (table["ci_low"] < table["mean"]).all() and (table["mean"] < table["ci_high"]).all()


def test_ci_narrows_with_more_seeds(tmp_path):
    few = cell([write_block(tmp_path / "few.csv", range(5))], range(5), panel="few")
    many = cell([write_block(tmp_path / "many.csv", range(80))], range(80), panel="many")
    table = aggregate([few, many], ["success_rate"], resamples=2000)
    width = (table["ci_high"] - table["ci_low"]).to_numpy().reshape(2, len(STEPS))
    assert (width[1] < width[0]).all()


def test_identical_seeds_give_zero_width(tmp_path):
    constant = lambda seed: np.array([0.1, 0.7, 1 / 3])  # noqa: E731
    seeds = range(7)
    table = aggregate([cell([write_block(tmp_path / "a.csv", seeds, curve=constant)], seeds)], ["success_rate"], resamples=500)
    assert (table["ci_low"] == table["mean"]).all() and (table["ci_high"] == table["mean"]).all()
    np.testing.assert_allclose(table["mean"], constant(0), rtol=1e-15)


def test_ci_matches_reference_bootstrap(tmp_path):
    """A loop-per-resample percentile bootstrap over whole seed curves, with the same draws."""
    seeds, resamples = range(6), 500
    table = aggregate([cell([write_block(tmp_path / "a.csv", seeds)], seeds)], ["joint_tv"], resamples=resamples, seed=3)
    curves = np.array([seed_curve(s) / 2 for s in seeds])
    rng = curve_rng(3, "climbing/original", "props", "joint_tv")
    draws = rng.integers(0, len(curves), size=(resamples, len(curves)))
    means = np.array([curves[draw].mean(axis=0) for draw in draws])
    low, high = np.percentile(means, [2.5, 97.5], axis=0)
    np.testing.assert_allclose(table["ci_low"], low, rtol=1e-12)
    np.testing.assert_allclose(table["ci_high"], high, rtol=1e-12)


def test_two_seed_ci_spans_both_curves(tmp_path):
    """With two seeds the resampled mean is one curve a quarter of the time each: the 95% CI is their range."""
    table = aggregate([cell([write_block(tmp_path / "a.csv", [0, 1])], [0, 1])], ["success_rate"], resamples=10000)
    pair = np.array([seed_curve(0), seed_curve(1)])
    np.testing.assert_array_equal(table["ci_low"], pair.min(axis=0))
    np.testing.assert_array_equal(table["ci_high"], pair.max(axis=0))


def test_row_order_follows_manifest(tmp_path):
    f = write_block(tmp_path / "a.csv", range(3))
    cells = [
        cell([f], range(3), panel="b", sampler="props"),
        cell([f], range(3), panel="a", sampler="ma_props"),
        cell([f], range(3), panel="b", sampler="ma_props"),
        cell([f], range(3), panel="a", sampler="props"),
    ]
    table = aggregate(cells, ["joint_tv", "agent1_tv"], resamples=50)
    keys = table[["panel_index", "panel", "sampler", "metric"]].drop_duplicates().itertuples(index=False, name=None)
    assert list(keys) == [
        (0, "b", "props", "joint_tv"),
        (0, "b", "props", "agent1_tv"),
        (0, "b", "ma_props", "joint_tv"),
        (0, "b", "ma_props", "agent1_tv"),
        (1, "a", "props", "joint_tv"),
        (1, "a", "props", "agent1_tv"),
        (1, "a", "ma_props", "joint_tv"),
        (1, "a", "ma_props", "agent1_tv"),
    ]


def test_file_split_and_order_do_not_change_output(tmp_path):
    seeds = range(12)
    metrics = ["success_rate", "joint_tv_on_policy"]
    whole = write_block(tmp_path / "whole.csv", seeds)
    parts = [write_block(tmp_path / f"part{i}.csv", list(seeds)[4 * i : 4 * i + 4][::-1]) for i in range(3)]
    other = write_block(tmp_path / "other.csv", range(5))

    one = aggregate([cell([whole], seeds), cell([other], range(5), panel="penalty/original")], metrics, resamples=300)
    split = aggregate(
        [cell([parts[2], parts[0], parts[1]], seeds), cell([other], range(5), panel="penalty/original")], metrics, resamples=300
    )
    write_aggregate(one, tmp_path / "one.csv")
    write_aggregate(split, tmp_path / "split.csv")
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "split.csv").read_bytes()

    # listing the cells the other way round renumbers the panels but changes no curve
    swapped = aggregate([cell([other], range(5), panel="penalty/original"), cell(parts, seeds)], metrics, resamples=300)
    by_curve = lambda t: t.drop(columns="panel_index").sort_values(["panel", "metric", "step"]).reset_index(drop=True)  # noqa: E731
    assert by_curve(swapped).equals(by_curve(one))


def truncate(path):
    """A half-written file, as a non-atomic writer killed mid-row would leave it."""
    text = Path(path).read_text()
    Path(path).write_text(text[: len(text) - 30])


def corrupt_header(path):
    text = Path(path).read_text()
    Path(path).write_text(text.replace("success_rate", "success", 1))


@pytest.mark.parametrize(
    "case, manifest_seeds, write, expected",
    [
        ("missing seed", range(6), lambda p: write_block(p, range(5)), "missing: 5"),
        ("extra seed", range(5), lambda p: write_block(p, range(6)), "seed 5"),
        ("nan", range(5), lambda p: write_block(p, range(5), curve=lambda s: np.full(3, np.nan if s == 3 else 0.5)), "seed 3"),
        ("inf", range(5), lambda p: write_block(p, range(5), curve=lambda s: np.full(3, np.inf if s == 2 else 0.5)), "seed 2"),
        ("header", range(5), lambda p: corrupt_header(write_block(p, range(5))), "header"),
        ("truncated", range(5), lambda p: truncate(write_block(p, range(5))), "line 16 has 8 fields, the header 9"),
        (
            "steps",
            range(5),
            lambda p: write_block(p, range(5), steps=lambda s: np.array([10, 20, 40 if s == 2 else 30])),
            "seed 2",
        ),
        (
            "duplicate step",
            range(5),
            lambda p: write_block(p, range(5), steps=lambda s: np.array([10, 20, 20 if s == 4 else 30])),
            "seed 4",
        ),
    ],
)
def test_validation_errors_name_the_file(tmp_path, case, manifest_seeds, write, expected):
    path = tmp_path / "seeds_0-4.csv"
    write(path)
    with pytest.raises(AggregationError) as error:
        aggregate([cell([path], manifest_seeds)], ["success_rate"], resamples=10)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_nan_only_matters_in_requested_metrics(tmp_path):
    path = Path(write_block(tmp_path / "a.csv", range(3)))
    lines = path.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",nan"  # mean_return of seed 0, first step
    path.write_text("\n".join(lines) + "\n")
    assert len(aggregate([cell([path], range(3))], ["success_rate"], resamples=10)) == len(STEPS)
    with pytest.raises(AggregationError, match="'mean_return' is nan for seed 0 at step 10"):
        aggregate([cell([path], range(3))], ["mean_return"], resamples=10)


def test_seed_in_two_files_is_an_error(tmp_path):
    a, b = write_block(tmp_path / "a.csv", range(3)), write_block(tmp_path / "b.csv", range(2, 5))
    with pytest.raises(AggregationError, match="seed 2 is also in"):
        aggregate([cell([a, b], range(5))], ["success_rate"], resamples=10)


def run_cli(manifest: dict | str, out: Path) -> subprocess.CompletedProcess:
    """``python -m pipeline.aggregate`` on a manifest file (as the Snakefile's ``manifest`` rule
    writes it) beside ``out``; a string is written as it is."""
    path = out.parent.parent / f"{out.parent.name}.manifest.json"
    path.write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    cmd = [sys.executable, "-m", "pipeline.aggregate", "--manifest", str(path), "--out", str(out)]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


def test_cli(tmp_path):
    good = write_block(tmp_path / "good.csv", range(4))
    out = tmp_path / "out" / "agg.csv"
    proc = run_cli({"metrics": ["success_rate"], "cells": [cell([good], range(4))], "resamples": 100, "seed": 1}, out)
    assert proc.returncode == 0, proc.stderr
    write_aggregate(aggregate([cell([good], range(4))], ["success_rate"], resamples=100, seed=1), tmp_path / "ref.csv")
    assert out.read_bytes() == (tmp_path / "ref.csv").read_bytes()

    bad = write_block(tmp_path / "bad.csv", range(3))
    out_bad = tmp_path / "bad_out" / "agg.csv"
    proc = run_cli({"metrics": ["success_rate"], "cells": [cell([bad], range(4))]}, out_bad)
    assert proc.returncode == 1
    assert proc.stderr.startswith("aggregate: ") and str(bad) in proc.stderr
    assert not out_bad.exists() and not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize(
    "manifest, expected",
    [
        (None, "cannot read"),
        ("{not json", "is not valid JSON"),
        ('{"metrics": ["success_rate"]}', "must be an object with 'metrics' and 'cells'"),
    ],
)
def test_cli_refuses_a_bad_manifest_file(tmp_path, manifest, expected):
    out = tmp_path / "out" / "agg.csv"
    if manifest is None:  # no file at all
        cmd = [sys.executable, "-m", "pipeline.aggregate", "--manifest", str(tmp_path / "missing.json"), "--out", str(out)]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    else:
        proc = run_cli(manifest, out)
    assert proc.returncode == 1
    assert proc.stderr.startswith("aggregate: manifest ") and expected in proc.stderr, proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("select", [None, "every other step"])
def test_a_seeds_summary_does_not_depend_on_the_seeds_beside_it(tmp_path, select):
    """`maprops verify --seeds 0-0` retrains one seed and compares its mean over evaluations with
    the record's, which was summarised beside the cell's other seeds: the two must agree to the
    last bit, with or without a step selection (fig_rate's geometric checkpoints)."""
    steps = np.arange(1, 41) * 10
    curve = lambda seed: np.random.default_rng(seed).random(len(steps)) / 3  # noqa: E731

    def summaries(seeds):
        block = write_block(tmp_path / f"seeds{len(seeds)}.csv", seeds, curve=curve, steps=lambda s: steps)
        chosen = {} if select is None else {"steps": steps[::2].tolist()}
        tables = []
        aggregate([{**cell([block], seeds), **chosen}], ["success_rate"], resamples=10, per_seed=tables)
        return pd.concat(tables)

    together = summaries(range(6)).set_index("seed")
    for seed in range(6):
        alone = summaries([seed]).set_index("seed")
        for statistic in ("first", "final", "mean"):
            assert alone.at[seed, statistic] == together.at[seed, statistic], (seed, statistic)
