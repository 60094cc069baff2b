"""Every registered game kind with every registered sampler, generated from the registry.

A new game kind or sampler (maprops/kinds/) is trained here without writing a test: through a
shipped game spec of that kind (every kind must ship one), resolved by the spec library at smoke
scale, and checked for what every run must satisfy -- finite results in every column and a
seed's numbers independent of its block.
"""

import math
import pickle
import re
import typing
from pathlib import Path

import numpy as np
import pytest

from maprops.config import GAME_KINDS, SAMPLER_KINDS, RunSpec
from maprops.games import make_game
from maprops.kinds import GAMES, SAMPLERS
from maprops.specs import SpecLibrary
from maprops.specs.figures import FigureSpec, Panel
from maprops.specs.overrides import OverrideError
from maprops.train import train
from pipeline.plot_style import SAMPLER_STYLE
from pipeline.resources import train_mem_mb, train_seconds

SPECS = Path(__file__).resolve().parents[1] / "specs"
LIBRARY = SpecLibrary(SPECS)


def shipped_game(kind: str) -> str:
    """The first shipped game spec of ``kind`` (by file name)."""
    names = sorted(name for name, game in LIBRARY.games.items() if game.kind == kind)
    assert names, f"game kind {kind!r} is registered but specs/games/ has no game of that kind"
    return names[0]


def cell_run(panel: Panel, sampler: str) -> RunSpec:
    """``panel`` with ``sampler`` as a one-panel figure's cell at smoke scale (MAPPO)."""
    figure = FigureSpec(
        figure="registry", title="registry", algorithm="mappo", metric="success_rate", ylabel="Success rate",
        samplers=(sampler,), seeds=2, panels=(panel,),
    )  # fmt: skip
    return LIBRARY.run_spec(figure, panel, sampler, LIBRARY.scale("smoke"))


def smoke_run(kind: str, sampler: str) -> RunSpec:
    """The shipped game of ``kind`` with ``sampler`` as a figure cell at smoke scale (MAPPO)."""
    game = shipped_game(kind)
    return cell_run(Panel(game=game, title=game), sampler)


def assert_block_independent(run: RunSpec, cell: str) -> None:
    """Seed 1 trained alone and beside seed 0: every result column equal, and finite."""
    alone, block = train(run, [1]), train(run, [0, 1])
    in_block = block["seed"] == 1
    assert len(alone["seed"]) == in_block.sum() > 0
    for column, values in alone.items():
        assert np.array_equal(values, block[column][in_block]), f"{cell}: column {column} depends on the block"
        if np.issubdtype(np.asarray(values).dtype, np.floating):
            assert np.isfinite(values).all(), f"{cell}: non-finite {column}"


def test_the_unions_and_names_follow_the_registry():
    assert GAME_KINDS == tuple(GAMES) and SAMPLER_KINDS == tuple(SAMPLERS)
    assert list(SAMPLER_STYLE) == list(SAMPLERS)
    styles = [(s.linestyle, s.marker) for s in SAMPLER_STYLE.values()]
    assert len(set(map(repr, styles))) == len(styles), "two samplers would draw alike"
    for name, kind in GAMES.items():
        assert kind.config.model_fields["kind"].default == name
        assert kind.sampling_error in ("tv", "kl")
    for name, kind in SAMPLERS.items():
        assert kind.config.model_fields["kind"].default == name


def test_every_sampler_case_names_a_class_the_factory_can_build():
    """Each entry names its classes by path: every path resolves, to a class with the factory's
    ``from_config``; a sampler with several cases takes them from its setting's values."""
    from maprops.kinds.base import load_class

    for name, kind in SAMPLERS.items():
        for case, implementation in kind.cases.items():
            for path in filter(None, (implementation.discrete, implementation.continuous)):
                assert callable(getattr(load_class(path), "from_config", None)), f"{name} ({case}): {path}"
        if kind.chosen_by is not None:
            field = kind.config.model_fields[kind.chosen_by]
            assert set(kind.cases) == set(typing.get_args(field.annotation)) and field.default in kind.cases


@pytest.mark.parametrize("kind", list(GAMES))
def test_every_game_kind_builds_its_core_and_is_costed(kind):
    run = smoke_run(kind, "on_policy")
    assert pickle.loads(pickle.dumps(run)) == run  # resumable snapshots pickle the run spec
    game = make_game(run.game)
    assert game.n_agents >= 1 and game.n_joint_actions == math.prod(game.n_actions)
    spec_json = run.canonical_json()
    assert 0 < train_seconds(spec_json, 2) < train_seconds(spec_json, 20)
    assert train_mem_mb(spec_json, 2) <= train_mem_mb(spec_json, 20)


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("kind", list(GAMES))
def test_every_game_kind_trains_with_every_sampler_block_independently(kind, sampler):
    if SAMPLERS[sampler].needs_enumerable_states and not GAMES[kind].enumerable_states:
        with pytest.raises(OverrideError, match=f"sampler '{sampler}' needs a game with enumerable joint states"):
            smoke_run(kind, sampler)
        return
    run = smoke_run(kind, sampler)
    assert run.game.kind == kind and run.sampler.kind == sampler
    assert_block_independent(run, f"{kind} x {sampler}")


CONTINUOUS_GAMES = sorted(name for name, game in LIBRARY.games.items() if GAMES[game.kind].continuous(game))


def continuous_run(game: str, sampler: str) -> RunSpec:
    """A shipped continuous-action game with ``sampler`` at smoke scale, as the figure that
    shows it resolves it (its panel's overrides: Table 3 has no continuous-action row)."""
    figures = [f for f in LIBRARY.figures.values() for p in f.panels if p.game == game]
    assert figures, f"no figure shows the continuous game {game!r}"
    return cell_run(next(p for p in figures[0].panels if p.game == game), sampler)


def test_a_continuous_action_game_is_shipped():
    assert CONTINUOUS_GAMES


@pytest.mark.parametrize("sampler", list(SAMPLERS))
@pytest.mark.parametrize("game", CONTINUOUS_GAMES)
def test_every_sampler_trains_a_continuous_game_block_independently_or_refuses_it(game, sampler):
    """Continuous actions carry every bit of a seed's numbers into its next observation, so this
    is the strict form of the block-invariance contract; a sampler that cannot act in a Box is
    refused at spec resolution with the misfit's reason."""
    reason = LIBRARY.misfit(sampler, game)
    if not SAMPLERS[sampler].continuous_actions:
        assert reason is not None
    if reason is not None:
        with pytest.raises(OverrideError, match=re.escape(reason)):
            continuous_run(game, sampler)
        return
    run = continuous_run(game, sampler)
    assert_block_independent(run, f"{game} x {sampler}")
