"""Calibration specs (``specs/calibrations/*.yaml``): choosing what the paper leaves open in a game
by a declared protocol that reads on-policy results only.

A calibration names a game and the reward variant a figure plays, an ordered list of
``candidates`` (each a setting of game fields the paper does not give: grid size, time limit,
start cells, sight) and a ``criterion`` on the on-policy final value of a metric. Each candidate
becomes one on-policy cell: the game with the candidate's fields applied as ``game.<field>``
overrides, so its run is named by the hash of its resolved spec like every other run (a candidate
equal to the game as written *is* the figure's on-policy run). The first candidate, in the order
written, that meets the criterion is chosen (``pipeline/calibration.py``).

Which fields are open is declared by each game kind's registry entry (``open_fields``), with the
place in the paper that leaves each open: a spec cannot widen the list, so a calibration can never
tune a reward, a penalty, a budget or a hyperparameter. No sampler but on-policy sampling is ever planned for a calibration
(:func:`only_on_policy`), so its choice cannot depend on PROPS or MA-PROPS results.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from maprops.config import ALGORITHMS
from maprops.kinds import GAMES
from maprops.spec_types import Float, Frozen, Int
from maprops.specs.cells import Cell, capped_block
from maprops.specs.errors import SpecError
from maprops.specs.figures import AUTO, FigureSpec, Panel, Scale, SeedBlock
from maprops.specs.load import field_error
from maprops.specs.overrides import OverrideError
from maprops.specs.resolution import SpecResolver

CALIBRATION_SAMPLER = "on_policy"
"""The only sampler a calibration trains: its choice must not see PROPS or MA-PROPS results."""

MIN_SEEDS = 20


class Criterion(Frozen):
    """What a candidate must show, read from the on-policy runs only. ``final`` is each seed's last
    evaluation; ``require: mean`` asks the mean over seeds to lie in ``final_between`` (bounds
    included), ``require: ci`` asks the whole 95% bootstrap CI of that mean to."""

    metric: Literal["success_rate", "mean_return"] = "success_rate"
    final_between: tuple[Float, Float]
    require: Literal["mean", "ci"] = "mean"
    premise: Literal["holds"] | None = Field(
        default=None,
        description="holds: the candidate's game must also pass the premise check under uniform random policies "
        "(maprops premise, docs/premise.md): every agent's expected gradient on its cooperative action above 0",
    )

    @model_validator(mode="after")
    def _band(self) -> Criterion:
        low, high = self.final_between
        if not low < high:
            raise _spec_value(f"the band's low end {low:g} must be below its high end {high:g}", ("final_between",))
        if self.metric == "success_rate" and not (0 <= low and high <= 1):
            raise _spec_value("a success rate lies in [0, 1]: the band must too", ("final_between",))
        return self


class CalibrationSpec(Frozen):
    """One game's calibration: the candidates in the order they are tried, and the criterion."""

    calibration: str
    title: str
    game: str
    variant: str = Field(description="the reward variant the figure being calibrated for plays")
    algorithm: Literal[ALGORITHMS]
    seeds: Int = Field(ge=MIN_SEEDS, description="seeds 0..seeds-1 per candidate")
    seed_block: SeedBlock = AUTO
    candidates: tuple[dict[str, Any], ...] = Field(min_length=1, description="game settings, tried in this order")
    criterion: Criterion

    @field_validator("candidates")
    @classmethod
    def _distinct_settings(cls, candidates):
        seen: dict[str, int] = {}
        for i, candidate in enumerate(candidates):
            if not candidate:
                raise _spec_value("a candidate sets at least one game field", (i,))
            key = json.dumps(candidate, sort_keys=True)
            if key in seen:
                raise _spec_value(f"the same setting as candidate {seen[key]}", (i,))
            seen[key] = i
        return candidates

    def label(self, index: int) -> str:
        """``height=4, width=4, max_episode_steps=50``: a candidate's fields as written."""
        return ", ".join(f"{field}={_show(value)}" for field, value in self.candidates[index].items())


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_show, value)) + "]"
    return str(value)


def _spec_value(message: str, at: tuple) -> PydanticCustomError:
    return PydanticCustomError("spec_value", "{message}", {"message": message, "at": at})


# -- cross-checks (the spec library calls this once every game reference is sound) -------------


def check_calibration(specs: SpecResolver, spec: CalibrationSpec, path, lines) -> list[SpecError]:
    """Errors of one calibration spec, each at its ``FILE:LINE``: an unknown game or variant, a
    game kind with nothing open, a candidate field that is unknown or fixed by the paper (a
    reward, a penalty), a value that does not make a valid game."""
    game = specs.games.get(spec.game)
    if game is None:
        return [field_error(path, lines, ("game",), f"unknown game {spec.game!r}; known: {', '.join(specs.games)}")]
    if spec.variant not in game.variant_names:
        message = f"game {spec.game!r} has no variant {spec.variant!r}; known: {', '.join(game.variant_names)}"
        return [field_error(path, lines, ("variant",), message)]
    kind = game.kind
    open_fields = GAMES[kind].open_fields
    if not open_fields:
        calibratable = ", ".join(name for name, k in GAMES.items() if k.open_fields)
        return [field_error(path, lines, ("game",), f"game kind {kind!r} has no field open to calibration ({calibratable} do)")]
    known = set(GAMES[kind].config.model_fields)
    errors = []
    for i, candidate in enumerate(spec.candidates):
        bad = False
        for field in candidate:
            if field in open_fields:
                continue
            bad = True
            listed = ", ".join(open_fields)
            if field in known:
                message = (
                    f"{field!r} is not open to calibration: the paper fixes it, or it is a reward or penalty "
                    f"(open fields of {kind} games: {listed})"
                )
            else:
                message = f"unknown field of {kind} games; open to calibration: {listed}"
            errors.append(field_error(path, lines, ("candidates", i, field), message))
        if bad:
            continue
        try:
            candidate_run(specs, spec, i)
        except OverrideError as err:
            at = ("candidates", i, err.path.removeprefix("game.")) if err.path else ("candidates", i)
            errors.append(field_error(path, lines, at, f"{err} (candidate {i}: {spec.label(i)})"))
    return errors


# -- resolution ------------------------------------------------------------------------------------


def as_figure(specs: SpecResolver, spec: CalibrationSpec, index: int) -> tuple[FigureSpec, Panel]:
    """A one-panel, on-policy-only figure playing candidate ``index``: what the library resolves."""
    game = specs.games[spec.game]
    overrides = {f"game.{field}": value for field, value in spec.candidates[index].items()}
    panel = Panel(game=spec.game, variant=spec.variant, title=game.title, overrides=overrides)
    figure = FigureSpec(
        figure=spec.calibration,
        title=spec.title,
        algorithm=spec.algorithm,
        metric=spec.criterion.metric,
        ylabel=spec.criterion.metric,
        samplers=(CALIBRATION_SAMPLER,),
        seeds=spec.seeds,
        seed_block=spec.seed_block,
        panels=(panel,),
    )
    return figure, panel


def candidate_run(specs: SpecResolver, spec: CalibrationSpec, index: int, scale: Scale | None = None):
    """The resolved on-policy run of one candidate (``scale``: default none, the full budgets).
    Raises :class:`OverrideError` for a value that does not make a valid game."""
    figure, panel = as_figure(specs, spec, index)
    return specs.run_spec(figure, panel, CALIBRATION_SAMPLER, scale or Scale())


def calibration_cells(specs: SpecResolver, spec: CalibrationSpec, scale: Scale) -> list[Cell]:
    """One on-policy cell per candidate, in the order written; each cell's ``setting`` is the
    candidate's label (what the aggregation keys its curves by)."""
    seeds = min(spec.seeds, scale.seeds or spec.seeds)
    block = capped_block(spec.seed_block, scale)
    cells = []
    for i in range(len(spec.candidates)):
        figure, panel = as_figure(specs, spec, i)
        run = specs.run_spec(figure, panel, CALIBRATION_SAMPLER, scale)
        cells.append(Cell(0, panel, CALIBRATION_SAMPLER, run, seeds, block, setting=spec.label(i), block_cap=scale.seed_block))
    return only_on_policy(cells, spec.calibration)


def only_on_policy(cells: list[Cell], name: str) -> list[Cell]:
    """``cells``, refused if any would train a sampler other than on-policy sampling: a
    calibration that saw PROPS or MA-PROPS results could be tuned towards (or against) them."""
    for cell in cells:
        if cell.sampler != CALIBRATION_SAMPLER or cell.run.sampler.kind != CALIBRATION_SAMPLER:
            raise ValueError(
                f"calibration {name!r} would train sampler {cell.run.sampler.kind!r}: "
                f"a calibration trains {CALIBRATION_SAMPLER} only"
            )
    return cells


def resolved_settings(spec: CalibrationSpec, cells: list[Cell]) -> list[dict[str, Any]]:
    """Per candidate, every field any candidate sets, as its run plays it (JSON-ready)."""
    fields = list(dict.fromkeys(field for candidate in spec.candidates for field in candidate))
    out = []
    for cell in cells:
        game = cell.run.game.model_dump(mode="json")
        out.append({field: game[field] for field in fields})
    return out
