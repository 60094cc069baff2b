"""Aggregated CSV -> one paper-style figure (PDF + PNG): a grid of panels, one curve per sampler.

Every sampler keeps the same colour and label in every figure, so figures can be compared at a
glance. Each curve is the mean over seeds with its 95% bootstrap CI as a shaded band. For
sampling-error metrics the aggregated table also holds ``<metric>_on_policy``: the error of a
shadow on-policy buffer measured alongside each sampler, drawn dashed without a band as the
reference the adaptive samplers should beat.

Usage (from the repo root; the Snakefile's ``figure`` rule does this)::

    python pipeline/plot.py --aggregated IN.csv --metric success_rate --title "..." \
        --ylabel "..." --pdf OUT.pdf --png OUT.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; must precede importing pyplot

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(REPO))

from maprops.io import atomic_path  # noqa: E402

# sampler -> (legend label, colour); the dict order is the drawing and legend order
SAMPLER_STYLE = {
    "on_policy": ("On-policy", "#1f77b4"),
    "props": ("PROPS", "#ff7f0e"),
    "ma_props": ("MA-PROPS", "#2ca02c"),
}
# the on_policy sampler's shadow buffer is the sampler itself; drawing it would only add clutter
SHADOW_SAMPLERS = ("props", "ma_props")
REQUIRED_COLUMNS = ["panel_index", "panel", "panel_title", "sampler", "metric", "step", "mean", "ci_low", "ci_high"]
BAND_ALPHA = 0.2
PNG_DPI = 150


class PlotError(ValueError):
    """The aggregated table cannot make the requested figure."""


def grid_shape(n_panels: int) -> tuple[int, int]:
    """(rows, columns): at most 7 columns (21 panels -> 3 x 7), but 8 panels as 2 x 4."""
    columns = 4 if n_panels == 8 else min(n_panels, 7)
    return math.ceil(n_panels / columns), columns


def shadow_label(sampler: str) -> str:
    return f"{SAMPLER_STYLE[sampler][0]} (on-policy shadow)"


def check_samplers(rows: pd.DataFrame) -> None:
    """An unknown sampler would get an arbitrary colour; make adding its style explicit."""
    unknown = sorted(set(rows["sampler"]) - set(SAMPLER_STYLE))
    if unknown:
        raise PlotError(f"no style for sampler(s) {unknown}; add them to SAMPLER_STYLE in {__file__}")


def draw_panel(ax, curves: pd.DataFrame, shadows: pd.DataFrame) -> None:
    """One panel: mean line and CI band per sampler, dashed shadow on-policy lines on top."""
    for sampler, (label, colour) in SAMPLER_STYLE.items():
        curve = curves[curves["sampler"] == sampler].sort_values("step")
        if curve.empty:
            continue
        ax.fill_between(curve["step"], curve["ci_low"], curve["ci_high"], color=colour, alpha=BAND_ALPHA, linewidth=0)
        ax.plot(curve["step"], curve["mean"], color=colour, linewidth=1.5, label=label)
    for sampler in SHADOW_SAMPLERS:
        shadow = shadows[shadows["sampler"] == sampler].sort_values("step")
        if not shadow.empty:
            colour = SAMPLER_STYLE[sampler][1]
            ax.plot(shadow["step"], shadow["mean"], color=colour, linewidth=1.2, linestyle="--", label=shadow_label(sampler))
    ax.grid(alpha=0.3)


def legend_handles(curves: pd.DataFrame, shadows: pd.DataFrame) -> list[Line2D]:
    """One legend entry per drawn line style, in the fixed sampler order."""
    present, shadowed = set(curves["sampler"]), set(shadows["sampler"])
    handles = [
        Line2D([], [], color=colour, linewidth=1.5, label=label)
        for sampler, (label, colour) in SAMPLER_STYLE.items()
        if sampler in present
    ]
    handles += [
        Line2D([], [], color=SAMPLER_STYLE[s][1], linewidth=1.2, linestyle="--", label=shadow_label(s))
        for s in SHADOW_SAMPLERS
        if s in shadowed
    ]
    return handles


def plot_figure(aggregated: pd.DataFrame, metric: str, title: str, ylabel: str, pdf_path, png_path, provenance: str = "") -> None:
    """Draw ``metric`` from an aggregated table as one figure and write it as PDF and PNG.

    Panels come in ``panel_index`` order in a grid with a shared y-axis; x is environment steps.
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
    settings = list(dict.fromkeys(curves["setting"])) if "setting" in curves else []
    if settings:  # a study: one row per setting, one column per panel
        n_rows, n_columns = len(settings), len(panels)
    else:
        n_rows, n_columns = grid_shape(len(panels))
    fig, axes = plt.subplots(
        n_rows, n_columns, sharey=True, squeeze=False, layout="constrained",
        figsize=(max(2.6 * n_columns, 4.5), 2.2 * n_rows + 1.0),
    )
    for row, setting in enumerate(settings or [None]):
        in_row = curves if setting is None else curves[curves["setting"] == setting]
        shadows_in_row = shadows if setting is None else shadows[shadows["setting"] == setting]
        row_axes = axes.flat if setting is None else axes[row]
        for ax, panel in zip(row_axes, panels.itertuples(index=False)):
            draw_panel(ax, in_row[in_row["panel"] == panel.panel], shadows_in_row[shadows_in_row["panel"] == panel.panel])
            if setting is None or row == 0:
                ax.set_title(panel.panel_title, fontsize=10)
        if setting is not None:
            axes[row][0].set_ylabel(setting.replace(", ", "\n"), fontsize=8)
    for ax in axes.flat[len(panels):] if not settings else ():
        ax.set_visible(False)

    fig.suptitle(title)
    fig.supxlabel("Environment steps")
    fig.supylabel(ylabel)
    handles = legend_handles(curves, shadows)
    fig.legend(handles=handles, loc="outside right center", frameon=False)
    save(fig, pdf_path, png_path, provenance)


def inputs_summary(inputs_json: str | None) -> str:
    """One line naming every result that fed the figure (``run_id/seeds_lo-hi@sha256[:12]``),
    embedded in the PDF and PNG metadata so a figure file says where it came from."""
    if not inputs_json:
        return ""
    results = json.loads(Path(inputs_json).read_text())["results"]
    return "maprops results: " + " ".join(
        f"{r['run_id']}/{Path(r['path']).stem}@{r['sha256'][:12]}" for r in results
    )


def save(fig, pdf_path, png_path, provenance: str = "") -> None:
    """Write both files atomically, without timestamps or version strings, then free the figure."""
    try:
        with atomic_path(pdf_path) as tmp:
            fig.savefig(tmp, format="pdf", metadata={"CreationDate": None, "Subject": provenance or None})
        with atomic_path(png_path) as tmp:
            fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata={"Software": None, **({"Description": provenance} if provenance else {})})
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
    args = parser.parse_args(argv)
    try:
        table = pd.read_csv(args.aggregated)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        print(f"plot: {args.aggregated}: cannot read ({e})", file=sys.stderr)
        return 1
    try:
        plot_figure(table, args.metric, args.title, args.ylabel, args.pdf, args.png, inputs_summary(args.inputs))
    except PlotError as e:
        print(f"plot: {args.aggregated}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
