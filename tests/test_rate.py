"""The rate figure (docs/rate.md): fixed-target figure options (log-log axes, geometric
checkpoints, slope fits), the slope fit and its bootstrap CI, and fig_rate built at smoke scale."""

import csv
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maprops.io import write_columns_csv
from maprops.specs import SpecLibrary
from maprops.specs.figures import even_checkpoint_steps
from maprops.specs.validate import validate_main
from pipeline import plot as plot_module
from pipeline.aggregate import AggregationError, aggregate
from pipeline.compare import named_rng
from pipeline.expand import Plan
from pipeline.plot import plot_figure
from pipeline.slopes import fit_slope, loglog_slope, slopes
from pipeline.slopes import main as slopes_main
from tests.helpers import copy_workflow, edit, snakemake_command

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
GEOMETRIC = [16 * 2**k for k in range(9)]  # 16 .. 4096
MEASURED = list(range(16, 4097, 16))  # what the engine measures for fig_rate: every 16 samples


# -- the slope fit -------------------------------------------------------------------------------


def power_law_curves(exponent: float, seeds: int, steps, rng: np.random.Generator, noise: float = 0.15) -> np.ndarray:
    """Per-seed errors ``c_s * m^-exponent`` with a seed-specific constant and independent
    multiplicative noise at every checkpoint: what a sampler with that rate would measure."""
    c = np.exp(rng.normal(np.log(0.5), 0.3, size=(seeds, 1)))
    return c * np.asarray(steps, dtype=float)[None] ** -exponent * np.exp(rng.normal(0, noise, size=(seeds, len(steps))))


def test_loglog_slope_is_exact_on_a_power_law():
    steps = np.array(GEOMETRIC)
    assert loglog_slope(steps, 3.0 * steps**-0.5) == pytest.approx(-0.5, abs=1e-12)
    rows = np.stack([2.0 * steps**-1.0, 0.1 * steps**-0.25])
    np.testing.assert_allclose(loglog_slope(steps, rows), [-1.0, -0.25], atol=1e-12)


@pytest.mark.parametrize("exponent", [0.5, 1.0])
def test_fit_recovers_a_known_slope_and_its_ci_covers_it(exponent):
    """100 seeds of c * m^-a with noise: the fitted slope is within 0.03 of -a, the 95% CI
    contains -a and is narrow; over 40 independent data sets the CI covers -a about 95% of the
    time (at least 85%: a too narrow CI would fail here)."""
    steps = np.array(GEOMETRIC)
    fit = fit_slope(power_law_curves(exponent, 100, steps, np.random.default_rng(1)), steps, named_rng("t", exponent), 2000)
    assert fit["slope"] == pytest.approx(-exponent, abs=0.03)
    assert fit["ci_low"] <= -exponent <= fit["ci_high"]
    assert 0 < fit["ci_high"] - fit["ci_low"] < 0.1
    assert (fit["n_points"], fit["n_seeds"]) == (9, 100)
    covered = 0
    for k in range(40):
        curves = power_law_curves(exponent, 30, steps, np.random.default_rng(100 + k), noise=0.3)
        f = fit_slope(curves, steps, named_rng("coverage", k), 1000)
        covered += f["ci_low"] <= -exponent <= f["ci_high"]
    assert covered >= 34, covered


def test_fit_needs_two_points_and_positive_errors():
    one = fit_slope(np.ones((5, 1)), np.array([16]), named_rng("t"), 100)
    assert np.isnan(one["slope"]) and one["n_points"] == 1
    with pytest.raises(AggregationError, match="mean error 0.0 at step 32"):
        fit_slope(np.array([[0.1, 0.0], [0.2, 0.0]]), np.array([16, 32]), named_rng("t"), 100, "p/s/m")


def write_block(path: Path, curves: dict[int, np.ndarray], steps) -> str:
    """A seed-block result CSV (TV header) whose joint_tv is the given per-seed curve."""
    seeds = sorted(curves)
    n = len(steps)
    value = np.concatenate([curves[s] for s in seeds])
    write_columns_csv(
        path,
        {
            "seed": np.repeat(seeds, n),
            "iteration": np.zeros(n * len(seeds), dtype=np.int64),
            "step": np.tile(np.asarray(steps, dtype=np.int64), len(seeds)),
            "success_rate": np.zeros_like(value),
            "joint_tv": value,
            "agent1_tv": value / 2,
            "joint_tv_on_policy": 2 * value,
            "agent1_tv_on_policy": value,
            "mean_return": np.zeros_like(value),
        },
    )
    return str(path)


def rate_cells(tmp_path: Path, seeds: int = 40) -> list[dict]:
    """Two curves measured every 16 samples as the engine does, of which the manifest keeps the
    geometric checkpoints: on-policy-like (m^-1/2) and oracle-like (m^-1)."""
    cells = []
    for sampler, exponent in (("on_policy", 0.5), ("ma_props", 1.0)):
        curves = power_law_curves(exponent, seeds, MEASURED, np.random.default_rng(int(exponent * 10)))
        half = seeds // 2  # two blocks: the split must not matter
        files = [
            write_block(tmp_path / f"{sampler}_a.csv", {s: curves[s] for s in range(half)}, MEASURED),
            write_block(tmp_path / f"{sampler}_b.csv", {s: curves[s] for s in range(half, seeds)}, MEASURED),
        ]
        cells.append(
            {
                "panel": "nonconflict_01/original",
                "panel_title": "2x2 game 1",
                "sampler": sampler,
                "seeds": list(range(seeds)),
                "files": files,
                "steps": GEOMETRIC,
            }
        )
    return cells


def test_slopes_table_from_result_files(tmp_path):
    """Through the files: the manifest's steps select the geometric checkpoints for both the
    curves and the fit, and each sampler's slope comes out as built."""
    cells = rate_cells(tmp_path)
    table = slopes(cells, ["joint_tv", "joint_tv_on_policy"], fit_from=16, resamples=1000)
    assert list(table["sampler"]) == ["on_policy", "on_policy", "ma_props", "ma_props"]
    main = table[table["metric"] == "joint_tv"].set_index("sampler")
    assert main.loc["on_policy", "slope"] == pytest.approx(-0.5, abs=0.05)
    assert main.loc["ma_props", "slope"] == pytest.approx(-1.0, abs=0.05)
    for sampler, exponent in (("on_policy", 0.5), ("ma_props", 1.0)):
        assert main.loc[sampler, "ci_low"] <= -exponent <= main.loc[sampler, "ci_high"]
    assert set(main["first_step"]) == {16} and set(main["last_step"]) == {4096} and set(main["n_points"]) == {9}
    # the fit may start later than the first checkpoint
    later = slopes(cells, ["joint_tv"], fit_from=100, resamples=200)
    assert set(later["first_step"]) == {128} and set(later["n_points"]) == {6}
    # the curves keep exactly the manifest's steps
    curves = aggregate(cells, ["joint_tv"], resamples=100)
    assert sorted(set(curves["step"])) == GEOMETRIC


def test_slopes_cli_is_reproducible(tmp_path):
    import json

    manifest = tmp_path / "m.json"
    manifest.write_text(
        json.dumps({"metrics": ["joint_tv"], "cells": rate_cells(tmp_path, 10), "slopes": {"from": 16}, "resamples": 200})
    )
    assert slopes_main(["--manifest", str(manifest), "--out", str(tmp_path / "a.csv")]) == 0
    assert slopes_main(["--manifest", str(manifest), "--out", str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    header = (tmp_path / "a.csv").read_text().splitlines()[0]
    assert header == "panel_index,panel,panel_title,sampler,metric,slope,ci_low,ci_high,first_step,last_step,n_points,n_seeds"
    manifest.write_text(json.dumps({"metrics": ["joint_tv"], "cells": rate_cells(tmp_path, 10)}))
    assert slopes_main(["--manifest", str(manifest), "--out", str(tmp_path / "c.csv")]) == 1
    assert not (tmp_path / "c.csv").exists()


def test_a_step_the_engine_did_not_measure_is_an_error(tmp_path):
    cells = rate_cells(tmp_path, 4)
    cells[0]["steps"] = [16, 24]
    with pytest.raises(AggregationError, match="no measurement at step 24"):
        aggregate(cells, ["joint_tv"], resamples=10)


# -- the figure spec -------------------------------------------------------------------------------


def test_fig_rate_spec_and_its_runs():
    """fig_rate: log-log axes, slopes, 16..4096 at powers of two; the engine measures every 16
    samples. fig4a (the defaults) still measures 16 evenly spaced points."""
    library = SpecLibrary(SPECS)
    spec = library.figure("fig_rate")
    assert (spec.axes, spec.fit_slope, spec.checkpoint_spacing) == ("loglog", True, "geometric")
    assert spec.checkpoint_steps() == GEOMETRIC
    assert set(spec.samplers) >= {"on_policy", "props", "ma_props"} and spec.seeds.count == 100
    for cell in library.cells("fig_rate", "full"):
        assert (cell.run.total_steps, cell.run.eval_every, cell.run.fixed_target) == (4096, 16, True)
        assert cell.run.game.sampling_error == "tv"
    assert [c.run.total_steps for c in library.cells("fig_rate", "smoke")][0] == 32
    assert library.figure("fig_rate").checkpoint_steps(32) == [16, 32]
    fig4a = library.figure("fig4a")
    assert (fig4a.axes, fig4a.fit_slope, fig4a.checkpoint_spacing) == ("linear", False, "even")
    assert {c.run.eval_every for c in library.cells("fig4a", "full")} == {64}
    assert fig4a.checkpoint_steps() == list(range(64, 1025, 64))
    plan = Plan(SPECS, "full")
    assert plan.slope_figures == ["fig4a_variants", "fig_rate", "fig_rate_oracle"]
    manifest, labels = plan.manifest("fig_rate"), plan.plot_labels("fig_rate")
    assert manifest["slopes"] == {"from": 16} and {tuple(c["steps"]) for c in manifest["cells"]} == {tuple(GEOMETRIC)}
    assert labels["axes"] == "loglog" and labels["slopes"] == "results/full/aggregated/fig_rate.slopes.csv"
    # the other figures' manifests and labels (rule params) carry none of it
    assert "slopes" not in plan.manifest("fig4a") and not any("steps" in c for c in plan.manifest("fig4a")["cells"])
    assert not {"axes", "slopes"} & set(plan.plot_labels("fig4a"))


def test_even_checkpoints_match_the_engine():
    assert even_checkpoint_steps(1024, 16) == list(range(64, 1025, 64))
    assert even_checkpoint_steps(100, 3) == [33, 66, 99, 100]
    assert even_checkpoint_steps(5, 16) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "file, old, new, field, message",
    [
        ("figures/fig_rate.yaml", "axes: loglog", "axes: cubic", "axes", "Input should be 'linear' or 'loglog'"),
        (
            "figures/fig10.yaml",
            "metric: joint_sampling_error",
            "metric: joint_sampling_error\nfit_slope: true",
            "fit_slope",
            "'fit_slope' needs experiment: fixed_target",
        ),
        (
            "figures/fig10.yaml",
            "metric: joint_sampling_error",
            "metric: joint_sampling_error\naxes: loglog",
            "axes",
            "'axes' needs experiment: fixed_target",
        ),
        (
            "figures/fig_rate.yaml",
            "samples: 4096 ",
            "samples: 4000 ",
            "samples",
            "samples must be one of these, at least 32; got 4000",
        ),
        (
            "figures/fig_rate.yaml",
            "first_checkpoint: 16 ",
            "first_checkpoint: 16\ncheckpoints: 9",
            "checkpoints",
            "'checkpoints' counts evenly spaced points; checkpoint_spacing: geometric",
        ),
        (
            "figures/fig_rate.yaml",
            "checkpoint_spacing: geometric",
            "checkpoint_spacing: log",
            "checkpoint_spacing",
            "'even' or 'geometric'",
        ),
        (
            "figures/fig4a.yaml",
            "checkpoints: 16 ",
            "checkpoints: 16\nfit_slope: true\nfirst_checkpoint: 1000",
            "first_checkpoint",
            "fit_slope needs at least 2 checkpoints in [first_checkpoint, samples] = [1000, 1024]",
        ),
        (
            "figures/fig4a.yaml",
            "checkpoints: 16 ",
            "checkpoints: 16\nfirst_checkpoint: 64",
            "first_checkpoint",
            "'first_checkpoint' is used only by checkpoint_spacing: geometric or fit_slope: true",
        ),
        ("figures/fig_rate.yaml", "fit_slope: true ", "fit_slope: 1 ", "fit_slope", "valid boolean"),
    ],
)
def test_bad_rate_options_name_file_line_field(specs_copy, capsys, file, old, new, field, message):
    path = specs_copy / file
    edit(path, old, new)
    assert validate_main([str(specs_copy)]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(str(path))]
    assert len(lines) == 1, err
    where, got_field, got = lines[0][len(str(path)) + 1 :].split(": ", 2)
    assert got_field == field and message in got, err
    needle = new.splitlines()[-1].split("#")[0].strip()
    assert path.read_text().splitlines()[int(where) - 1].strip().startswith(needle.split(":")[0]), err


def test_fit_slope_also_works_with_even_checkpoints(specs_copy):
    edit(specs_copy / "figures/fig4a.yaml", "checkpoints: 16 ", "checkpoints: 16\nfit_slope: true\nfirst_checkpoint: 128")
    plan = Plan(specs_copy, "full")
    assert plan.slope_figures == ["fig4a", "fig4a_variants", "fig_rate", "fig_rate_oracle"]
    assert plan.manifest("fig4a")["slopes"] == {"from": 128}
    assert {c.run.eval_every for c in plan.cells("fig4a")} == {64}  # the runs do not change


# -- the plot --------------------------------------------------------------------------------------


def rate_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """An aggregated table and a slopes table as the pipeline writes them: two panels, the
    oracle-like curve at m^-1, the others at m^-1/2."""
    rows, fits = [], []
    steps = np.array(GEOMETRIC)
    for p, panel in enumerate(["nonconflict_01/original", "gridworld/original"]):
        for sampler, exponent in (("on_policy", 0.5), ("props", 0.5), ("ma_props", 1.0)):
            for metric in ("joint_sampling_error", "joint_sampling_error_on_policy"):
                mean = (p + 1) * 0.4 * steps ** (-0.5 if metric.endswith("policy") else -exponent)
                rows += [(p, panel, f"Panel {p}", sampler, metric, s, m, 0.9 * m, 1.1 * m, 100) for s, m in zip(steps, mean)]
                fits.append(
                    (p, panel, f"Panel {p}", sampler, metric, -exponent, -exponent - 0.02, -exponent + 0.02, 16, 4096, 9, 100)
                )
    columns = ["panel_index", "panel", "panel_title", "sampler", "metric", "step", "mean", "ci_low", "ci_high", "n_seeds"]
    slope_columns = [*columns[:5], "slope", "ci_low", "ci_high", "first_step", "last_step", "n_points", "n_seeds"]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(fits, columns=slope_columns)


def test_loglog_figure_shows_each_panels_slopes(tmp_path, monkeypatch):
    kept = []
    real_save = plot_module.save
    monkeypatch.setattr(plot_module, "save", lambda fig, *a, **k: (kept.append(fig), real_save(fig, *a, **k)))
    table, fits = rate_table()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_figure(
            table, "joint_sampling_error", "t", "y", tmp_path / "f.pdf", tmp_path / "f.png", axes_scale="loglog", slopes=fits
        )
    assert not [w for w in caught if "layout" in str(w.message).lower()]
    axes = [ax for ax in kept[0].subfigs[0].axes if ax.get_visible()]
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in axes)
    assert [t.get_text() for t in axes[0].get_xticklabels()][:2] == ["16", "64"]
    table_figure = kept[0].subfigs[1]  # the slopes: a table under the panels, a column per panel
    cells = table_figure.axes[0].tables[0].get_celld()
    assert [cells[(r, -1)].get_text().get_text() for r in (1, 2, 3)] == ["On-policy", "PROPS", "MA-PROPS"]
    assert cells[(0, 1)].get_text().get_text() == axes[1].get_title()
    assert [cells[(r, 1)].get_text().get_text() for r in (1, 2, 3)] == [
        "\u22120.50 [\u22120.52, \u22120.48]",
        "\u22120.50 [\u22120.52, \u22120.48]",
        "\u22121.00 [\u22121.02, \u22120.98]",
    ]
    assert "16-4096 samples" in table_figure.get_suptitle()
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")


def test_linear_figures_draw_as_before(tmp_path, monkeypatch):
    kept = []
    real_save = plot_module.save
    monkeypatch.setattr(plot_module, "save", lambda fig, *a, **k: (kept.append(fig), real_save(fig, *a, **k)))
    table, _ = rate_table()
    plot_figure(table, "joint_sampling_error", "t", "y", tmp_path / "f.pdf", tmp_path / "f.png")
    assert all(ax.get_xscale() == "linear" and not ax.texts for ax in kept[0].axes)
    assert kept[0].legends[0].get_title().get_text() == ""


def test_log_axes_refuse_nonpositive_means(tmp_path):
    table, _ = rate_table()
    table.loc[0, "mean"] = 0.0
    with pytest.raises(plot_module.PlotError, match="log axes need positive values"):
        plot_figure(table, "joint_sampling_error", "t", "y", tmp_path / "f.pdf", tmp_path / "f.png", axes_scale="loglog")


# -- end to end --------------------------------------------------------------------------------------


def test_smoke_build_writes_slopes_and_figure(tmp_path):
    """fig_rate_oracle (fig_rate's on-policy and oracle cells) at smoke scale through Snakemake:
    6 tiny train jobs, the aggregate keeps the geometric checkpoints (16, 32 at smoke's 32
    samples), the slopes table has a finite slope per curve, and the figure is drawn."""
    copy_workflow(tmp_path)
    target = "results/smoke/figures/fig_rate_oracle.pdf"
    proc = subprocess.run(
        snakemake_command(tmp_path, "--cores", "2", target, "--config", "scale=smoke"), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    aggregated = tmp_path / "results/smoke/aggregated"
    rows = list(csv.DictReader(open(aggregated / "fig_rate_oracle.csv")))
    assert {int(r["step"]) for r in rows} == {16, 32}
    fits = list(csv.DictReader(open(aggregated / "fig_rate_oracle.slopes.csv")))
    assert len(fits) == 3 * 2 * 2  # panels x samplers x (metric, its on-policy shadow)
    for r in fits:
        assert (r["first_step"], r["last_step"], r["n_points"], r["n_seeds"]) == ("16", "32", "2", "3")
        assert np.isfinite(float(r["slope"])) and float(r["ci_low"]) <= float(r["ci_high"])
    png = tmp_path / "results/smoke/figures/fig_rate_oracle.png"
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20000
