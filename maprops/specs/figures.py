"""Figure specs (``specs/figures/*.yaml``) and run scales (``specs/scales.yaml``).

A figure names panels (game + reward variant), samplers, an algorithm and a metric; the
pipeline crosses panels with samplers into training cells. A scale shrinks every figure
without editing it: ``smoke`` caps seeds and budgets so a figure runs end to end in seconds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from maprops.config import ALGORITHMS, Frozen, SAMPLER_KINDS  # noqa: F401  (names documented here)

Metric = Literal["success_rate", "joint_tv", "agent1_tv", "mean_return"]
SamplerKind = Literal["on_policy", "props", "ma_props"]


class Panel(Frozen):
    game: str
    variant: str = "original"
    title: str


class FigureSpec(Frozen):
    figure: str
    title: str
    algorithm: Literal["mappo", "ippo"]
    metric: Metric
    ylabel: str
    samplers: tuple[SamplerKind, ...] = Field(min_length=1)
    seeds: int = Field(ge=1, description="seeds 0..seeds-1 per cell")
    seed_block: int = Field(ge=1, description="seeds trained together in one process")
    panels: tuple[Panel, ...] = Field(min_length=1)


class Scale(Frozen):
    """Caps applied to every figure; ``None`` keeps the figure's own value."""

    seeds: int | None = Field(default=None, ge=1)
    seed_block: int | None = Field(default=None, ge=1)
    max_iterations: int | None = Field(default=None, ge=1)
    eval_episodes: int | None = Field(default=None, ge=1)


class Scales(Frozen):
    scales: dict[str, Scale] = Field(min_length=1)
