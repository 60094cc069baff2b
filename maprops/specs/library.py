"""All specs of one ``specs/`` folder, cross-checked, and resolved into run specs.

Layout: ``games/*.yaml`` (one game per file, named by its stem), ``hyperparams/{table1,table2,
table3,behavior}.yaml``, ``figures/*.yaml`` (one figure per file) and ``scales.yaml``. Loading
collects every error of every file before raising, so one ``maprops validate`` shows them all.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from maprops.config import MLEConfig, PPOConfig, RunSpec, SamplerConfig
from maprops.specs.errors import SpecError, SpecErrors
from maprops.specs.figures import FigureSpec, Panel, Scale, Scales, SweepSpec
from maprops.specs.games import GameSpec, MatrixGameSpec, ParamGameSpec
from maprops.specs.hyperparams import BehaviorDefaults, Table1, Table2, Table3
from maprops.specs.load import field_error, load_file

HYPERPARAM_FILES = {
    "table1": Table1,
    "table2": Table2,
    "table3": Table3,
    "behavior": BehaviorDefaults,
    "sampling_error": MLEConfig,
}


@dataclass(frozen=True)
class Cell:
    """One (panel, sampler) curve of a figure: a run spec and the seeds it needs."""

    panel_index: int
    panel: Panel
    sampler: str
    run: RunSpec
    seeds: int
    seed_block: int


class SpecLibrary:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.games: dict[str, MatrixGameSpec | ParamGameSpec] = {}
        self.figures: dict[str, FigureSpec] = {}
        self.sweeps: dict[str, SweepSpec] = {}
        self.hyperparams: dict[str, object] = {}
        self.scales: dict[str, Scale] = {}
        self._lines: dict[str, tuple[Path, dict]] = {}
        errors: list[SpecError] = []
        self._load_all(errors)
        if not errors:
            self._check_references(errors)
        if errors:
            raise SpecErrors(errors)

    # -- loading ---------------------------------------------------------------------------
    def _load(self, path: Path, model, errors: list[SpecError]):
        try:
            obj, lines = load_file(path, model)
        except SpecErrors as err:
            errors.extend(err.errors)
            return None
        except SpecError as err:
            errors.append(err)
            return None
        self._lines[str(path)] = (path, lines)
        return obj

    def _load_named(self, folder: str, model, key: str, errors: list[SpecError]) -> dict:
        """Every ``folder/*.yaml``; the spec's ``key`` field must equal the file's stem."""
        found = {}
        for path in sorted((self.root / folder).glob("*.yaml")):
            obj = self._load(path, model, errors)
            if obj is None:
                continue
            if getattr(obj, key) != path.stem:
                errors.append(field_error(path, self._lines[str(path)][1], (key,), f"must equal the file name {path.stem!r}"))
                continue
            found[path.stem] = obj
        return found

    def _load_all(self, errors: list[SpecError]) -> None:
        if not self.root.is_dir():
            errors.append(SpecError(str(self.root), None, "", "spec folder not found"))
            return
        self.games = self._load_named("games", GameSpec, "name", errors)
        self.figures = self._load_named("figures", FigureSpec, "figure", errors)
        self.sweeps = self._load_named("sweeps", SweepSpec, "sweep", errors)
        for name, model in HYPERPARAM_FILES.items():
            path = self.root / "hyperparams" / f"{name}.yaml"
            self.hyperparams[name] = self._load(path, model, errors)
        scales = self._load(self.root / "scales.yaml", Scales, errors)
        self.scales = dict(scales.scales) if scales else {}

    # -- cross references ------------------------------------------------------------------
    def _check_references(self, errors: list[SpecError]) -> None:
        rows = self.table3.rows
        for name, game in self.games.items():
            if isinstance(game, ParamGameSpec):
                path, lines = self._lines[str(self.root / "games" / f"{name}.yaml")]
                errors.extend(field_error(path, lines, at, message) for at, message in game.variant_errors())
            if game.hyperparams not in rows:
                path, lines = self._lines[str(self.root / "games" / f"{name}.yaml")]
                errors.append(field_error(path, lines, ("hyperparams",), f"unknown Table 3 row {game.hyperparams!r}; known: {', '.join(rows)}"))
            elif game.budget.total_steps < rows[game.hyperparams].ppo_batch_size:
                path, lines = self._lines[str(self.root / "games" / f"{name}.yaml")]
                batch = rows[game.hyperparams].ppo_batch_size
                errors.append(field_error(path, lines, ("budget", "total_steps"), f"{game.budget.total_steps} is smaller than one PPO batch ({batch}, Table 3 row {game.hyperparams!r})"))
        for name, figure in self.figures.items():
            path, lines = self._lines[str(self.root / "figures" / f"{name}.yaml")]
            for i, panel in enumerate(figure.panels):
                self._check_game(panel, path, lines, ("panels", i), errors)
                if panel.sweep is not None:
                    self._check_sweep_reference(figure, panel, path, lines, ("panels", i, "sweep"), errors)
        for name, sweep in self.sweeps.items():
            path, lines = self._lines[str(self.root / "sweeps" / f"{name}.yaml")]
            self._check_game(sweep, path, lines, (), errors)

    def _check_sweep_reference(self, figure, panel, path, lines, at: tuple, errors: list[SpecError]) -> None:
        """A panel may take its behavior settings from a sweep that trained exactly its runs."""
        sweep = self.sweeps.get(panel.sweep)
        if sweep is None:
            errors.append(field_error(path, lines, at, f"unknown sweep {panel.sweep!r}; known: {', '.join(self.sweeps) or 'none'}"))
        elif (sweep.game, sweep.variant, sweep.algorithm) != (panel.game, panel.variant, figure.algorithm):
            errors.append(field_error(path, lines, at, f"sweep {panel.sweep!r} trains {sweep.game}/{sweep.variant} with {sweep.algorithm}; this panel needs {panel.game}/{panel.variant} with {figure.algorithm}"))
        elif figure.experiment != "training" or not set(figure.samplers) - {"on_policy"} <= set(sweep.samplers):
            errors.append(field_error(path, lines, at, f"sweep {panel.sweep!r} covers samplers {', '.join(sweep.samplers)} of training runs; the figure needs {', '.join(figure.samplers)} ({figure.experiment})"))

    def _check_game(self, ref, path, lines, at: tuple, errors: list[SpecError]) -> None:
        """``ref`` (a panel or a sweep) must name a known game and one of its variants."""
        game = self.games.get(ref.game)
        if game is None:
            errors.append(field_error(path, lines, (*at, "game"), f"unknown game {ref.game!r}; known: {', '.join(self.games)}"))
        elif ref.variant not in game.variant_names:
            errors.append(field_error(path, lines, (*at, "variant"), f"game {ref.game!r} has no variant {ref.variant!r}; known: {', '.join(game.variant_names)}"))

    # -- typed access ------------------------------------------------------------------------
    @property
    def table2(self) -> Table2:
        return self.hyperparams["table2"]

    @property
    def table3(self) -> Table3:
        return self.hyperparams["table3"]

    @property
    def behavior(self) -> BehaviorDefaults:
        return self.hyperparams["behavior"]

    @property
    def sampling_error_fit(self) -> MLEConfig:
        return self.hyperparams["sampling_error"]

    @property
    def table1(self) -> Table1:
        return self.hyperparams["table1"]

    def scale(self, name: str) -> Scale:
        if name not in self.scales:
            raise KeyError(f"unknown scale {name!r}; known: {', '.join(self.scales)}")
        return self.scales[name]

    def figure(self, name: str) -> FigureSpec:
        if name not in self.figures:
            raise KeyError(f"unknown figure {name!r}; known: {', '.join(self.figures)}")
        return self.figures[name]

    # -- resolution ----------------------------------------------------------------------------
    def run_spec(self, figure: FigureSpec, panel: Panel, sampler: str, scale: Scale, behavior: dict | None = None) -> RunSpec:
        """The fully resolved training run for one figure cell at one scale; ``behavior``
        overrides the sampler's Table 1 settings (a sweep's choice)."""
        game = self.games[panel.game]
        row = self.table3.rows[game.hyperparams]
        table2 = self.table2.model_dump(exclude={"eval_episodes"})
        ppo = PPOConfig(batch_size=row.ppo_batch_size, learning_rate=row.ppo_learning_rate, **table2)
        if sampler == "on_policy":
            sampler_config = SamplerConfig(kind="on_policy")
        else:
            typed = {"learning_rate": row.behavior_learning_rate, "batch_size": row.behavior_batch_size}
            sampler_config = SamplerConfig(kind=sampler, **{**self.behavior.model_dump(), **typed, **(behavior or {})})
        if figure.experiment == "fixed_target":
            total_steps = min(figure.samples, scale.max_samples or figure.samples)
            eval_every = max(1, total_steps // figure.checkpoints)
        else:
            total_steps = game.budget.total_steps
            if scale.max_iterations is not None:
                total_steps = min(total_steps, scale.max_iterations * ppo.batch_size)
            eval_every = game.budget.eval_every
        game_config = game.to_config(panel.variant)
        return RunSpec(
            game=game_config,
            algorithm=figure.algorithm,
            sampler=sampler_config,
            ppo=ppo,
            total_steps=total_steps,
            eval_every=eval_every,
            eval_episodes=scale.eval_episodes or self.table2.eval_episodes,
            fixed_target=True if figure.experiment == "fixed_target" else None,
            sampling_error_fit=self.sampling_error_fit if game_config.sampling_error == "kl" else None,
        )

    def sweep(self, name: str) -> SweepSpec:
        if name not in self.sweeps:
            raise KeyError(f"unknown sweep {name!r}; known: {', '.join(self.sweeps)}")
        return self.sweeps[name]

    def sweep_settings(self) -> list[dict]:
        """Every combination of Table 1's behavior settings, in the table's order."""
        axes = self.table1.model_dump()
        return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]

    def sweep_cells(self, name: str, scale_name: str) -> list[tuple[dict, Cell]]:
        """(setting, cell) for every sampler and Table 1 setting of a sweep; the cell's sampler
        label names the setting, e.g. ``ma_props lr=0.3 m=1 kl=0.03 clip=0.3``."""
        sweep, scale = self.sweep(name), self.scale(scale_name)
        panel = Panel(game=sweep.game, variant=sweep.variant, title=self.games[sweep.game].title)
        as_figure = FigureSpec(
            figure=name, title=sweep.title, algorithm=sweep.algorithm, metric=sweep.metric, ylabel=sweep.metric,
            samplers=sweep.samplers, seeds=sweep.seeds, seed_block=sweep.seed_block, panels=(panel,),
        )
        seeds = min(sweep.seeds, scale.seeds or sweep.seeds)
        block = min(sweep.seed_block, scale.seed_block or sweep.seed_block)
        out = []
        for sampler in sweep.samplers:
            for setting in self.sweep_settings():
                run = self.run_spec(as_figure, panel, sampler, scale, behavior=setting)
                label = f"{sampler} lr={setting['learning_rate']:g} m={setting['batch_size']} kl={setting['target_kl']:g} clip={setting['clip_coef']:g}"
                out.append(({"sampler": sampler, **setting}, Cell(0, panel, label, run, seeds, block)))
        return out

    def cells(self, figure_name: str, scale_name: str, best_setting=None) -> list[Cell]:
        """Every (panel, sampler) cell of a figure. A panel that names a sweep needs
        ``best_setting(sweep, sampler) -> Table 1 setting``, the sweep's result (the pipeline
        reads it from the sweep's output); without it those cells are left out. On-policy cells
        never need it."""
        figure, scale = self.figure(figure_name), self.scale(scale_name)
        seeds = min(figure.seeds, scale.seeds or figure.seeds)
        block = min(figure.seed_block, scale.seed_block or figure.seed_block)
        cells = []
        for i, panel in enumerate(figure.panels):
            for sampler in figure.samplers:
                behavior = None
                if panel.sweep is not None and sampler != "on_policy":
                    if best_setting is None:
                        continue
                    behavior = best_setting(panel.sweep, sampler)
                cells.append(Cell(i, panel, sampler, self.run_spec(figure, panel, sampler, scale, behavior), seeds, block))
        return cells
