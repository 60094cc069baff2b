"""How each sampler's curve looks, so figures stay readable when curves coincide or bands overlap.

Colour alone fails in greyscale prints, for colour-blind readers and wherever two curves lie on
top of each other; so every sampler also gets its own line style and marker. Markers are thinned
to a few per curve and staggered between samplers, so coinciding curves still show every
sampler's marks side by side. CI bands are faint but outlined in the sampler's colour and line
style, so where bands overlap each one can still be traced back to its curve.
"""

from __future__ import annotations

import math

from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D

from maprops.kinds import SAMPLERS
from maprops.kinds.base import Style

# each sampler's registry entry says how it is drawn; the registry order is the drawing and legend order
SAMPLER_STYLE = {name: kind.style for name, kind in SAMPLERS.items()}
# a shadow buffer is what on-policy sampling would have collected alongside; the on-policy
# sampler's shadow is the sampler itself, drawing it would only add clutter
SHADOW_SAMPLERS = tuple(name for name in SAMPLERS if name != "on_policy")
SHADOW_LINESTYLE = ":"  # shadows: dotted, hollow markers, no band
MARKS_PER_CURVE = 6
BAND_FACE_ALPHA = 0.12
BAND_EDGE_ALPHA = 0.6

# a result column -> the y-label that names it honestly (a panel knows which one it plots)
METRIC_LABELS = {
    "joint_tv": "Joint TV",
    "joint_kl": "Joint KL",
    "agent1_tv": "Agent-1 TV",
    "agent1_kl": "Agent-1 KL",
    "success_rate": "Success rate",
    "mean_return": "Mean return",
}


def register_styles(styles: dict[str, list]) -> None:
    """Add the variants a figure draws (``Plan.plot_labels``: name -> [label, colour, line style,
    marker], as JSON) after the registered samplers, which keeps them last in legend order."""
    for name, (label, color, linestyle, marker) in styles.items():
        SAMPLER_STYLE[name] = Style(label, color, _tuples(linestyle), marker)


def _tuples(value):
    """JSON turns a dash pattern's tuples into lists; matplotlib wants them back."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def metric_label(column: str) -> str:
    return METRIC_LABELS.get(column.removesuffix("_on_policy"), column)


def shadow_label(sampler: str) -> str:
    return f"{SAMPLER_STYLE[sampler].label} (on-policy shadow)"


def markevery(sampler: str, n_points: int, drawn: list[str]) -> tuple[int, int]:
    """A few markers per curve, each of the panel's ``drawn`` samplers shifted by its share of
    the stride, so the marks of curves drawn on top of each other do not hide one another (the
    stride grows to one point per drawn sampler when the panel draws many)."""
    stride = max(len(drawn), round(n_points / MARKS_PER_CURVE), 1)
    return drawn.index(sampler) * stride // len(drawn), stride


def line_kwargs(sampler: str, shadow: bool = False) -> dict:
    """Line2D properties of a sampler's mean curve (or of its shadow on-policy curve)."""
    style = SAMPLER_STYLE[sampler]
    kwargs = dict(color=style.color, marker=style.marker, markersize=4)
    if shadow:
        return {
            **kwargs,
            "linestyle": SHADOW_LINESTYLE,
            "linewidth": 1.2,
            "markerfacecolor": "none",
            "label": shadow_label(sampler),
        }
    return {**kwargs, "linestyle": style.linestyle, "linewidth": 1.5, "label": style.label}


def band_kwargs(sampler: str) -> dict:
    """fill_between properties: faint face, stronger outline in the curve's colour and style."""
    style = SAMPLER_STYLE[sampler]
    return dict(
        facecolor=to_rgba(style.color, BAND_FACE_ALPHA),
        edgecolor=to_rgba(style.color, BAND_EDGE_ALPHA),
        linestyle=style.linestyle,
        linewidth=0.6,
    )


def legend_handles(samplers: set[str], shadowed: set[str]) -> list[Line2D]:
    """One legend entry per drawn curve kind, in the fixed sampler order, with its marker."""
    handles = [Line2D([], [], **line_kwargs(s)) for s in SAMPLER_STYLE if s in samplers]
    return handles + [Line2D([], [], **line_kwargs(s, shadow=True)) for s in SHADOW_SAMPLERS if s in shadowed]


def slope_text(sampler: str, slope: float, low: float, high: float) -> str:
    """A curve's fitted log-log slope with its CI, as the figure prints it:
    ``MA-PROPS: -0.52 [-0.55, -0.49]`` (true minus signs); ``n/a`` when the curve has too few
    checkpoints to fit."""
    if not all(map(math.isfinite, (slope, low, high))):
        return f"{SAMPLER_STYLE[sampler].label}: n/a"
    return f"{SAMPLER_STYLE[sampler].label}: " + f"{slope:.2f} [{low:.2f}, {high:.2f}]".replace("-", "\u2212")
