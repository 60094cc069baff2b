"""Aggregated CSV -> one paper-style figure (PDF + PNG): a grid of panels, one curve per sampler.

Every sampler keeps the same colour, line style, marker and label in every figure
(pipeline/plot_style.py), so figures can be compared at a glance and coinciding curves stay
visible. Each curve is the mean over seeds with its 95% bootstrap CI as a shaded band. For
sampling-error metrics the aggregated table also holds ``<metric>_on_policy``: the error of a
shadow on-policy buffer measured alongside each sampler, drawn dotted without a band as the
reference the adaptive samplers should beat.

What the table cannot say comes in ``--labels-json`` (pipeline/expand.py, ``Plan.plot_labels``):
the x-axis quantity (samples collected in fixed-target figures), which result column each panel
plots (TV or KL: panels with different metrics get their own y-scale and y-label), and the
scale's name when it is below full scale, drawn on the canvas with the seeds per curve.

Usage (from the repo root; the Snakefile's ``figure`` rule does this)::

    python -m pipeline.plot --aggregated IN.csv --metric success_rate --title "..." \
        --ylabel "..." --pdf OUT.pdf --png OUT.png [--labels-json '{"xlabel": "..."}']
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; must precede importing pyplot

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from maprops.io import atomic_path  # noqa: E402
from pipeline.plot_style import SAMPLER_STYLE, SHADOW_SAMPLERS, band_kwargs, legend_handles, line_kwargs, markevery, metric_label  # noqa: E402

REQUIRED_COLUMNS = ["panel_index", "panel", "panel_title", "sampler", "metric", "step", "mean", "ci_low", "ci_high"]
DEFAULT_XLABEL = "Environment steps"
PNG_DPI = 150
PANEL_SIZE = (2.5, 2.1)  # inches per panel: a 21-panel figure stays legible on a page width
MIN_WIDTH = 5.0  # a single panel still leaves room for the title and a legend row
TITLE_FONTSIZE = 11


class PlotError(ValueError):
    """The aggregated table cannot make the requested figure."""


def grid_shape(n_panels: int) -> tuple[int, int]:
    """(rows, columns): at most 7 columns (21 panels -> 3 x 7), but 8 panels as 2 x 4."""
    columns = 4 if n_panels == 8 else min(n_panels, 7)
    return math.ceil(n_panels / columns), columns


def check_samplers(rows: pd.DataFrame) -> None:
    """An unknown sampler would get an arbitrary colour; make adding its style explicit."""
    unknown = sorted(set(rows["sampler"]) - set(SAMPLER_STYLE))
    if unknown:
        raise PlotError(f"no style for sampler(s) {unknown}; register them in maprops/kinds/ with a Style")


def draw_panel(ax, curves: pd.DataFrame, shadows: pd.DataFrame) -> None:
    """One panel: CI band and mean line per sampler, dotted shadow on-policy lines on top."""
    for sampler in SAMPLER_STYLE:
        curve = curves[curves["sampler"] == sampler].sort_values("step")
        if curve.empty:
            continue
        ax.fill_between(curve["step"], curve["ci_low"], curve["ci_high"], **band_kwargs(sampler))
        ax.plot(curve["step"], curve["mean"], markevery=markevery(sampler, len(curve)), **line_kwargs(sampler))
    for sampler in SHADOW_SAMPLERS:
        shadow = shadows[shadows["sampler"] == sampler].sort_values("step")
        if not shadow.empty:
            ax.plot(
                shadow["step"], shadow["mean"], markevery=markevery(sampler, len(shadow)), **line_kwargs(sampler, shadow=True)
            )
    ax.grid(alpha=0.3)


def seeds_note(curves: pd.DataFrame, scale: str | None) -> str:
    """``scale: smoke, 3 seeds per curve`` below full scale (``scale`` given), else nothing: a
    reduced figure must not pass for the paper's."""
    if not scale:
        return ""
    if "n_seeds" not in curves:
        return f"scale: {scale}"
    low, high = int(curves["n_seeds"].min()), int(curves["n_seeds"].max())
    seeds = f"{low} seeds" if low == high else f"{low}-{high} seeds"
    return f"scale: {scale}, {seeds} per curve"


def legend_columns(labels: list[str], width: float) -> int:
    """As many legend entries per row as fit the figure's width (about 0.065 in per character
    at the legend's font size, plus the line sample), so the legend below the grid stays short."""
    entry = max(len(label) for label in labels) * 0.065 + 0.7
    return max(1, min(len(labels), int(width // entry)))


def plot_figure(
    aggregated: pd.DataFrame,
    metric: str,
    title: str,
    ylabel: str,
    pdf_path,
    png_path,
    provenance: str = "",
    *,
    xlabel: str = DEFAULT_XLABEL,
    panel_metrics: dict[str, str] | None = None,
    scale: str | None = None,
) -> None:
    """Draw ``metric`` from an aggregated table as one figure and write it as PDF and PNG.

    Panels come in ``panel_index`` order in a grid sized from their number (a study: one row per
    setting). ``panel_metrics`` (panel -> result column) gives panels plotting different
    quantities their own y-scale and y-label; otherwise the y-axis is shared and labelled
    ``ylabel``. The legend sits below the grid so it never covers a curve.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in aggregated.columns]
    if missing:
        raise PlotError(f"missing columns {missing}")
    curves = aggregated[aggregated["metric"] == metric]
    if curves.empty:
        raise PlotError(f"no rows for metric {metric!r} (has {sorted(set(aggregated['metric']))})")
    shadows = aggregated[aggregated["metric"] == f"{metric}_on_policy"]
    check_samplers(curves)

    panels = curves[["panel_index", "panel", "panel_title"]].drop_duplicates("panel_index").sort_values("panel_index")
    panel_ylabels = {p: metric_label(panel_metrics[p]) for p in panels["panel"] if p in (panel_metrics or {})}
    mixed = len(set(panel_ylabels.values())) > 1
    settings = list(dict.fromkeys(curves["setting"])) if "setting" in curves else []
    if settings:  # a study: one row per setting, one column per panel
        n_rows, n_columns = len(settings), len(panels)
    else:
        n_rows, n_columns = grid_shape(len(panels))
    width = max(PANEL_SIZE[0] * n_columns, MIN_WIDTH)
    fig, axes = plt.subplots(
        n_rows,
        n_columns,
        squeeze=False,
        layout="constrained",
        figsize=(width, PANEL_SIZE[1] * n_rows + 1.4),
        sharey=("col" if settings else False) if mixed else True,
    )
    for row, setting in enumerate(settings or [None]):
        in_row = curves if setting is None else curves[curves["setting"] == setting]
        shadows_in_row = shadows if setting is None else shadows[shadows["setting"] == setting]
        row_axes = axes.flat if setting is None else axes[row]
        for column, (ax, panel) in enumerate(zip(row_axes, panels.itertuples(index=False))):
            draw_panel(ax, in_row[in_row["panel"] == panel.panel], shadows_in_row[shadows_in_row["panel"] == panel.panel])
            if setting is None or row == 0:
                ax.set_title(panel.panel_title, fontsize=10)
            row_label = setting.replace(", ", "\n") if setting is not None and column == 0 else ""
            metric_part = panel_ylabels[panel.panel] if mixed else ""
            if row_label or metric_part:
                ax.set_ylabel("\n".join(filter(None, [row_label, metric_part])), fontsize=8)
    for ax in axes.flat[len(panels) :] if not settings else ():
        ax.set_visible(False)
    for column in axes.T:  # under each column's lowest panel: a figure-wide label would sit below the legend
        [ax for ax in column if ax.get_visible()][-1].set_xlabel(xlabel, fontsize=9)

    chars = int(width * 72 / (TITLE_FONTSIZE * 0.6))  # a long title wraps instead of running off a narrow canvas
    fig.suptitle("\n".join(filter(None, [textwrap.fill(title, chars), seeds_note(curves, scale)])), fontsize=TITLE_FONTSIZE)
    if not mixed:
        fig.supylabel(ylabel, fontsize=10)
    handles = legend_handles(set(curves["sampler"]), set(shadows["sampler"]))
    ncols = legend_columns([h.get_label() for h in handles], width)
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False, fontsize=9)
    save(fig, pdf_path, png_path, provenance)


def inputs_summary(inputs_json: str | None) -> str:
    """One line naming every result that fed the figure (``run_id/seeds_lo-hi@sha256[:12]``),
    embedded in the PDF and PNG metadata so a figure file says where it came from."""
    if not inputs_json:
        return ""
    results = json.loads(Path(inputs_json).read_text())["results"]
    return "maprops results: " + " ".join(f"{r['run_id']}/{Path(r['path']).stem}@{r['sha256'][:12]}" for r in results)


def save(fig, pdf_path, png_path, provenance: str = "") -> None:
    """Write both files atomically, without timestamps or version strings, then free the figure."""
    try:
        with atomic_path(pdf_path) as tmp:
            fig.savefig(tmp, format="pdf", metadata={"CreationDate": None, "Subject": provenance or None})
        with atomic_path(png_path) as tmp:
            fig.savefig(
                tmp, format="png", dpi=PNG_DPI, metadata={"Software": None, **({"Description": provenance} if provenance else {})}
            )
    finally:
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aggregated", required=True, help="CSV written by pipeline/aggregate.py")
    parser.add_argument("--metric", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--ylabel", required=True)
    parser.add_argument("--pdf", required=True)
    parser.add_argument("--png", required=True)
    parser.add_argument("--inputs", help="the aggregate's record of its result files (pipeline/aggregate.py)")
    parser.add_argument("--labels-json", default="{}", help="xlabel, panel_metrics, scale (Plan.plot_labels)")
    args = parser.parse_args(argv)
    try:
        table = pd.read_csv(args.aggregated)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        print(f"plot: {args.aggregated}: cannot read ({e})", file=sys.stderr)
        return 1
    try:
        labels = json.loads(args.labels_json)
        plot_figure(
            table,
            args.metric,
            args.title,
            args.ylabel,
            args.pdf,
            args.png,
            inputs_summary(args.inputs),
            xlabel=labels.get("xlabel", DEFAULT_XLABEL),
            panel_metrics=labels.get("panel_metrics"),
            scale=labels.get("scale"),
        )
    except PlotError as e:
        print(f"plot: {args.aggregated}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
