"""Small run specs for tests: real code paths at a scale that runs in seconds; and a private copy
of the workflow for tests that edit specs and build with Snakemake."""

import shutil
import sys
from pathlib import Path

from maprops.config import MatrixGameConfig, RunSpec, ppo_config, sampler_config

GAME_19_MODIFIED = [[[5, 5], [1, 3]], [[3, 1], [2, 2]]]

# The shipped GridWorld (specs/games/gridworld.yaml), as game-core keyword arguments.
GRIDWORLD_SETTINGS = dict(
    size=3,
    starts=(4, 4),
    team_cell=0,
    distractor_cell=8,
    team_reward=0.9,
    lone_penalty=-0.1,
    distractor_reward=0.1,
    max_episode_steps=9,
)


def tiny_spec(sampler: str = "ma_props", algorithm: str = "mappo", iterations: int = 2, batch: int = 8, **sampler_kw) -> RunSpec:
    return RunSpec(
        game=MatrixGameConfig(name="nonconflict_19", variant="modified", payoffs=GAME_19_MODIFIED, optimal=((0, 0),)),
        algorithm=algorithm,
        sampler=sampler_config(sampler, **sampler_kw),
        ppo=ppo_config(batch_size=batch, learning_rate=0.1),
        total_steps=iterations * batch,
        eval_every=1,
        eval_episodes=10,
    )


def tiny_figure(samplers: str, seeds: int, panels: str) -> str:
    """A figure spec named ``tiny`` (MAPPO success rate) for spec-level and pipeline tests."""
    return (
        "figure: tiny\ntitle: tiny\nalgorithm: mappo\nmetric: success_rate\nylabel: Success rate\n"
        f"samplers: [{samplers}]\nseeds: {seeds}\nseed_block: {seeds}\npanels:\n{panels}"
    )


REPO = Path(__file__).resolve().parents[1]


def copy_workflow(dest: Path) -> Path:
    """The Snakefile and what it reads (specs/, pipeline/, the workflow profile) copied into
    ``dest``, so a test can edit specs and build there without touching the repository."""
    for folder in ("specs", "pipeline", "profiles"):
        shutil.copytree(REPO / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "Snakefile", dest / "Snakefile")
    return dest


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """``python -m snakemake`` with ``workdir``'s own Snakefile, building in ``workdir``."""
    return [sys.executable, "-m", "snakemake", "-s", str(workdir / "Snakefile"), "--directory", str(workdir), *args]


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a text file by ``new`` (which must be there)."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def located_game_spec_error(tmp_path: Path, spec: str, old: str, new: str) -> tuple[str, str]:
    """The one error of game spec text ``spec`` with ``old`` replaced by ``new``: (field,
    message), after checking that it names the file and the line of the field's top-level key."""
    import pytest

    from maprops.specs.errors import SpecErrors
    from maprops.specs.games import GameSpec
    from maprops.specs.load import load_file

    assert old in spec, old
    path = tmp_path / "task.yaml"
    path.write_text(spec.replace(old, new, 1))
    with pytest.raises(SpecErrors) as err:
        load_file(path, GameSpec)
    (error,) = err.value.errors
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if row.startswith(error.field.split(".")[0] + ":"))
    assert (error.file, error.line) == (str(path), line)
    return error.field, error.message
