"""All specs of one ``specs/`` folder, loaded and cross-checked.

Layout: ``games/*.yaml`` (one game per file, named by its stem), ``hyperparams/{table1,table2,
table3,behavior,sampling_error}.yaml`` and the optional ``hyperparams/named_values.yaml``,
``figures/*.yaml`` (one figure per file), ``studies/*.yaml``, ``sweeps/*.yaml``,
``calibrations/*.yaml`` (maprops/specs/calibrations.py) and ``scales.yaml``. Loading collects
every error of every file before raising, so one ``maprops validate`` shows them all.

A :class:`SpecLibrary` is a :class:`~maprops.specs.resolution.SpecResolver` (how a cell
resolves into a run spec) that loads and checks its folder, and makes the cells of its figures,
studies, sweeps (:mod:`maprops.specs.cells`) and calibrations (:mod:`maprops.specs.calibrations`).
Overrides are checked for every cell at load time, so a bad one is a ``FILE:LINE`` error before
anything runs.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from maprops.config import MLEConfig, history_misfit
from maprops.kinds import SAMPLERS
from maprops.specs.calibrations import CalibrationSpec, calibration_cells, check_calibration
from maprops.specs.cells import Cell, figure_cells, study_cells, sweep_cells
from maprops.specs.claims import ClaimsSpec, load_claims
from maprops.specs.errors import SpecError, SpecErrors
from maprops.specs.figures import FigureSpec, Scale, Scales, StudySpec, SweepSpec
from maprops.specs.games import GameSpec, ParamGameSpec
from maprops.specs.hyperparams import BehaviorDefaults, Table1, Table2, Table3
from maprops.specs.load import field_error, load_file
from maprops.specs.overrides import NamedValue, NamedValues, OverrideError, check_paths
from maprops.specs.resolution import SpecResolver
from maprops.specs.sampler_variants import SAMPLERS_FILE, SamplerVariants

HYPERPARAM_FILES = {
    "table1": Table1,
    "table2": Table2,
    "table3": Table3,
    "behavior": BehaviorDefaults,
    "sampling_error": MLEConfig,
}


NAMED_VALUES_FILE = "named_values"  # optional: hyperparams/named_values.yaml
# Spec names (figures, games, studies, sweeps, calibrations: their file names) become parts of
# output paths, Snakemake wildcards and the commands rules run, so they are plain words.
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
NAME_RULE = "a spec name may only contain letters, digits, '_', '-' and '.', and may not start with '-' or '.'"


class SpecLibrary(SpecResolver):
    """The specs of one folder; ``SpecErrors`` (every error of every file) if any is wrong."""

    def __init__(self, root: str | Path):
        super().__init__(root)
        self.calibrations: dict[str, CalibrationSpec] = {}
        self.claims = ClaimsSpec()
        self._lines: dict[str, tuple[Path, dict]] = {}
        errors: list[SpecError] = []
        self._load_all(errors)
        if not errors:
            self._check_references(errors)
        if not errors:  # claims refer to figures: only once those are sound
            try:
                self.claims = load_claims(self.root, self)
            except SpecErrors as err:
                errors.extend(err.errors)
            except SpecError as err:
                errors.append(err)
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
        """Every ``folder/*.yaml``; the spec's ``key`` field must equal the file's stem, which
        must be a plain name (:data:`NAME`: it becomes part of paths, wildcards and commands).
        A ``.yml`` file is refused with a hint rather than silently ignored."""
        found = {}
        for path in sorted((self.root / folder).glob("*.yml")):
            errors.append(SpecError(str(path), None, "", f"spec files end in .yaml: rename it to {path.stem}.yaml"))
        for path in sorted((self.root / folder).glob("*.yaml")):
            if not NAME.fullmatch(path.stem):
                errors.append(SpecError(str(path), None, "", f"file name {path.stem!r}: {NAME_RULE}"))
                continue
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
        self.studies = self._load_named("studies", StudySpec, "study", errors)
        self.calibrations = self._load_named("calibrations", CalibrationSpec, "calibration", errors)
        for name, model in HYPERPARAM_FILES.items():
            path = self.root / "hyperparams" / f"{name}.yaml"
            self.hyperparams[name] = self._load(path, model, errors)
        named_path = self.root / "hyperparams" / f"{NAMED_VALUES_FILE}.yaml"
        if named_path.is_file():
            named = self._load(named_path, dict[str, dict[str, NamedValue]], errors)
            self.named_values = NamedValues(paths=named or {})
        scales = self._load(self.root / "scales.yaml", Scales, errors)
        self.scales = dict(scales.scales) if scales else {}
        if (self.root / SAMPLERS_FILE).is_file():
            variants = self._load(self.root / SAMPLERS_FILE, SamplerVariants, errors)
            self.sampler_variants = dict(variants.variants) if variants else {}

    # -- cross references ------------------------------------------------------------------
    def _check_references(self, errors: list[SpecError]) -> None:
        rows = self.table3.rows
        for name, game in self.games.items():
            if isinstance(game, ParamGameSpec):
                path, lines = self._lines[str(self.root / "games" / f"{name}.yaml")]
                errors.extend(field_error(path, lines, at, message) for at, message in game.variant_errors())
            if game.hyperparams not in rows:
                path, lines = self._lines[str(self.root / "games" / f"{name}.yaml")]
                errors.append(
                    field_error(
                        path, lines, ("hyperparams",), f"unknown Table 3 row {game.hyperparams!r}; known: {', '.join(rows)}"
                    )
                )
            elif game.budget.total_steps < rows[game.hyperparams].ppo_batch_size:
                path, lines = self._lines[str(self.root / "games" / f"{name}.yaml")]
                batch = rows[game.hyperparams].ppo_batch_size
                errors.append(
                    field_error(
                        path,
                        lines,
                        ("budget", "total_steps"),
                        f"{game.budget.total_steps} is smaller than one PPO batch ({batch}, Table 3 row {game.hyperparams!r})",
                    )
                )
            elif game.budget.eval_every > game.budget.total_steps // rows[game.hyperparams].ppo_batch_size:
                path, lines = self._lines[str(self.root / "games" / f"{name}.yaml")]
                updates = game.budget.total_steps // rows[game.hyperparams].ppo_batch_size
                errors.append(
                    field_error(
                        path,
                        lines,
                        ("budget", "eval_every"),
                        f"{game.budget.eval_every} target updates between evaluations, but the budget makes {updates} "
                        f"(total_steps {game.budget.total_steps} / n = {rows[game.hyperparams].ppo_batch_size}): "
                        "every curve would be a single point",
                    )
                )
        if self.sampler_variants:
            path, lines = self._lines[str(self.root / SAMPLERS_FILE)]
            for name, variant in self.sampler_variants.items():
                # the rows differ only in the learning rate and m, which no rule of a model relates to another setting
                for key, message in variant.errors(self.table_settings(variant.sampler, next(iter(rows)))):
                    errors.append(
                        field_error(path, lines, ("variants", name, "set", key), f"{message} (sampler {variant.sampler!r})")
                    )
        for name, figure in self.figures.items():
            path, lines = self._lines[str(self.root / "figures" / f"{name}.yaml")]
            for i, sampler in enumerate(figure.samplers):
                if sampler not in SAMPLERS and sampler not in self.sampler_variants:
                    known = [*SAMPLERS, *self.sampler_variants]
                    close = difflib.get_close_matches(sampler, known, n=1, cutoff=0.6)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    where = f"; or name a variant in {SAMPLERS_FILE}"
                    errors.append(
                        field_error(
                            path, lines, ("samplers", i), f"unknown sampler {sampler!r}{hint}; known: {', '.join(known)}{where}"
                        )
                    )
            for i, panel in enumerate(figure.panels):
                self._check_game(panel, path, lines, ("panels", i), errors)
                if panel.sweep is not None:
                    self._check_sweep_reference(figure, panel, path, lines, ("panels", i, "sweep"), errors)
            # games whose Table 3 row is known (the others are reported above)
            known_games = [p.game for p in figure.panels if p.game in self.games and self.games[p.game].hyperparams in rows]
            for i, sampler in enumerate(figure.samplers):
                if sampler not in SAMPLERS and sampler not in self.sampler_variants:
                    continue  # reported above
                reasons = [self.misfit(sampler, game) for game in known_games]
                if reasons and all(reasons):
                    errors.append(field_error(path, lines, ("samplers", i), f"fits no panel of this figure: {reasons[0]}"))
                if not known_games:
                    continue
                reason = history_misfit(self.sampler_config(sampler, known_games[0]), figure.experiment == "fixed_target")
                if reason:
                    errors.append(field_error(path, lines, ("samplers", i), f"{sampler}: {reason}"))
        for name, sweep in self.sweeps.items():
            path, lines = self._lines[str(self.root / "sweeps" / f"{name}.yaml")]
            self._check_game(sweep, path, lines, (), errors)
        if errors:  # overrides and studies resolve runs: only once every reference is sound
            return
        for figure in self.figures.values():
            self._check_overrides(figure, errors)
        for study in self.studies.values():
            self._check_study(study, errors)
        for name, calibration in self.calibrations.items():
            errors.extend(check_calibration(self, calibration, *self._spec_lines("calibrations", name)))
        self._check_named_values(errors)
        self._check_unique_names(errors)

    def _spec_lines(self, folder: str, name: str) -> tuple[Path, dict]:
        return self._lines[str(self.root / folder / f"{name}.yaml")]

    def _check_overrides(self, figure: FigureSpec, errors: list[SpecError]) -> None:
        """Every figure and panel override names a real field of its runs and gives it a valid
        value, for every cell it concerns (at full scale; scales only cap budgets)."""
        path, lines = self._spec_lines("figures", figure.figure)
        runs = {
            i: [self.base_run(figure, panel, s) for s in self.panel_samplers(figure, panel)]
            for i, panel in enumerate(figure.panels)
        }
        try:
            check_paths(figure.overrides, [r for rs in runs.values() for r in rs])
        except OverrideError as err:
            errors.append(field_error(path, lines, ("overrides", err.path), str(err)))
            return
        for i, panel in enumerate(figure.panels):
            try:
                check_paths(panel.overrides, runs[i])
                for sampler in self.panel_samplers(figure, panel):
                    self.run_spec(figure, panel, sampler, Scale())
            except OverrideError as err:
                # a check no single override owns (the budget) goes to the panel's overrides if any
                in_panel = err.path in panel.overrides or (err.path is None and panel.overrides)
                at = ("panels", i, "overrides") if in_panel else ("overrides",)
                errors.append(field_error(path, lines, (*at, err.path) if err.path else at, str(err)))

    def _check_study(self, study: StudySpec, errors: list[SpecError]) -> None:
        path, lines = self._spec_lines("studies", study.study)
        figure = self.figures.get(study.figure)
        if figure is None:
            errors.append(
                field_error(path, lines, ("figure",), f"unknown figure {study.figure!r}; known: {', '.join(self.figures)}")
            )
            return
        games = [p.game for p in figure.panels]
        for i, game in enumerate(study.panels or ()):
            if game not in games:
                errors.append(
                    field_error(
                        path,
                        lines,
                        ("panels", i),
                        f"figure {figure.figure!r} has no panel of game {game!r}; its games: {', '.join(games)}",
                    )
                )
        if errors:
            return
        panels = [p for p in figure.panels if study.panels is None or p.game in study.panels]
        runs = [self.base_run(figure, panel, s) for panel in panels for s in self.panel_samplers(figure, panel)]
        try:
            check_paths(study.axes, runs)
        except OverrideError as err:
            errors.append(field_error(path, lines, ("axes", err.path), str(err)))
            return
        for setting in study.settings():
            try:
                for panel in panels:
                    for sampler in self.panel_samplers(figure, panel):
                        self.run_spec(figure, panel, sampler, Scale(), setting=setting)
            except OverrideError as err:
                at = (
                    ("axes", err.path, list(study.axes[err.path]).index(setting[err.path]))
                    if err.path in study.axes
                    else ("axes",)
                )
                errors.append(field_error(path, lines, at, f"{err} (setting {study.setting_label(setting)})"))
                return

    def _check_named_values(self, errors: list[SpecError]) -> None:
        """A named value must name a real run-spec field."""
        file = self.root / "hyperparams" / f"{NAMED_VALUES_FILE}.yaml"
        runs = [self.base_run(f, p, s) for f in self.figures.values() for p in f.panels for s in f.samplers]
        for field in self.named_values.paths:
            try:
                check_paths({field: None}, runs)
            except OverrideError as err:
                errors.append(field_error(file, self._lines[str(file)][1], (field,), str(err)))

    def _check_unique_names(self, errors: list[SpecError]) -> None:
        """Figures, studies and sweeps name their outputs: one name, one thing."""
        seen: dict[str, str] = {}
        for folder, kind, names in (
            ("figures", "figure", self.figures),
            ("studies", "study", self.studies),
            ("sweeps", "sweep", self.sweeps),
            ("calibrations", "calibration", self.calibrations),
        ):
            for name in names:
                if name in seen:
                    path, lines = self._spec_lines(folder, name)
                    errors.append(
                        field_error(
                            path,
                            lines,
                            (),
                            f"the name {name!r} is also a {seen[name]}; names must be unique across figures, studies, sweeps and calibrations",
                        )
                    )
                seen.setdefault(name, kind)

    def _check_sweep_reference(self, figure, panel, path, lines, at: tuple, errors: list[SpecError]) -> None:
        """A panel may take its behavior settings from a sweep that trained exactly its runs."""
        sweep = self.sweeps.get(panel.sweep)
        if sweep is None:
            errors.append(
                field_error(path, lines, at, f"unknown sweep {panel.sweep!r}; known: {', '.join(self.sweeps) or 'none'}")
            )
        elif (sweep.game, sweep.variant, sweep.algorithm) != (panel.game, panel.variant, figure.algorithm):
            errors.append(
                field_error(
                    path,
                    lines,
                    at,
                    f"sweep {panel.sweep!r} trains {sweep.game}/{sweep.variant} with {sweep.algorithm}; this panel needs {panel.game}/{panel.variant} with {figure.algorithm}",
                )
            )
        elif figure.experiment != "training" or not {
            self.base_sampler(s)
            for s in figure.samplers
            if (s in SAMPLERS or s in self.sampler_variants) and self.sampler_kind(s).has_behavior_update
        } <= set(sweep.samplers):
            errors.append(
                field_error(
                    path,
                    lines,
                    at,
                    f"sweep {panel.sweep!r} covers samplers {', '.join(sweep.samplers)} of training runs; the figure needs {', '.join(figure.samplers)} ({figure.experiment})",
                )
            )

    def _check_game(self, ref, path, lines, at: tuple, errors: list[SpecError]) -> None:
        """``ref`` (a panel or a sweep) must name a known game and one of its variants."""
        game = self.games.get(ref.game)
        if game is None:
            errors.append(field_error(path, lines, (*at, "game"), f"unknown game {ref.game!r}; known: {', '.join(self.games)}"))
        elif ref.variant not in game.variant_names:
            errors.append(
                field_error(
                    path,
                    lines,
                    (*at, "variant"),
                    f"game {ref.game!r} has no variant {ref.variant!r}; known: {', '.join(game.variant_names)}",
                )
            )

    # -- what the library holds beyond the resolver, and the cells it resolves --------------
    def calibration(self, name: str) -> CalibrationSpec:
        if name not in self.calibrations:
            raise KeyError(f"unknown calibration {name!r}; known: {', '.join(self.calibrations)}")
        return self.calibrations[name]

    def cells(self, figure_name: str, scale_name: str, best_setting=None) -> list[Cell]:
        """Every (panel, sampler) cell of a figure. A panel that names a sweep needs
        ``best_setting(sweep, sampler) -> Table 1 setting``, the sweep's result (the pipeline
        reads it from the sweep's output); without it those cells are left out. On-policy cells
        never need it."""
        return figure_cells(self, self.figure(figure_name), self.scale(scale_name), best_setting)

    def study_cells(self, name: str, scale_name: str, best_setting=None) -> list[Cell]:
        """Every (setting, panel, sampler) cell of a study (:func:`maprops.specs.cells.study_cells`)."""
        return study_cells(self, name, self.scale(scale_name), best_setting)

    def sweep_cells(self, name: str, scale_name: str) -> list[tuple[dict, Cell]]:
        """(setting, cell) for every sampler and Table 1 setting of a sweep (:func:`maprops.specs.cells.sweep_cells`)."""
        return sweep_cells(self, name, self.scale(scale_name))

    def calibration_cells(self, name: str, scale_name: str) -> list[Cell]:
        """One on-policy cell per candidate of a calibration (maprops/specs/calibrations.py)."""
        return calibration_cells(self, self.calibration(name), self.scale(scale_name))
