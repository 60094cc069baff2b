"""Cells: the (panel, sampler) curves a figure, a study setting or a sweep trains, each a run
spec with the seeds it needs and how they are cut into blocks (calibrations make theirs in
:mod:`maprops.specs.calibrations`).

A cell's run comes from :meth:`maprops.specs.resolution.SpecResolver.run_spec`; the scale caps
its seeds and its seed block (:func:`capped_block`). ``seed_block: auto`` stays ``auto`` here:
the pipeline picks the block, as it has the cost model and knows the cores.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from maprops.config import RunSpec
from maprops.specs.figures import AUTO, FigureSpec, Panel, Scale, SeedRange
from maprops.specs.resolution import SpecResolver


@dataclass(frozen=True)
class Cell:
    """One (panel, sampler) curve of a figure, or of one setting of a study: a run spec and the
    seeds it needs. ``setting`` is the study setting's label ("" in a figure). ``seed_block`` is
    the spec's block already capped by the scale, or ``"auto"``: then the pipeline chooses it
    (it has the cost model and knows the cores) and ``block_cap`` is the scale's cap, if any."""

    panel_index: int
    panel: Panel
    sampler: str
    run: RunSpec
    seeds: int  # how many: seeds first_seed .. first_seed + seeds - 1
    seed_block: int | str
    setting: str = ""
    block_cap: int | None = None
    first_seed: int = 0

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.seeds))


def capped_block(block: int | str, scale: Scale) -> int | str:
    """An explicit block capped by the scale; ``auto`` stays ``auto`` (the pipeline applies the
    cap after choosing)."""
    if block == AUTO:
        return AUTO
    return min(block, scale.seed_block or block)


def figure_cells(
    specs: SpecResolver, figure: FigureSpec, scale: Scale, best_setting=None, games=None, setting=None, seeds=None
) -> list[Cell]:
    """Every (panel, sampler) cell of ``figure`` at ``scale``; only the panels of ``games`` if
    given, with a study ``setting``'s overrides and its ``seeds`` if given. A panel that names a
    sweep needs ``best_setting(sweep, sampler) -> Table 1 setting``; without it those cells are
    left out."""
    chosen = SeedRange.of(seeds if seeds is not None else figure.seeds)
    first, count = chosen.start, min(chosen.count, scale.seeds or chosen.count)
    block = capped_block(figure.seed_block, scale)
    cells = []
    for i, panel in enumerate(figure.panels):
        if games is not None and panel.game not in games:
            continue
        for sampler in specs.panel_samplers(figure, panel):
            behavior = None
            if panel.sweep is not None and specs.sampler_kind(sampler).has_behavior_update:
                if best_setting is None:
                    continue
                behavior = best_setting(panel.sweep, specs.base_sampler(sampler))
            run = specs.run_spec(figure, panel, sampler, scale, behavior, setting)
            cells.append(Cell(i, panel, sampler, run, count, block, block_cap=scale.seed_block, first_seed=first))
    return cells


def study_cells(specs: SpecResolver, name: str, scale: Scale, best_setting=None) -> list[Cell]:
    """Every (setting, panel, sampler) cell of a study, settings in the axes' order. A setting
    equal to the base figure's own values resolves to the base figure's runs."""
    study = specs.study(name)
    figure = specs.figure(study.figure)
    cells = []
    for setting in study.settings():
        label = study.setting_label(setting)
        for cell in figure_cells(specs, figure, scale, best_setting, study.panels, setting, study.seeds):
            cells.append(dataclasses.replace(cell, setting=label))
    return cells


def sweep_cells(specs: SpecResolver, name: str, scale: Scale) -> list[tuple[dict, Cell]]:
    """(setting, cell) for every sampler and Table 1 setting of a sweep; the cell's sampler
    label names the setting, e.g. ``ma_props lr=0.3 m=1 kl=0.03 clip=0.3``."""
    sweep = specs.sweep(name)
    panel = Panel(game=sweep.game, variant=sweep.variant, title=specs.games[sweep.game].title)
    as_figure = FigureSpec(
        figure=name,
        title=sweep.title,
        algorithm=sweep.algorithm,
        metric=sweep.metric,
        ylabel=sweep.metric,
        samplers=sweep.samplers,
        seeds=sweep.seeds,
        seed_block=sweep.seed_block,
        panels=(panel,),
    )
    seeds = min(sweep.seeds, scale.seeds or sweep.seeds)
    block = capped_block(sweep.seed_block, scale)
    out = []
    for sampler in sweep.samplers:
        for setting in specs.sweep_settings():
            run = specs.run_spec(as_figure, panel, sampler, scale, behavior=setting)
            label = f"{sampler} lr={setting['learning_rate']:g} m={setting['batch_size']} kl={setting['target_kl']:g} clip={setting['clip_coef']:g}"
            out.append(({"sampler": sampler, **setting}, Cell(0, panel, label, run, seeds, block, block_cap=scale.seed_block)))
    return out
