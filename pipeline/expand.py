"""Figure, study and sweep specs -> the files the pipeline builds.

Paths (``{scale}`` is a name from ``specs/scales.yaml``; ``{out}`` is the spec folder's output
tree, ``results`` for the shipped specs, see the Snakefile):

- ``results/{scale}/runs/{run_id}/run.json``           the resolved run spec (its hash is run_id)
- ``results/{scale}/runs/{run_id}/seeds_{lo}-{hi}.csv``  one training process, seeds lo..hi
- ``{out}/{scale}/aggregated/{figure}.csv``            mean and 95% bootstrap CI per curve
- ``{out}/{scale}/aggregated/{figure}.seeds.csv``      each seed's first, final and mean value per curve
- ``{out}/{scale}/aggregated/{figure}.slopes.csv``     ``fit_slope`` figures: each curve's log-log slope, 95% CI
- ``{out}/{scale}/figures/{figure}.pdf|png``          the figure; full scale is copied to paper_figs/
- ``{out}/{scale}/studies/{study}.csv|.seeds.csv|.md|.pdf|.png``  a study's curves, per-seed
  values, table of final values and differences, and figure (a row per setting)
- ``{out}/{scale}/calibrations/{name}.md|.csv``       a calibration's table: one row per candidate
  (on-policy final value, 95% CI, whether it meets the criterion, the chosen one); beside it
  ``.curves.csv|.seeds.csv|.inputs.json``, its aggregation
- ``{out}/{scale}/REPORT.md``                          the claims report

A run's directory is named by the hash of its resolved spec, so every figure, study, sweep and
spec folder that needs the same run shares it (fig11, fig13 and fig14 do), editing one cell's
hyperparameters or overriding it changes only that cell's path, and seeds are not part of it:
adding seeds adds blocks and trains only those. Everything named after a figure or study lives
in the spec folder's own output tree, so two spec folders never write the same path.

Seed blocks (``seed_block: auto``, the shipped figures' setting): block boundaries name the result
files, so the rule that picks them must give the same blocks on every call, whatever target is
being built. For each figure, study and sweep, JOB_SLACK (2) x its train work at one block per cell (the
least CPU it can cost) / the build's cores is a time limit per job; a run takes the tightest
limit of every spec that trains it with ``auto``, and ``resources.auto_block`` picks the largest
divisor of the seed count whose estimated job fits it, never splitting below SPLIT_FLOOR_S
(10 min) and never above MAX_JOB_S (10 h). So every train job of a build of one spec is at most
min(max(2 x that spec's total / cores, 10 min), 10 h) long, or one seed long if that is more,
and a range of core counts maps to the same files. Changing the core count may change the blocks, and new blocks are trained anew (a
seed's numbers do not depend on its block, so the aggregate is byte-identical either way).
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import Path

from maprops.kinds import GAMES
from maprops.specs import Cell, SpecLibrary
from maprops.specs.calibrations import only_on_policy, resolved_settings
from maprops.specs.sampler_variants import variant_style
from pipeline.resources import JOB_SLACK, auto_block, train_seconds

AUTO = "auto"

# Sampling-error metrics come with the shadow on-policy buffer's value (``<metric>_on_policy``).
ERROR_METRICS = ("joint_tv", "agent1_tv", "joint_kl", "agent1_kl", "joint_sampling_error", "agent1_sampling_error")
GENERIC_ERRORS = {"joint_sampling_error": "joint", "agent1_sampling_error": "agent1"}


def seed_blocks(seeds: int, block: int, first: int = 0) -> list[tuple[int, int]]:
    """Seeds ``first .. first + seeds - 1`` cut into inclusive ranges of at most ``block`` seeds."""
    end = first + seeds
    return [(lo, min(lo + block, end) - 1) for lo in range(first, end, block)]


class Plan:
    """Everything the Snakefile needs to know about one scale of one spec folder."""

    def __init__(self, specs: str | Path, scale: str, best_setting=None, out: str = "results", cores: int = 1):
        """``best_setting(sweep, sampler)`` reads a finished sweep's choice (the Snakefile's
        checkpoint); it is only called for figures whose panels name a sweep. ``out`` is the
        output tree of this spec folder (runs are shared under ``results/`` whatever it is).
        ``cores``: how many train jobs the build runs at once; it sizes ``seed_block: auto``."""
        if not isinstance(cores, int) or cores < 1:
            raise ValueError(f"cores must be a positive integer, got {cores!r}")
        self.library = SpecLibrary(specs)
        self.library.scale(scale)  # unknown scale -> KeyError listing the known ones
        self.scale = scale
        self.cores = cores
        self.out = out
        self.best_setting = best_setting
        self._figure_cells: dict[str, list[Cell]] = {}

    def cells(self, figure: str) -> list[Cell]:
        """Every cell of a figure, sweep-dependent ones resolved (this may wait on a sweep)."""
        if figure not in self._figure_cells:
            self._figure_cells[figure] = self.library.cells(figure, self.scale, self.best_setting)
        return self._figure_cells[figure]

    @cached_property
    def _cells(self) -> dict[str, list[Cell]]:
        """The cells known without any sweep result (a sweep's chosen runs are sweep runs)."""
        return {name: self.library.cells(name, self.scale) for name in self.library.figures}

    @cached_property
    def _sweep_cells(self) -> dict[str, list]:
        return {name: self.library.sweep_cells(name, self.scale) for name in self.library.sweeps}

    @cached_property
    def _study_cells(self) -> dict[str, list[Cell]]:
        return {name: self.library.study_cells(name, self.scale) for name in self.library.studies}

    @cached_property
    def _calibration_cells(self) -> dict[str, list[Cell]]:
        return {name: self.library.calibration_cells(name, self.scale) for name in self.library.calibrations}

    @cached_property
    def runs(self) -> dict[str, str]:
        """run_id -> canonical run spec JSON, for every run any figure, study, sweep or
        calibration needs at this scale."""
        cells = [c for cs in (*self._cells.values(), *self._study_cells.values(), *self._calibration_cells.values()) for c in cs]
        cells += [c for cs in self._sweep_cells.values() for _, c in cs]
        return {c.run.run_id(): c.run.canonical_json() for c in cells}

    @property
    def sweeps(self) -> list[str]:
        return list(self.library.sweeps)

    def sweep_inputs(self, sweep: str) -> list[str]:
        return sorted({path for _, cell in self._sweep_cells[sweep] for path in self.cell_files(cell)})

    def sweep_manifest(self, sweep: str) -> dict:
        """The aggregation manifest of a sweep: one curve per (sampler, Table 1 setting)."""
        return {
            "metrics": [self.library.sweep(sweep).metric],
            "cells": [self._cell_entry(c) for _, c in self._sweep_cells[sweep]],
        }

    def sweep_settings(self, sweep: str) -> list[dict]:
        """Each curve's label with its sampler and setting, for ``pipeline/sweep.py``."""
        return [{"label": cell.sampler, "run_id": cell.run.run_id(), **setting} for setting, cell in self._sweep_cells[sweep]]

    @property
    def figures(self) -> list[str]:
        return list(self.library.figures)

    @property
    def studies(self) -> list[str]:
        return list(self.library.studies)

    @property
    def slope_figures(self) -> list[str]:
        """The figures whose aggregation also fits log-log slopes (``fit_slope: true``)."""
        return [name for name, spec in self.library.figures.items() if spec.fit_slope]

    def study_cells(self, study: str) -> list[Cell]:
        """Every cell of a study, sweep-dependent ones resolved (this may wait on a sweep)."""
        return self.library.study_cells(study, self.scale, self.best_setting)

    def study_inputs(self, study: str) -> list[str]:
        return sorted({path for cell in self.study_cells(study) for path in self.cell_files(cell)})

    def study_manifest(self, study: str) -> dict:
        """A study's aggregation manifest: the base figure's metrics, one curve per (setting,
        panel, sampler); each cell carries its setting's label."""
        figure = self.library.study(study).figure
        return {
            "metrics": self.metrics(figure),
            "cells": [
                {"setting": c.setting, **self._cell_entry(c, self.columns(figure, c), self._steps(figure, c))}
                for c in self.study_cells(study)
            ],
        }

    def study_settings(self, study: str) -> list[dict]:
        """Each setting's label, its overrides as written and as resolved (named values become
        numbers), and whether it trains exactly the base figure's runs (``base``)."""
        spec = self.library.study(study)
        base = {(c.panel.game, c.sampler): c.run.run_id() for c in self.cells(spec.figure)}
        cells = self.study_cells(study)
        out = []
        for setting in spec.settings():
            label = spec.setting_label(setting)
            runs = {(c.panel.game, c.sampler): c.run.run_id() for c in cells if c.setting == label}
            resolved = {path: self.library.named_values.resolve(path, value) for path, value in setting.items()}
            out.append(
                {
                    "label": label,
                    "overrides": setting,
                    "resolved": resolved,
                    "base": all(base.get(k) == v for k, v in runs.items()),
                }
            )
        return out

    @property
    def calibrations(self) -> list[str]:
        return list(self.library.calibrations)

    def calibration_cells(self, name: str) -> list[Cell]:
        """One on-policy cell per candidate, in the spec's order (never any other sampler)."""
        return only_on_policy(self._calibration_cells[name], name)

    def calibration_inputs(self, name: str) -> list[str]:
        return sorted({path for cell in self.calibration_cells(name) for path in self.cell_files(cell)})

    def calibration_manifest(self, name: str) -> dict:
        """The aggregation manifest of a calibration: one curve per candidate (its label is the
        curve's setting), of the criterion's metric only."""
        return {
            "metrics": [self.library.calibration(name).criterion.metric],
            "cells": [{"setting": c.setting, **self._cell_entry(c)} for c in self.calibration_cells(name)],
        }

    def calibration_table_spec(self, name: str) -> dict:
        """What ``pipeline/calibration.py`` needs beside the per-seed values: the criterion, the
        fields the candidates set (in the order first written: the param is JSON with sorted
        keys) and, per candidate in order, its label, its settings as its run plays them and its
        run."""
        spec = self.library.calibration(name)
        cells = self.calibration_cells(name)
        return {
            "calibration": name,
            "title": spec.title,
            "game": spec.game,
            "variant": spec.variant,
            "algorithm": spec.algorithm,
            "criterion": spec.criterion.model_dump(mode="json"),
            "fields": list(dict.fromkeys(field for candidate in spec.candidates for field in candidate)),
            "candidates": [
                {"label": cell.setting, "settings": settings, "run_id": cell.run.run_id(), "seeds": cell.seeds}
                for cell, settings in zip(cells, resolved_settings(spec, cells))
            ],
        }

    def calibration_path(self, name: str, suffix: str) -> str:
        """``suffix`` ".md" or ".csv" (the table), ".curves.csv", ".seeds.csv", ".inputs.json"."""
        return f"{self.out}/{self.scale}/calibrations/{name}{suffix}"

    def run_dir(self, run_id: str) -> str:
        return f"results/{self.scale}/runs/{run_id}"

    @cached_property
    def job_limits(self) -> dict[str, float]:
        """run_id -> the time limit (seconds) of its train jobs, for runs some spec trains with
        ``seed_block: auto``: the largest, over those specs, of JOB_SLACK x the spec's train work
        at one block per cell (each run counted once) / ``cores``. The largest build that shares
        a run decides its blocks: a smaller spec reusing some of a big figure's seeds (fig5_tasks
        and fig5) then gets the big figure's blocks, and the big figure's files do not depend on
        which smaller specs exist (with the smallest limit, a 20-seed figure would cut a shared
        100-seed run into single-seed jobs on a cluster). Only cells known before any sweep
        finishes count; a sweep-chosen cell is a sweep run, limited by its sweep.

        A calibration limits only the runs no figure, study or sweep trains: its candidate equal to
        the game as written is a figure's on-policy run, which keeps that figure's blocks, so adding
        a calibration never re-blocks (and retrains) a figure's runs."""
        groups = [
            *self._cells.values(),
            *self._study_cells.values(),
            *([c for _, c in cs] for cs in self._sweep_cells.values()),
        ]
        limits: dict[str, float] = {}
        for cells in groups:
            self._limit(cells, limits)
        shared = set(limits)
        for cells in self._calibration_cells.values():
            self._limit(cells, limits, skip=shared)
        return limits

    def _limit(self, cells: list[Cell], limits: dict[str, float], skip: set[str] = frozenset()) -> None:
        """Raise ``limits`` of the ``auto`` runs of one spec's cells (not those in ``skip``) to
        JOB_SLACK x the spec's train work / cores."""
        unique = {c.run.run_id(): c for c in cells}
        total = sum(train_seconds(c.run.canonical_json(), c.seeds) for c in unique.values())
        for run_id, cell in unique.items():
            if cell.seed_block == AUTO and run_id not in skip:
                limits[run_id] = max(limits.get(run_id, 0.0), JOB_SLACK * total / self.cores)

    def block(self, cell: Cell) -> int:
        """The cell's seed block: the spec's (capped) number, or the ``auto`` choice."""
        if cell.seed_block != AUTO:
            return cell.seed_block
        run_id = cell.run.run_id()
        block = auto_block(
            self.runs.get(run_id) or cell.run.canonical_json(), cell.seeds, self.job_limits.get(run_id, float("inf"))
        )
        return min(block, cell.block_cap or block)

    def cell_files(self, cell: Cell) -> list[str]:
        run_id = cell.run.run_id()
        blocks = seed_blocks(cell.seeds, self.block(cell), cell.first_seed)
        return [f"{self.run_dir(run_id)}/seeds_{lo}-{hi}.csv" for lo, hi in blocks]

    def figure_inputs(self, figure: str) -> list[str]:
        return sorted({path for cell in self.cells(figure) for path in self.cell_files(cell)})

    def metrics(self, figure: str) -> list[str]:
        """The figure's metric, plus the shadow on-policy buffer's value for sampling errors."""
        metric = self.library.figure(figure).metric
        return [metric, f"{metric}_on_policy"] if metric in ERROR_METRICS else [metric]

    def columns(self, figure: str, cell: Cell) -> dict[str, str]:
        """A generic sampling-error metric -> this cell's result column: exact TV for games
        whose visitation is computable, KL by maximum likelihood for the others."""
        return {
            metric: self._column(metric, cell.run.game.kind)
            for metric in self.metrics(figure)
            if metric.removesuffix("_on_policy") in GENERIC_ERRORS
        }

    def manifest(self, figure: str) -> dict:
        """What ``pipeline/aggregate.py`` reads: which files make each curve, and which seeds;
        for geometric checkpoints, which steps each curve keeps (``steps``); for ``fit_slope``,
        where the slope fit starts (``slopes``, read by ``pipeline/slopes.py``)."""
        spec = self.library.figure(figure)
        manifest = {
            "metrics": self.metrics(figure),
            "cells": [
                self._cell_entry(cell, self.columns(figure, cell), self._steps(figure, cell)) for cell in self.cells(figure)
            ],
        }
        if spec.fit_slope:
            manifest["slopes"] = {"from": spec.first_checkpoint}
        return manifest

    def _steps(self, figure: str, cell: Cell) -> list[int] | None:
        """The steps a geometric figure plots of this cell (the engine measures more: every
        ``first_checkpoint`` samples); None, keep every measured step, for the others."""
        spec = self.library.figure(figure)
        if spec.checkpoint_spacing != "geometric":
            return None
        return spec.checkpoint_steps(cell.run.total_steps)

    def plot_labels(self, figure: str, study: str | None = None) -> dict:
        """What pipeline/plot.py cannot read off the aggregated table: the x-axis quantity (a
        fixed-target figure's x is samples collected, not environment steps), the result column
        each panel plots (TV or KL per game: mixed panels get their own y-scale and label), and
        the scale's name when it caps anything, so a reduced figure says so on its canvas."""
        spec = self.library.figure(figure)
        reduced = bool(self.library.scale(self.scale).model_dump(exclude_none=True))
        # From the panels' game kinds alone, not their resolved runs: a panel whose behavior
        # settings come from a sweep would otherwise make the plot rule wait on the sweep's
        # checkpoint (the study's panels are its base figure's).
        labels = {
            "xlabel": "Samples collected" if spec.experiment == "fixed_target" else "Environment steps",
            "panel_metrics": {
                f"{p.game}/{p.variant}": self._column(spec.metric, self.library.games[p.game].kind) for p in spec.panels
            },
            "scale": self.scale if reduced else None,
        }
        # rate-plot options only where set, so every other figure's labels (a rule param) stay as they were
        if spec.axes != "linear":
            labels["axes"] = spec.axes
        if spec.fit_slope:
            labels["slopes"] = self.aggregated_path(figure, ".slopes.csv")
        variants = list(self.library.sampler_variants)
        styles = {
            name: list(dataclasses.astuple(variant_style(variants.index(name), label)))
            for name, label in self.sampler_labels(figure).items()
        }
        if styles:  # only where a figure draws variants: every other figure's labels stay as they were
            labels["sampler_styles"] = styles
        return labels

    def sampler_labels(self, figure: str) -> dict[str, str]:
        """The readable names of the named sampler variants a figure lists (tables and legends)."""
        variants = self.library.sampler_variants
        return {name: variants[name].label for name in self.library.figure(figure).samplers if name in variants}

    @staticmethod
    def _column(metric: str, game_kind: str) -> str:
        """The result column a generic metric reads for a game kind (as :meth:`columns`)."""
        base = metric.removesuffix("_on_policy")
        if base not in GENERIC_ERRORS:
            return metric
        error = GAMES[game_kind].sampling_error
        return f"{GENERIC_ERRORS[base]}_{error}" + metric[len(base) :]

    def _cell_entry(self, cell: Cell, columns: dict | None = None, steps: list[int] | None = None) -> dict:
        return {
            "panel": f"{cell.panel.game}/{cell.panel.variant}",
            "panel_title": cell.panel.title,
            "sampler": cell.sampler,
            "seeds": cell.seed_list,
            "files": self.cell_files(cell),
            **({"columns": columns} if columns else {}),
            **({"steps": steps} if steps is not None else {}),
        }

    def figure_path(self, figure: str, ext: str) -> str:
        return f"{self.out}/{self.scale}/figures/{figure}.{ext}"

    def published_png(self, figure: str) -> str:
        """Where a reader finds the figure's PNG: ``paper_figs/`` for the shipped specs at full
        scale (the copy the repository keeps), else the figure in the output tree."""
        if self.out == "results" and self.scale == "full":
            return f"paper_figs/{figure}.png"
        return self.figure_path(figure, "png")

    def aggregated_path(self, figure: str, suffix: str = ".csv") -> str:
        """``suffix`` ".csv" (curves), ".seeds.csv" (per-seed values), ".inputs.json" (record),
        ".slopes.csv" (log-log slopes of a ``fit_slope`` figure)."""
        return f"{self.out}/{self.scale}/aggregated/{figure}{suffix}"

    def study_path(self, study: str, suffix: str) -> str:
        """``suffix`` ".csv", ".seeds.csv", ".inputs.json", ".md", ".pdf" or ".png"."""
        return f"{self.out}/{self.scale}/studies/{study}{suffix}"

    def report_path(self) -> str:
        return f"{self.out}/{self.scale}/REPORT.md"
