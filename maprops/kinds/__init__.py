"""The registry: every game kind and every sampler, each from its own module in this package.

To add a game kind or a sampler, write its module here (settings model + ``KIND`` entry) and
its core class, then add its module name to one of the two tuples below. Everything that lists
kinds -- the run spec's and the game spec's Pydantic unions, the figure specs' sampler names,
the CLI's choices, plot styles, the cost model -- is derived from :data:`GAMES` and
:data:`SAMPLERS`; the tests that train every game kind with every sampler read them too.
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
