"""Figure specs (``specs/figures/*.yaml``) and run scales (``specs/scales.yaml``).

A figure names panels (game + reward variant), samplers, an algorithm and a metric; the
pipeline crosses panels with samplers into training cells. A scale shrinks every figure
without editing it: ``smoke`` caps seeds and budgets so a figure runs end to end in seconds.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

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

MAX_SEEDS = 10_000  # seeds per cell: more is a typo (10^9 seeds would take minutes to plan)


class SeedRange(Frozen):
    """Seeds ``start .. start + count - 1``. A plain number ``n`` in a spec means ``0 .. n - 1``
    (the same seeds, files and run ids as before ranges existed); a range with another start
    trains fresh seeds, e.g. a replication of a claim (``seeds: {start: 100, count: 100}``)."""

    start: Int = Field(default=0, ge=0)
    count: Int = Field(ge=1, le=MAX_SEEDS)

    @classmethod
    def of(cls, seeds: int | SeedRange) -> SeedRange:
        return seeds if isinstance(seeds, SeedRange) else cls(count=seeds)

    def label(self) -> str:
        return f"seeds {self.start}-{self.start + self.count - 1}"


def _count_is_a_range(value: Any) -> Any:
    """A plain seed count ``n`` is the range ``{start: 0, count: n}``: one model, one error."""
    return value if isinstance(value, (dict, SeedRange)) else {"count": value}


Seeds = Annotated[SeedRange, BeforeValidator(_count_is_a_range)]


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
    number of ``samples`` collected, measured at ``checkpoints`` evenly spaced points.

    Fixed-target figures may also ask for a rate plot (beyond the paper; docs/rate.md):
    ``axes: loglog`` draws both axes logarithmic; ``checkpoint_spacing: geometric`` plots the
    error at ``first_checkpoint``, twice that, four times, ... up to ``samples`` (equally spaced
    on a log axis); ``fit_slope: true`` fits, per curve, the least-squares slope of log(mean
    error) against log(samples) over the plotted checkpoints from ``first_checkpoint`` on, with
    a 95% bootstrap CI over seeds, and writes it beside the aggregated table and into the figure.
    The defaults leave a figure, and its runs, as they were."""

    figure: str
    title: str
    experiment: Literal["training", "fixed_target"] = "training"
    samples: Int | None = Field(default=None, ge=1, validate_default=True, description="fixed_target: samples per seed")
    checkpoints: Int = Field(default=16, ge=1, description="fixed_target: measurement points")
    checkpoint_spacing: Literal["even", "geometric"] = Field(
        default="even",
        description="fixed_target: even = 'checkpoints' evenly spaced points; geometric = first_checkpoint x 1, 2, 4, ... "
        "up to samples (the engine measures every first_checkpoint samples; the others are left out of the table)",
    )
    first_checkpoint: Int = Field(
        default=16, ge=1, description="fixed_target: the first geometric checkpoint, and where the slope fit starts"
    )
    axes: Literal["linear", "loglog"] = Field(default="linear", description="fixed_target: loglog = both axes logarithmic")
    fit_slope: bool = Field(
        default=False,
        strict=True,
        description="fixed_target: fit each curve's log-log slope over the checkpoints in [first_checkpoint, samples], "
        "with a 95% bootstrap CI over seeds",
    )
    algorithm: Algorithm
    metric: Metric
    ylabel: str
    samplers: tuple[str, ...] = Field(
        min_length=1, description="registered samplers (maprops/kinds/) or variants named in specs/samplers.yaml, one curve each"
    )
    seeds: Seeds = Field(description="seeds per cell: a count n (seeds 0..n-1) or {start, count}")
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

    @field_validator("panels")
    @classmethod
    def _each_panel_once(cls, panels):
        """Curves are told apart by game and reward variant, so one of them twice would make
        two curves with one name (use a study to vary a setting of the same panel)."""
        seen = {}
        for i, panel in enumerate(panels):
            key = (panel.game, panel.variant)
            if key in seen:
                message = (
                    f"game {panel.game!r} with variant {panel.variant!r} is already panel {seen[key]}; "
                    "a figure's panels are told apart by game and variant (vary a setting with a study instead)"
                )
                raise PydanticCustomError("spec_value", "{message}", {"message": message, "at": (i,)})
            seen[key] = i
        return panels

    @field_validator("samples")
    @classmethod
    def _samples_iff_fixed_target(cls, samples, info: ValidationInfo):
        if (info.data.get("experiment") == "fixed_target") != (samples is not None):
            raise ValueError("give 'samples' exactly when experiment is fixed_target")
        return samples

    @model_validator(mode="after")
    def _rate_options_fit_the_experiment(self) -> FigureSpec:
        """The rate-plot options are for fixed-target figures, and must describe checkpoints
        that exist; each error names the field it is about (``FILE:LINE: field: message``)."""
        given = self.model_fields_set
        if self.experiment != "fixed_target":
            for name in RATE_OPTIONS:
                if name in given and getattr(self, name) != FigureSpec.model_fields[name].default:
                    _refuse(name, f"{name!r} needs experiment: fixed_target (a curve of error against samples collected)")
            return self
        if self.samples is None:  # reported by the samples validator
            return self
        first = self.first_checkpoint
        if self.checkpoint_spacing == "geometric":
            if "checkpoints" in given:
                _refuse(
                    "checkpoints",
                    "'checkpoints' counts evenly spaced points; checkpoint_spacing: geometric measures at "
                    "first_checkpoint x 1, 2, 4, ... up to samples: remove one of the two",
                )
            ratio = self.samples // first
            if self.samples % first or ratio < 2 or ratio & (ratio - 1):
                _refuse(
                    "samples",
                    f"checkpoint_spacing: geometric measures at {first} x 1, 2, 4, ... (first_checkpoint x powers of 2): "
                    f"samples must be one of these, at least {2 * first}; got {self.samples}",
                )
            return self
        if self.fit_slope:
            steps = even_checkpoint_steps(self.samples, self.checkpoints)
            fitted = [s for s in steps if s >= first]
            if len(fitted) < 2:
                _refuse(
                    "first_checkpoint",
                    f"fit_slope needs at least 2 checkpoints in [first_checkpoint, samples] = [{first}, {self.samples}]; "
                    f"the {len(steps)} evenly spaced checkpoints ({_list(steps)}) leave {len(fitted)}",
                )
        elif "first_checkpoint" in given:
            _refuse("first_checkpoint", "'first_checkpoint' is used only by checkpoint_spacing: geometric or fit_slope: true")
        return self

    def checkpoint_steps(self, samples: int | None = None) -> list[int]:
        """The sample counts a fixed-target figure plots, for ``samples`` per seed (default: the
        figure's own; a scale may cap it): evenly spaced, as the engine measures them, or
        ``first_checkpoint`` x 1, 2, 4, ... up to ``samples`` (just ``samples`` if that is less
        than ``first_checkpoint``)."""
        samples = self.samples if samples is None else samples
        if self.checkpoint_spacing == "even":
            return even_checkpoint_steps(samples, self.checkpoints)
        steps = []
        step = self.first_checkpoint
        while step <= samples:
            steps.append(step)
            step *= 2
        return steps or [samples]

    def eval_every(self, samples: int) -> int:
        """Samples between the engine's measurements for ``samples`` per seed: what the run spec's
        ``eval_every`` is unless overridden. Geometric checkpoints are all multiples of
        ``first_checkpoint``, so the engine measures every ``first_checkpoint`` samples."""
        if self.checkpoint_spacing == "geometric":
            return self.first_checkpoint
        return max(1, samples // self.checkpoints)


# Fixed-target options (FigureSpec): a training figure may not set them.
RATE_OPTIONS = ("checkpoint_spacing", "first_checkpoint", "axes", "fit_slope")


def even_checkpoint_steps(samples: int, checkpoints: int) -> list[int]:
    """Where the engine measures a growing buffer of ``samples`` samples every ``samples //
    checkpoints`` samples (at least 1): every multiple of that, and the last sample."""
    every = max(1, samples // checkpoints)
    steps = list(range(every, samples + 1, every))
    return steps if steps and steps[-1] == samples else [*steps, samples]


def _refuse(field: str, message: str):
    """A cross-field error reported at ``field``'s line (maprops/specs/load.py reads ``at``)."""
    raise PydanticCustomError("spec_value", "{message}", {"message": message, "at": (field,)})


def _list(steps: list[int], shown: int = 6) -> str:
    return ", ".join(map(str, steps[:shown])) + (", ..." if len(steps) > shown else "")


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
    axes: dict[str, tuple[Any, ...]] = Field(
        default={}, description="run-spec path -> values; none: one setting, the base figure's (a replication)"
    )
    seeds: Seeds | None = Field(
        default=None, description="the seeds of every cell instead of the base figure's (e.g. fresh seeds: a replication)"
    )

    @model_validator(mode="after")
    def _varies_something(self):
        if not self.axes and self.seeds is None:
            raise ValueError("a study needs axes, or seeds (a replication on other seeds), or both")
        return self

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
        label = ", ".join(f"{name}={_show(setting[path])}" for name, path in zip(names, self.axes))
        if self.seeds is None:
            return label
        seeds = SeedRange.of(self.seeds).label()
        return f"{label}, {seeds}" if label else seeds


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
    seeds: Int = Field(ge=1, le=MAX_SEEDS)
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
