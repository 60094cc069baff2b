"""pipeline/plot.py: aggregated table -> paper-style PDF + PNG, written atomically."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.plot import PlotError, grid_shape, main, plot_figure

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
    cmd = [sys.executable, "pipeline/plot.py", "--aggregated", str(csv), "--metric", "success_rate",
           "--title", "t", "--ylabel", "y", "--pdf", str(out / "f.pdf"), "--png", str(out / "f.png")]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("plot: ") and str(csv) in proc.stderr and "success_rate" in proc.stderr
    assert not out.exists() or not list(out.iterdir())
