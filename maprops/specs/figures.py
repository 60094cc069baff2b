"""Figure specs (``specs/figures/*.yaml``) and run scales (``specs/scales.yaml``).

A figure names panels (game + reward variant), samplers, an algorithm and a metric; the
pipeline crosses panels with samplers into training cells. A scale shrinks every figure
without editing it: ``smoke`` caps seeds and budgets so a figure runs end to end in seconds.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from maprops.config import ALGORITHMS
from maprops.kinds import SAMPLERS
from maprops.spec_types import Frozen, Int

# joint_/agent1_sampling_error: TV for games with computable visitation, KL (App. C) for others.
Metric = Literal[
    "success_rate",
    "mean_return",
    "joint_tv",
    "agent1_tv",
    "joint_kl",
    "agent1_kl",
    "joint_sampling_error",
    "agent1_sampling_error",
]
# Sampler names come from the registry (maprops/kinds/); a sweep tunes the behavior-update ones.
SamplerKind = Literal[tuple(SAMPLERS)]
BehaviorSamplerKind = Literal[tuple(name for name, kind in SAMPLERS.items() if kind.has_behavior_update)]
Algorithm = Literal[ALGORITHMS]

AUTO = "auto"
# Seeds trained together in one process: a number, or ``auto``: the pipeline picks each cell's
# block from the cost model and the cores the build runs on (pipeline/expand.py, ``auto_block``).
# The library never resolves ``auto`` itself: it knows neither the cost model nor the cores.
SeedBlock = Annotated[Int, Field(ge=1)] | Literal["auto"]


# Dotted run-spec path -> value (or a named value), applied to every cell it concerns; see
# maprops.specs.overrides.
Overrides = dict[str, Any]


class Panel(Frozen):
    """One panel of a figure. ``sweep`` names a sweep (``specs/sweeps/``) of this game whose best
    setting per sampler replaces the typed PROPS / MA-PROPS behavior settings; ``overrides``
    change this panel's runs after the figure's own overrides."""

    game: str
    variant: str = "original"
    title: str
    sweep: str | None = None
    overrides: Overrides = {}


class FigureSpec(Frozen):
    """``experiment: training`` (default) plots curves over training; ``fixed_target`` (paper
    §6.1, Fig. 4) keeps the initial target policies fixed and plots sampling error against the
    number of ``samples`` collected, measured at ``checkpoints`` evenly spaced points."""

    figure: str
    title: str
    experiment: Literal["training", "fixed_target"] = "training"
    samples: Int | None = Field(default=None, ge=1, validate_default=True, description="fixed_target: samples per seed")
    checkpoints: Int = Field(default=16, ge=1, description="fixed_target: measurement points")
    algorithm: Algorithm
    metric: Metric
    ylabel: str
    samplers: tuple[str, ...] = Field(
        min_length=1, description="registered samplers (maprops/kinds/) or variants named in specs/samplers.yaml, one curve each"
    )
    seeds: Int = Field(ge=1, description="seeds 0..seeds-1 per cell")
    seed_block: SeedBlock = Field(
        default=AUTO,
        description="seeds trained together in one process, or auto (the pipeline splits costly cells for the cores it runs on)",
    )
    panels: tuple[Panel, ...] = Field(min_length=1)
    overrides: Overrides = Field(default={}, description="run-spec overrides for every cell of the figure")

    @field_validator("samplers")
    @classmethod
    def _each_sampler_once(cls, samplers):
        twice = sorted({s for s in samplers if samplers.count(s) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once")
        return samplers

    @field_validator("samples")
    @classmethod
    def _samples_iff_fixed_target(cls, samples, info: ValidationInfo):
        if (info.data.get("experiment") == "fixed_target") != (samples is not None):
            raise ValueError("give 'samples' exactly when experiment is fixed_target")
        return samples


class StudySpec(Frozen):
    """A sensitivity study: a base figure's cells trained under every combination of the
    ``axes`` (run-spec path -> values, crossed in the order written). A setting whose values are
    the base figure's own reuses the base figure's runs (same resolved spec, same hash)."""

    study: str
    title: str
    figure: str = Field(description="the base figure: algorithm, metric, samplers, seeds, panels")
    panels: tuple[str, ...] | None = Field(
        default=None, min_length=1, description="the base figure's panels to keep, by game name (default: all)"
    )
    axes: dict[str, tuple[Any, ...]] = Field(min_length=1)

    @field_validator("axes")
    @classmethod
    def _each_axis_has_values(cls, axes):
        for path, values in axes.items():
            if not values:
                raise ValueError(f"axis {path!r} has no values")
            if len(set(map(repr, values))) != len(values):
                raise ValueError(f"axis {path!r} lists a value twice")
        return axes

    def settings(self) -> list[dict[str, Any]]:
        """Every combination of the axes' values, first axis slowest."""
        return [dict(zip(self.axes, values)) for values in itertools.product(*self.axes.values())]

    def setting_label(self, setting: dict[str, Any]) -> str:
        """``learning_rate=0.01, target_kl=authors_code_default``: the last path component where
        it is unambiguous, the whole path where two axes share it."""
        leaves = [path.rsplit(".", 1)[-1] for path in self.axes]
        names = [leaf if leaves.count(leaf) == 1 else path for leaf, path in zip(leaves, self.axes)]
        return ", ".join(f"{name}={_show(setting[path])}" for name, path in zip(names, self.axes))


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class SweepSpec(Frozen):
    """The paper's Table 1 sweep for one game (Appendix G): every combination of the behavior
    settings in ``hyperparams/table1.yaml``, per sampler, scored by the final mean of ``metric``."""

    sweep: str
    title: str
    game: str
    variant: str = "original"
    algorithm: Algorithm
    samplers: tuple[BehaviorSamplerKind, ...] = Field(min_length=1)
    metric: Literal["success_rate", "mean_return"] = "success_rate"
    seeds: Int = Field(ge=1)
    seed_block: SeedBlock = AUTO


class Scale(Frozen):
    """Caps applied to every figure; ``None`` keeps the figure's own value."""

    seeds: Int | None = Field(default=None, ge=1)
    seed_block: Int | None = Field(default=None, ge=1, description="cap on every block, explicit or auto")
    max_iterations: Int | None = Field(default=None, ge=1)
    max_batch_size: Int | None = Field(
        default=None, ge=1, description="cap on the PPO batch n (smoke: the behavior update is O(n^2) per target update)"
    )
    max_samples: Int | None = Field(default=None, ge=1, description="cap on fixed_target figures' samples")
    eval_episodes: Int | None = Field(default=None, ge=1)


class Scales(Frozen):
    scales: dict[str, Scale] = Field(min_length=1)
