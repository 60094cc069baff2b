"""All specs of one ``specs/`` folder, cross-checked, and resolved into run specs.

Layout: ``games/*.yaml`` (one game per file, named by its stem), ``hyperparams/{table1,table2,
table3,behavior,sampling_error}.yaml`` and the optional ``hyperparams/named_values.yaml``,
``figures/*.yaml`` (one figure per file), ``studies/*.yaml``, ``sweeps/*.yaml``,
``calibrations/*.yaml`` (maprops/specs/calibrations.py) and ``scales.yaml``. Loading collects
every error of every file before raising, so one ``maprops validate`` shows them all.

Resolution (:meth:`SpecLibrary.run_spec`): the game spec and the paper's tables give a run as
plain data; the figure's, then the panel's, then a study setting's overrides are applied; then
the scale's caps; then the whole run is validated strictly. Overrides are checked for every cell
at load time, so a bad one is a ``FILE:LINE`` error before anything runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maprops.config import MLEConfig, PPOConfig, RunSpec, history_misfit
from maprops.kinds import SAMPLERS, sampler_misfit
from maprops.specs.calibrations import CalibrationSpec, calibration_cells, check_calibration
from maprops.specs.claims import ClaimsSpec, load_claims
from maprops.specs.errors import SpecError, SpecErrors
from maprops.specs.figures import AUTO, FigureSpec, Panel, Scale, Scales, SeedRange, StudySpec, SweepSpec
from maprops.specs.games import GameSpec, MatrixGameSpec, ParamGameSpec
from maprops.specs.hyperparams import BehaviorDefaults, Table1, Table2, Table3
from maprops.specs.load import field_error, load_file
from maprops.specs.overrides import NamedValue, NamedValues, OverrideError, apply_overrides, check_paths, validate_run
from maprops.specs.sampler_variants import SAMPLERS_FILE, SamplerVariant, SamplerVariants

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


class SpecLibrary:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.games: dict[str, MatrixGameSpec | ParamGameSpec] = {}
        self.figures: dict[str, FigureSpec] = {}
        self.sweeps: dict[str, SweepSpec] = {}
        self.studies: dict[str, StudySpec] = {}
        self.calibrations: dict[str, CalibrationSpec] = {}
        self.named_values = NamedValues()
        self.hyperparams: dict[str, object] = {}
        self.scales: dict[str, Scale] = {}
        self.sampler_variants: dict[str, SamplerVariant] = {}
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
            i: [self._base_run(figure, panel, s) for s in self.panel_samplers(figure, panel)]
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
        runs = [self._base_run(figure, panel, s) for panel in panels for s in self.panel_samplers(figure, panel)]
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
        runs = [self._base_run(f, p, s) for f in self.figures.values() for p in f.panels for s in f.samplers]
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

    def table_settings(self, sampler: str, row: str) -> dict[str, Any]:
        """The settings the tables give a sampler (registered, or a variant's base) for the games
        of Table 3 row ``row``: the behavior table with the row's learning rate and m, for a
        sampler with a behavior update; none for the others."""
        if not self.sampler_kind(sampler).has_behavior_update:
            return {}
        typed = self.table3.rows[row]
        learning = {"learning_rate": typed.behavior_learning_rate, "batch_size": typed.behavior_batch_size}
        return {**self.behavior.model_dump(mode="json"), **learning}

    def sampler_config(self, sampler: str, game: str, behavior: dict | None = None):
        """A figure's sampler (a registered one or a named variant) as it plays ``game``, before
        any override: the tables' settings (:meth:`table_settings` for the game's Table 3 row),
        ``behavior`` in place of Table 1's (a sweep's choice), the variant's settings, and the
        model's defaults for the rest (the beyond-the-paper options, off)."""
        settings = self.table_settings(sampler, self.games[game].hyperparams)
        if behavior and self.sampler_kind(sampler).has_behavior_update:
            settings |= behavior
        if sampler in self.sampler_variants:
            settings |= self.sampler_variants[sampler].set
        return self.sampler_kind(sampler).config(**settings)

    def misfit(self, sampler: str, game: str) -> str | None:
        """Why a figure's sampler (a registered one or a named variant) cannot play a game, or None."""
        return sampler_misfit(self.sampler_config(sampler, game), self.games[game])

    def panel_samplers(self, figure: FigureSpec, panel: Panel) -> list[str]:
        """The figure's samplers that can play this panel's game: a sampler that needs enumerable
        joint states (the ros oracle, a tabular delta_phi) simply has no curve on a BoulderPush or
        LBF panel, so one figure can show it where it exists."""
        return [s for s in figure.samplers if self.misfit(s, panel.game) is None]

    def base_sampler(self, name: str) -> str:
        """The registered sampler a figure's sampler name trains: itself, or a variant's base."""
        return self.sampler_variants[name].sampler if name in self.sampler_variants else name

    def sampler_kind(self, name: str):
        return SAMPLERS[self.base_sampler(name)]

    def figure(self, name: str) -> FigureSpec:
        if name not in self.figures:
            raise KeyError(f"unknown figure {name!r}; known: {', '.join(self.figures)}")
        return self.figures[name]

    # -- resolution ----------------------------------------------------------------------------
    def _base_run(self, figure: FigureSpec, panel: Panel, sampler: str, behavior: dict | None = None) -> dict:
        """One cell's run as plain data, from the game spec and the paper's tables alone (no
        overrides, no scale); ``behavior`` replaces Table 1 settings (a sweep's choice)."""
        game = self.games[panel.game]
        row = self.table3.rows[game.hyperparams]
        table2 = self.table2.model_dump(exclude={"eval_episodes"})
        ppo = PPOConfig(batch_size=row.ppo_batch_size, learning_rate=row.ppo_learning_rate, **table2)
        # every field of the sampler's model, so an override can name any of them (the ones the
        # tables do not set keep the model's default: the beyond-the-paper variants, off)
        sampler_settings = self.sampler_config(sampler, panel.game, behavior).model_dump(mode="json")
        game_config = game.to_config(panel.variant)
        fixed = figure.experiment == "fixed_target"
        return {
            "game": game_config.model_dump(mode="json"),
            "algorithm": figure.algorithm,
            "sampler": sampler_settings,
            "ppo": ppo.model_dump(mode="json"),
            "total_steps": figure.samples if fixed else game.budget.total_steps,
            "eval_every": 1 if fixed else game.budget.eval_every,  # fixed target: set by _cap
            "eval_episodes": self.table2.eval_episodes,
            "fixed_target": True if fixed else None,
            "sampling_error_fit": self.sampling_error_fit.model_dump(mode="json") if game_config.sampling_error == "kl" else None,
        }

    @staticmethod
    def _cap(run: dict, figure: FigureSpec, scale: Scale, overridden: set[str]) -> None:
        """Apply the scale's caps in place, after the overrides (a smoke build of an overridden
        run is still a smoke build)."""
        total = run["total_steps"]
        if isinstance(total, int):  # a mistyped override is reported by the validation
            if figure.experiment == "fixed_target":
                run["total_steps"] = total = min(total, scale.max_samples or total)
                if "eval_every" not in overridden:
                    run["eval_every"] = figure.eval_every(total)
            else:
                batch = run["ppo"]["batch_size"]
                if scale.max_batch_size is not None and isinstance(batch, int):
                    run["ppo"]["batch_size"] = batch = min(batch, scale.max_batch_size)
                if scale.max_iterations is not None and isinstance(batch, int):
                    run["total_steps"] = min(total, scale.max_iterations * batch)
        if scale.eval_episodes is not None and isinstance(run["eval_episodes"], int):
            run["eval_episodes"] = min(run["eval_episodes"], scale.eval_episodes)

    def run_spec(
        self,
        figure: FigureSpec,
        panel: Panel,
        sampler: str,
        scale: Scale,
        behavior: dict | None = None,
        setting: dict | None = None,
    ) -> RunSpec:
        """The fully resolved training run for one figure cell at one scale; ``behavior``
        overrides the sampler's Table 1 settings (a sweep's choice), ``setting`` is a study
        setting's overrides. Raises :class:`OverrideError` for a bad override."""
        overrides = {**figure.overrides, **panel.overrides, **(setting or {})}
        run = apply_overrides(self._base_run(figure, panel, sampler, behavior), overrides, self.named_values)
        self._cap(run, figure, scale, set(overrides))
        return validate_run(run, overrides, self.named_values)

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
        block = _capped_block(sweep.seed_block, scale)
        out = []
        for sampler in sweep.samplers:
            for setting in self.sweep_settings():
                run = self.run_spec(as_figure, panel, sampler, scale, behavior=setting)
                label = f"{sampler} lr={setting['learning_rate']:g} m={setting['batch_size']} kl={setting['target_kl']:g} clip={setting['clip_coef']:g}"
                out.append(
                    ({"sampler": sampler, **setting}, Cell(0, panel, label, run, seeds, block, block_cap=scale.seed_block))
                )
        return out

    def cells(self, figure_name: str, scale_name: str, best_setting=None) -> list[Cell]:
        """Every (panel, sampler) cell of a figure. A panel that names a sweep needs
        ``best_setting(sweep, sampler) -> Table 1 setting``, the sweep's result (the pipeline
        reads it from the sweep's output); without it those cells are left out. On-policy cells
        never need it."""
        return self._cells(self.figure(figure_name), self.scale(scale_name), best_setting)

    def study(self, name: str) -> StudySpec:
        if name not in self.studies:
            raise KeyError(f"unknown study {name!r}; known: {', '.join(self.studies)}")
        return self.studies[name]

    def calibration(self, name: str) -> CalibrationSpec:
        if name not in self.calibrations:
            raise KeyError(f"unknown calibration {name!r}; known: {', '.join(self.calibrations)}")
        return self.calibrations[name]

    def calibration_cells(self, name: str, scale_name: str) -> list[Cell]:
        """One on-policy cell per candidate of a calibration (maprops/specs/calibrations.py)."""
        return calibration_cells(self, name, scale_name)

    def study_cells(self, name: str, scale_name: str, best_setting=None) -> list[Cell]:
        """Every (setting, panel, sampler) cell of a study, settings in the axes' order. A
        setting equal to the base figure's own values resolves to the base figure's runs."""
        study = self.study(name)
        figure, scale = self.figure(study.figure), self.scale(scale_name)
        cells = []
        for setting in study.settings():
            label = study.setting_label(setting)
            for cell in self._cells(figure, scale, best_setting, study.panels, setting, study.seeds):
                cells.append(dataclasses.replace(cell, setting=label))
        return cells

    def _cells(self, figure: FigureSpec, scale: Scale, best_setting=None, games=None, setting=None, seeds=None) -> list[Cell]:
        chosen = SeedRange.of(seeds if seeds is not None else figure.seeds)
        first, count = chosen.start, min(chosen.count, scale.seeds or chosen.count)
        block = _capped_block(figure.seed_block, scale)
        cells = []
        for i, panel in enumerate(figure.panels):
            if games is not None and panel.game not in games:
                continue
            for sampler in self.panel_samplers(figure, panel):
                behavior = None
                if panel.sweep is not None and self.sampler_kind(sampler).has_behavior_update:
                    if best_setting is None:
                        continue
                    behavior = best_setting(panel.sweep, self.base_sampler(sampler))
                run = self.run_spec(figure, panel, sampler, scale, behavior, setting)
                cells.append(Cell(i, panel, sampler, run, count, block, block_cap=scale.seed_block, first_seed=first))
        return cells


def _capped_block(block: int | str, scale: Scale) -> int | str:
    """An explicit block capped by the scale; ``auto`` stays ``auto`` (the pipeline applies the
    cap after choosing)."""
    if block == AUTO:
        return AUTO
    return min(block, scale.seed_block or block)
