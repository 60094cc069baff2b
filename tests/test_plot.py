"""pipeline/plot.py: aggregated table -> paper-style PDF + PNG, written atomically."""

import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from pipeline import plot as plot_module
from pipeline.plot import PlotError, grid_shape, main, plot_figure
from pipeline.plot_style import SAMPLER_STYLE, legend_handles

REPO = Path(__file__).resolve().parents[1]
SAMPLERS = ["on_policy", "props", "ma_props"]


def aggregated_table() -> pd.DataFrame:
    """3 panels x 3 samplers, joint_tv plus its shadow on-policy metric, as aggregate.py writes it."""
    rows = []
    steps = np.array([20, 40, 60, 80])
    for panel_index, panel in enumerate(["climbing/original", "penalty/original", "nonconflict_19/modified"]):
        for k, sampler in enumerate(SAMPLERS):
            for metric, scale in (("joint_tv", 1.0), ("joint_tv_on_policy", 1.5)):
                mean = scale * 0.3 / (1 + k) * np.exp(-steps / 40)
                for step, m in zip(steps, mean):
                    rows.append((panel_index, panel, panel.split("/")[0].title(), sampler, metric, step, m, 0.8 * m, 1.2 * m, 5))
    columns = ["panel_index", "panel", "panel_title", "sampler", "metric", "step", "mean", "ci_low", "ci_high", "n_seeds"]
    return pd.DataFrame(rows, columns=columns)


def test_grid_shape():
    assert grid_shape(21) == (3, 7)
    assert grid_shape(5) == (1, 5)
    assert grid_shape(8) == (2, 4)
    assert grid_shape(9) == (2, 7)


def test_plot_writes_pdf_and_png_reproducibly(tmp_path):
    pdf, png = tmp_path / "fig.pdf", tmp_path / "fig.png"
    plot_figure(aggregated_table(), "joint_tv", "Joint sampling error", "Joint TV", pdf, png)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not list(tmp_path.glob("*.tmp"))
    first = pdf.read_bytes(), png.read_bytes()
    plot_figure(aggregated_table(), "joint_tv", "Joint sampling error", "Joint TV", pdf, png)
    assert (pdf.read_bytes(), png.read_bytes()) == first


def test_cli_from_csv(tmp_path):
    csv = tmp_path / "agg.csv"
    aggregated_table().to_csv(csv, index=False)
    out = tmp_path / "figures"
    args = ["--aggregated", str(csv), "--metric", "joint_tv", "--title", "t", "--ylabel", "y"]
    assert main([*args, "--pdf", str(out / "f.pdf"), "--png", str(out / "f.png")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["f.pdf", "f.png"]


def test_missing_metric_writes_nothing(tmp_path):
    csv = tmp_path / "agg.csv"
    aggregated_table().to_csv(csv, index=False)
    out = tmp_path / "figures"
    with pytest.raises(PlotError, match="success_rate"):
        plot_figure(aggregated_table(), "success_rate", "t", "y", out / "f.pdf", out / "f.png")
    cmd = [
        sys.executable,
        "-m",
        "pipeline.plot",
        "--aggregated",
        str(csv),
        "--metric",
        "success_rate",
        "--title",
        "t",
        "--ylabel",
        "y",
        "--pdf",
        str(out / "f.pdf"),
        "--png",
        str(out / "f.png"),
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("plot: ") and str(csv) in proc.stderr and "success_rate" in proc.stderr
    assert not out.exists() or not list(out.iterdir())


def synthetic_table(n_panels: int) -> pd.DataFrame:
    """``n_panels`` panels whose three samplers' curves coincide exactly (the hardest case to read),
    with long-ish panel titles and 3 seeds per curve."""
    rows = []
    steps = np.arange(1, 17) * 64
    for p in range(n_panels):
        for sampler in SAMPLERS:
            for metric, factor in (("joint_sampling_error", 1.0), ("joint_sampling_error_on_policy", 1.1)):
                mean = factor * (p + 1) / np.sqrt(steps)
                rows += [
                    (p, f"game_{p}/original", f"Game number {p}", sampler, metric, s, m, 0.9 * m, 1.1 * m, 3)
                    for s, m in zip(steps, mean)
                ]
    columns = ["panel_index", "panel", "panel_title", "sampler", "metric", "step", "mean", "ci_low", "ci_high", "n_seeds"]
    return pd.DataFrame(rows, columns=columns)


def capture_figure(monkeypatch) -> list:
    """Keep the figure plot_figure draws (it is closed after saving) to inspect what a reader sees."""
    kept = []
    real_save = plot_module.save
    monkeypatch.setattr(plot_module, "save", lambda fig, *a, **k: (kept.append(fig), real_save(fig, *a, **k)))
    return kept


@pytest.mark.parametrize("n_panels", [1, 2, 8, 21])
def test_any_panel_count_lays_out_without_warnings(tmp_path, monkeypatch, n_panels):
    """Constrained layout warns (and gives up) when the panels, title and legend do not fit; a
    clean render of 1 to 21 panels means no clipped title and no legend over the axes."""
    kept = capture_figure(monkeypatch)
    pdf, png = tmp_path / "f.pdf", tmp_path / "f.png"
    title = "Joint sampling error with fixed target policies, a title long enough to need wrapping"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_figure(synthetic_table(n_panels), "joint_sampling_error", title, "Joint sampling error", pdf, png, scale="smoke")
    assert [str(w.message) for w in caught] == []
    assert pdf.read_bytes().startswith(b"%PDF") and png.read_bytes().startswith(b"\x89PNG")
    fig = kept[0]
    renderer = FigureCanvasAgg(fig).get_renderer()  # closing the figure dropped its canvas
    fig.draw(renderer)
    canvas = fig.bbox
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == n_panels
    title_box = fig._suptitle.get_window_extent(renderer)
    legend_box = fig.legends[0].get_window_extent(renderer)
    for box in (title_box, legend_box):  # nothing runs off the canvas
        assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1 and canvas.y0 <= box.y0 and box.y1 <= canvas.y1
    for ax in visible:  # the legend sits below every panel (tick labels included), the title above
        panel = ax.get_tightbbox(renderer)
        assert not legend_box.overlaps(panel) and not title_box.overlaps(panel)
    plt.close(fig)


def test_coinciding_curves_stay_distinguishable(monkeypatch, tmp_path):
    """Every sampler differs in line style and marker, not only colour; markers of coinciding
    curves are staggered; bands are outlined in their sampler's colour."""
    styles = list(SAMPLER_STYLE.values())
    assert len({str(s.linestyle) for s in styles}) == len({s.marker for s in styles}) == len(styles)
    handles = legend_handles(set(SAMPLERS), {"props", "ma_props"})
    assert len({(str(h.get_linestyle()), h.get_marker(), h.get_markerfacecolor()) for h in handles}) == len(handles)

    kept = capture_figure(monkeypatch)
    plot_figure(synthetic_table(1), "joint_sampling_error", "t", "y", tmp_path / "f.pdf", tmp_path / "f.png")
    ax = kept[0].axes[0]
    mains = [line for line in ax.get_lines() if line.get_linestyle() != ":"]
    assert len({line.get_markevery() for line in mains}) == len(SAMPLERS)  # same curve, marks side by side
    for band in ax.collections:
        face, edge = band.get_facecolor()[0], band.get_edgecolor()[0]
        assert face[3] < edge[3] and np.allclose(face[:3], edge[:3])


def test_panels_with_different_metrics_get_their_own_scale_and_label(monkeypatch, tmp_path):
    kept = capture_figure(monkeypatch)
    metrics = {"game_0/original": "joint_tv", "game_1/original": "joint_kl"}
    plot_figure(
        synthetic_table(2),
        "joint_sampling_error",
        "t",
        "Joint sampling error (TV / KL)",
        tmp_path / "f.pdf",
        tmp_path / "f.png",
        xlabel="Samples collected",
        panel_metrics=metrics,
    )
    tv, kl = kept[0].axes
    assert (tv.get_ylabel(), kl.get_ylabel()) == ("Joint TV", "Joint KL")
    assert tv.get_ylim() != kl.get_ylim()  # not one shared scale
    assert kept[0].get_supylabel() == ""  # no mixed "TV / KL" axis label
    assert tv.get_xlabel() == kl.get_xlabel() == "Samples collected"

    kept.clear()
    same = {"game_0/original": "joint_tv", "game_1/original": "joint_tv"}
    plot_figure(
        synthetic_table(2), "joint_sampling_error", "t", "Joint TV", tmp_path / "f.pdf", tmp_path / "f.png", panel_metrics=same
    )
    a, b = kept[0].axes
    assert a.get_ylim() == b.get_ylim() and kept[0].get_supylabel() == "Joint TV"
    assert a.get_xlabel() == "Environment steps"


def test_every_figure_names_its_scale_seeds_and_band(monkeypatch, tmp_path):
    kept = capture_figure(monkeypatch)
    plot_figure(synthetic_table(2), "joint_sampling_error", "Title", "y", tmp_path / "f.pdf", tmp_path / "f.png", scale="smoke")
    heading = kept[0].get_suptitle().replace("\n", " ")
    assert "scale: smoke, 3 seeds per curve; shaded: 95% bootstrap CI over seeds" in heading
    plot_figure(synthetic_table(2), "joint_sampling_error", "Title", "y", tmp_path / "f.pdf", tmp_path / "f.png")
    assert kept[1].get_suptitle().startswith("Title\nscale: full, 3 seeds per curve; shaded: 95% bootstrap")


def test_cli_reads_labels_json(tmp_path, monkeypatch):
    kept = capture_figure(monkeypatch)
    csv = tmp_path / "agg.csv"
    synthetic_table(1).to_csv(csv, index=False)
    labels = '{"xlabel": "Samples collected", "panel_metrics": {"game_0/original": "joint_kl"}, "scale": "reduced"}'
    args = [
        "--aggregated",
        str(csv),
        "--metric",
        "joint_sampling_error",
        "--title",
        "t",
        "--ylabel",
        "y",
        "--pdf",
        str(tmp_path / "f.pdf"),
        "--png",
        str(tmp_path / "f.png"),
        "--labels-json",
        labels,
    ]
    assert main(args) == 0
    assert kept[0].axes[0].get_xlabel() == "Samples collected"
    assert "scale: reduced, 3 seeds per curve" in kept[0].get_suptitle()


def test_plan_tells_the_plot_what_the_table_cannot():
    """fig4a (fixed target): x is samples collected, TV panels and KL panels are named as such;
    the scale is named only when it caps something."""
    from pipeline.expand import Plan

    full = Plan(REPO / "specs", "full").plot_labels("fig4a")
    assert full["xlabel"] == "Samples collected" and full["scale"] is None
    assert full["panel_metrics"]["gridworld/original"] == "joint_tv"
    assert full["panel_metrics"]["lbf/modified"] == "joint_kl"
    smoke = Plan(REPO / "specs", "smoke").plot_labels("fig5_matrix")
    assert smoke["xlabel"] == "Environment steps" and smoke["scale"] == "smoke"
    assert set(smoke["panel_metrics"].values()) == {"success_rate"}
