"""The specs of one folder, once loaded, and how a figure's cell resolves into a run spec.

:class:`SpecResolver` holds what :class:`maprops.specs.library.SpecLibrary` loads and checks --
games, figures, studies, sweeps, the hyperparameter tables, scales, named values and sampler
variants -- and answers what everything built on specs asks: which samplers can play a panel,
what a sampler's settings are for a game, and the run spec of a cell
(:meth:`SpecResolver.run_spec`): the game spec and the paper's tables give a run as plain data;
the figure's, then the panel's, then a study setting's overrides are applied; then the scale's
caps; then the whole run is validated strictly. A figure's, study's, sweep's and calibration's
cells are resolved through it (:mod:`maprops.specs.cells`, :mod:`maprops.specs.calibrations`).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from maprops.config import MLEConfig, PPOConfig, RunSpec
from maprops.kinds import SAMPLERS, sampler_misfit
from maprops.specs.figures import FigureSpec, Panel, Scale, StudySpec, SweepSpec
from maprops.specs.games import MatrixGameSpec, ParamGameSpec
from maprops.specs.hyperparams import BehaviorDefaults, Table1, Table2, Table3
from maprops.specs.overrides import NamedValues, apply_overrides, validate_run
from maprops.specs.sampler_variants import SamplerVariant


class SpecResolver:
    """The loaded specs of one folder (:class:`~maprops.specs.library.SpecLibrary` fills them
    and checks them) and the resolution of their cells into run specs."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.games: dict[str, MatrixGameSpec | ParamGameSpec] = {}
        self.figures: dict[str, FigureSpec] = {}
        self.sweeps: dict[str, SweepSpec] = {}
        self.studies: dict[str, StudySpec] = {}
        self.named_values = NamedValues()
        self.hyperparams: dict[str, object] = {}
        self.scales: dict[str, Scale] = {}
        self.sampler_variants: dict[str, SamplerVariant] = {}

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

    def study(self, name: str) -> StudySpec:
        if name not in self.studies:
            raise KeyError(f"unknown study {name!r}; known: {', '.join(self.studies)}")
        return self.studies[name]

    # -- resolution ----------------------------------------------------------------------------
    def base_run(self, figure: FigureSpec, panel: Panel, sampler: str, behavior: dict | None = None) -> dict:
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
        run = apply_overrides(self.base_run(figure, panel, sampler, behavior), overrides, self.named_values)
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
