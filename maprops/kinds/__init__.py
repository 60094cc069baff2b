"""The registry: every game kind and every sampler, each from its own module in this package.

To add a game kind or a sampler, write its module here (settings model + ``KIND`` entry) and
its core class, then add its module name to one of the two tuples below. Everything that lists
kinds -- the run spec's and the game spec's Pydantic unions, the figure specs' sampler names,
the CLI's choices, plot styles, the cost model -- is derived from :data:`GAMES` and
:data:`SAMPLERS`; the tests that train every game kind with every sampler read them too. Which
sampler can play which game follows from the entries' declarations alone (:func:`sampler_misfit`).
"""

from __future__ import annotations

import importlib

from maprops.kinds.base import GameKind, SamplerKind

GAME_MODULES = ("matrix", "gridworld", "boulderpush", "lbf", "pettingzoo", "vmas")
SAMPLER_MODULES = ("on_policy", "props", "ma_props", "ros")  # the paper's order: legends and tables follow it


def _entries(modules: tuple[str, ...]) -> dict:
    entries = {}
    for module in modules:
        kind = importlib.import_module(f"{__name__}.{module}").KIND
        entries[kind.name] = kind
    return entries


GAMES: dict[str, GameKind] = _entries(GAME_MODULES)
SAMPLERS: dict[str, SamplerKind] = _entries(SAMPLER_MODULES)


def game_kind(name: str) -> GameKind:
    if name not in GAMES:
        raise ValueError(f"unknown game kind {name!r}; known: {', '.join(GAMES)}")
    return GAMES[name]


def sampler_kind(name: str) -> SamplerKind:
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; known: {', '.join(SAMPLERS)}")
    return SAMPLERS[name]


def sampler_misfit(sampler, game) -> str | None:
    """Why a sampler config cannot play a game (a resolved game config or a game spec), or None.
    The one place the entries' declarations meet: the implementation the sampler's settings choose
    (:meth:`SamplerKind.implementation`) may need enumerable joint states (the ROS oracle, a tabular
    delta_phi) and may have no class for continuous actions (the oracle, a tabular or pairwise
    delta_phi); the game's kind says whether its games enumerate their joint states, and each game
    whether its actions are continuous. Run specs refuse a misfit when they are read, so the
    samplers' classes never see one."""
    kind, game_kind_ = SAMPLERS[sampler.kind], GAMES[game.kind]
    case, implementation = kind.implementation(sampler)
    subject = f"sampler {sampler.kind!r}" if case is None else f"a {case} {kind.chosen_by}"
    if implementation.needs_enumerable_states and not game_kind_.enumerable_states:
        fits = ", ".join(name for name, k in GAMES.items() if k.enumerable_states)
        return f"{subject} needs a game with enumerable joint states ({fits}); game kind {game.kind!r} has none"
    if game_kind_.continuous(game) and implementation.continuous is None:
        continuous = [c for c, i in kind.cases.items() if c is not None and i.continuous is not None]
        hint = f" (continuous ones: {kind.chosen_by}: {', '.join(continuous)})" if case is not None and continuous else ""
        return f"{subject} needs discrete actions{hint}; game {game.name!r} has continuous (Box) actions"
    return None
