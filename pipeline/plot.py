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
scale; every figure states under its title the scale, the seeds per curve and what the band and
the dotted curves are; for a rate figure (docs/rate.md), ``axes: loglog`` and the ``slopes``
table (pipeline/slopes.py), whose fitted slope and CI per curve go in a table under the panels,
a row per sampler in its colour. Each part of the canvas (heading, panels, slopes, legend) gets
the height it needs, so constrained layout never squeezes the panels.

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
import matplotlib.ticker  # noqa: E402
import pandas as pd  # noqa: E402

from maprops.io import atomic_path  # noqa: E402
from pipeline.plot_style import (  # noqa: E402
    SAMPLER_STYLE,
    SHADOW_SAMPLERS,
    band_kwargs,
    legend_handles,
    line_kwargs,
    markevery,
    metric_label,
    register_styles,
    slope_text,
)

REQUIRED_COLUMNS = ["panel_index", "panel", "panel_title", "sampler", "metric", "step", "mean", "ci_low", "ci_high"]
DEFAULT_XLABEL = "Environment steps"
PNG_DPI = 150
PANEL_SIZE = (2.5, 2.1)  # inches per panel: a 21-panel figure stays legible on a page width
MIN_WIDTH = 5.0  # a single panel still leaves room for the title and a legend row
TITLE_FONTSIZE = 11
AXES = ("linear", "loglog")
SLOPE_COLUMNS = ["panel", "sampler", "metric", "slope", "ci_low", "ci_high", "first_step", "last_step"]


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
    drawn = [s for s in SAMPLER_STYLE if s in set(curves["sampler"])]
    for sampler in drawn:
        curve = curves[curves["sampler"] == sampler].sort_values("step")
        ax.fill_between(curve["step"], curve["ci_low"], curve["ci_high"], **band_kwargs(sampler))
        ax.plot(curve["step"], curve["mean"], markevery=markevery(sampler, len(curve), drawn), **line_kwargs(sampler))
    for sampler in SHADOW_SAMPLERS:
        shadow = shadows[shadows["sampler"] == sampler].sort_values("step")
        if not shadow.empty and sampler in drawn:
            ax.plot(
                shadow["step"],
                shadow["mean"],
                markevery=markevery(sampler, len(shadow), drawn),
                **line_kwargs(sampler, shadow=True),
            )
    ax.grid(alpha=0.3)


def set_loglog(ax, steps) -> None:
    """Both axes logarithmic, ticks written as plain numbers (0.05, not 5 x 10^-2): x at the
    powers of two the checkpoints span (else at the checkpoints, every other one when there are
    many), y at 1, 2, 5 x 10^k, or at every
    digit when the panel spans too little of a decade for three of those, or at three rounded
    values when it spans too little even for that."""
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    steps = sorted(set(int(s) for s in steps))
    powers = [2**k for k in range(steps[0].bit_length() - 1, steps[-1].bit_length()) if steps[0] <= 2**k <= steps[-1]]
    if len(powers) >= 2:  # evenly spaced on the log axis, whatever the checkpoints' spacing
        ticks = powers if len(powers) <= 6 else powers[:: -(-len(powers) // 6)]
    else:
        ticks = steps if len(steps) <= 5 else steps[:: -(-len(steps) // 5)]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    low, high = ax.get_ylim()
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for digits in ((1,), (1, 2, 5), range(1, 10)):
        y_ticks = [d * 10.0**e for e in decades for d in digits if low <= d * 10.0**e <= high]
        if len(y_ticks) >= 3:
            break
    else:  # a narrow range: three ticks evenly spaced on the log axis, two significant digits
        y_ticks = sorted({float(f"{t:.2g}") for t in (low * (high / low) ** f for f in (0.15, 0.5, 0.85))})
    ax.set_yticks(y_ticks, [f"{t:g}" for t in y_ticks])
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylim(low, high)


def draw_slope_table(subfig, slopes: pd.DataFrame, panels: pd.DataFrame) -> None:
    """Each curve's fitted slope with its 95% CI in a table under the panels: a row per sampler
    (its label in its colour), a column per panel. Inside or beside the panels the numbers of
    many samplers would cover curves or run into the next panel."""
    order = [s for s in SAMPLER_STYLE if s in set(slopes["sampler"])]
    cells = []
    for sampler in order:
        row = []
        for panel in panels["panel"]:
            hit = slopes[(slopes["sampler"] == sampler) & (slopes["panel"] == panel)]
            row.append("—" if hit.empty else slope_text(sampler, *hit.iloc[0][["slope", "ci_low", "ci_high"]]).split(": ", 1)[1])
        cells.append(row)
    ax = subfig.subplots()
    ax.axis("off")
    table = ax.table(
        cellText=cells,
        rowLabels=[SAMPLER_STYLE[s].label for s in order],
        colLabels=list(panels["panel_title"]),
        loc="center",
        cellLoc="center",
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    for (row, column), cell in table.get_celld().items():
        if row > 0:
            cell.get_text().set_color(SAMPLER_STYLE[order[row - 1]].color)
        if column == -1:
            cell.get_text().set_horizontalalignment("right")


def check_slopes(slopes: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The slopes table's rows of the plotted metric."""
    return metric_rows(slopes, metric, SLOPE_COLUMNS, "slopes table: ")


def metric_rows(table: pd.DataFrame, metric: str, required, what: str = "") -> pd.DataFrame:
    """``table``'s rows of ``metric``, after checking it has the ``required`` columns."""
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise PlotError(f"{what}missing columns {missing}")
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise PlotError(f"{what}no rows for metric {metric!r} (has {sorted(set(table['metric']))})")
    return rows


def slopes_note(slopes: pd.DataFrame) -> str:
    """What the table under the panels holds."""
    first, last = int(slopes["first_step"].min()), int(slopes["last_step"].max())
    return f"Least-squares slope of log(mean error) on log(samples), {first}-{last} samples [95% bootstrap CI over seeds]"


def seeds_note(curves: pd.DataFrame, scale: str | None, shadows: bool) -> str:
    """What every figure says under its title: its scale and seeds per curve (a reduced figure
    must not pass for the paper's), what the band is, and what the dotted curves are."""
    parts = [f"scale: {scale or 'full'}"]
    if "n_seeds" in curves:
        low, high = int(curves["n_seeds"].min()), int(curves["n_seeds"].max())
        parts[0] += f", {low if low == high else f'{low}-{high}'} seeds per curve"
    parts.append("shaded: 95% bootstrap CI over seeds")
    if shadows:
        parts.append("dotted, hollow markers: each sampler's shadow on-policy buffer")
    return "; ".join(parts)


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
    axes_scale: str = "linear",
    slopes: pd.DataFrame | None = None,
) -> None:
    """Draw ``metric`` from an aggregated table as one figure and write it as PDF and PNG.

    Panels come in ``panel_index`` order in a grid sized from their number (a study: one row per
    setting). ``panel_metrics`` (panel -> result column) gives panels plotting different
    quantities their own y-scale and y-label; otherwise the y-axis is shared and labelled
    ``ylabel``. The legend sits below the grid so it never covers a curve. ``axes_scale``
    ``loglog`` draws both axes logarithmic, each panel with its own y-range; ``slopes`` (the
    table pipeline/slopes.py writes) adds each curve's fitted slope inside its panel.
    """
    if axes_scale not in AXES:
        raise PlotError(f"axes must be one of {', '.join(AXES)}, got {axes_scale!r}")
    curves = metric_rows(aggregated, metric, REQUIRED_COLUMNS)
    shadows = aggregated[aggregated["metric"] == f"{metric}_on_policy"]
    check_samplers(curves)
    loglog = axes_scale == "loglog"
    if loglog and (curves["mean"] <= 0).any():
        raise PlotError(f"log axes need positive values; {metric!r} has a mean <= 0")
    if slopes is not None:
        slopes = check_slopes(slopes, metric)

    panels = curves[["panel_index", "panel", "panel_title"]].drop_duplicates("panel_index").sort_values("panel_index")
    panel_ylabels = {p: metric_label(panel_metrics[p]) for p in panels["panel"] if p in (panel_metrics or {})}
    mixed = len(set(panel_ylabels.values())) > 1
    settings = list(dict.fromkeys(curves["setting"])) if "setting" in curves else []
    if settings:  # a study: one row per setting, one column per panel
        n_rows, n_columns = len(settings), len(panels)
    else:
        n_rows, n_columns = grid_shape(len(panels))
    handles = legend_handles(set(curves["sampler"]), set(shadows["sampler"]))
    width = max(PANEL_SIZE[0] * n_columns, MIN_WIDTH)
    ncols = legend_columns([h.get_label() for h in handles], width)
    chars = int(width * 72 / (TITLE_FONTSIZE * 0.6))  # a long title wraps instead of running off a narrow canvas
    heading = [*textwrap.wrap(title, chars), *textwrap.wrap(seeds_note(curves, scale, not shadows.empty), chars)]
    slope_rows = len(set(slopes["sampler"])) + 1 if slopes is not None and not slopes.empty else 0
    # every part gets the height it needs, so constrained layout never has to squeeze panels
    panels_height = PANEL_SIZE[1] * n_rows
    table_height = 0.2 * slope_rows + 0.35 if slope_rows else 0.0
    legend_height = 0.24 * math.ceil(len(handles) / ncols) + 0.3
    fig = plt.figure(layout="constrained", figsize=(width, panels_height + table_height + legend_height + 0.22 * len(heading)))
    if slope_rows:
        top, bottom = fig.subfigures(2, 1, height_ratios=[panels_height, table_height])
    else:
        top, bottom = fig, None
    axes = top.subplots(
        n_rows,
        n_columns,
        squeeze=False,
        sharey=False if loglog else ("col" if settings else False) if mixed else True,
    )
    for row, setting in enumerate(settings or [None]):
        in_row = curves if setting is None else curves[curves["setting"] == setting]
        shadows_in_row = shadows if setting is None else shadows[shadows["setting"] == setting]
        row_axes = axes.flat if setting is None else axes[row]
        for column, (ax, panel) in enumerate(zip(row_axes, panels.itertuples(index=False))):
            draw_panel(ax, in_row[in_row["panel"] == panel.panel], shadows_in_row[shadows_in_row["panel"] == panel.panel])
            if loglog:
                set_loglog(ax, in_row[in_row["panel"] == panel.panel]["step"])
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
    if bottom is not None:
        draw_slope_table(bottom, slopes, panels)
        bottom.suptitle(slopes_note(slopes), fontsize=8)

    fig.suptitle("\n".join(heading), fontsize=TITLE_FONTSIZE)
    if not mixed:
        top.supylabel(ylabel, fontsize=10)
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


def read_slopes(path: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise PlotError(f"slopes table {path}: cannot read ({e})") from e


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aggregated", required=True, help="CSV written by pipeline/aggregate.py")
    parser.add_argument("--metric", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--ylabel", required=True)
    parser.add_argument("--pdf", required=True)
    parser.add_argument("--png", required=True)
    parser.add_argument("--inputs", help="the aggregate's record of its result files (pipeline/aggregate.py)")
    parser.add_argument("--labels-json", default="{}", help="xlabel, panel_metrics, scale, axes, slopes (Plan.plot_labels)")
    args = parser.parse_args(argv)
    try:
        table = pd.read_csv(args.aggregated)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        print(f"plot: {args.aggregated}: cannot read ({e})", file=sys.stderr)
        return 1
    try:
        labels = json.loads(args.labels_json)
        register_styles(labels.get("sampler_styles", {}))
        slopes = read_slopes(labels["slopes"]) if labels.get("slopes") else None
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
            axes_scale=labels.get("axes", "linear"),
            slopes=slopes,
        )
    except PlotError as e:
        print(f"plot: {args.aggregated}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
