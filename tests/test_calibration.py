"""Calibrations: specs that open only what the paper leaves open, cells that train on-policy
sampling only, the first candidate meeting the criterion chosen, and the table built through
Snakemake at smoke scale."""

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maprops.config import sampler_config
from maprops.kinds import GAMES
from maprops.specs import SpecLibrary
from maprops.specs.calibrations import only_on_policy
from maprops.specs.validate import validate_main
from pipeline.calibration import Selection, meets, select
from pipeline.compare import mean_ci, named_rng
from pipeline.expand import Plan
from tests.helpers import copy_workflow
from tests.test_pipeline import planned_jobs, snakemake

SPECS = Path(__file__).resolve().parents[1] / "specs"
SMOKE = ("--config", "scale=smoke")


@pytest.fixture(scope="module")
def library():
    return SpecLibrary(SPECS)


# -- specs ------------------------------------------------------------------------------------


def test_shipped_calibrations(library):
    assert set(library.calibrations) == {"gridworld", "boulderpush", "lbf"}
    fig5 = {p.game: p.variant for p in library.figure("fig5").panels}
    for name, spec in library.calibrations.items():
        assert spec.game == name and spec.variant == fig5[name] and spec.algorithm == "mappo"
        assert spec.seeds >= 20 and 4 <= len(spec.candidates) <= 6
        kind = library.games[spec.game].kind
        assert all(set(c) <= set(GAMES[kind].open_fields) for c in spec.candidates)
        # one candidate is the game as written (the first choice, or the calibrated value once applied)
        written = library.games[spec.game].model_dump()
        same = [
            c
            for c in spec.candidates
            if all(written[f] == v or (isinstance(v, list) and list(written[f]) == v) for f, v in c.items())
        ]
        assert len(same) == 1, (name, same)


def test_open_fields_are_game_fields_and_never_rewards(library):
    calibratable = {name: kind.open_fields for name, kind in GAMES.items() if kind.open_fields}
    assert calibratable
    for kind, fields in calibratable.items():
        game = next(g for g in library.games.values() if g.kind == kind)
        assert set(fields) <= set(game.model_dump())
        assert not [f for f in fields if re.search("reward|penalty|player|food|agents", f)]
    assert "size" not in GAMES["gridworld"].open_fields  # §6: "a 3x3 GridWorld"


def errors_of(root: Path, capsys) -> str:
    assert validate_main([str(root)]) == 1
    return capsys.readouterr().err


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "old, new, field, message",  # the error's line: that of `new`
    [
        (
            "{height: 4, width: 4, max_episode_steps: 50}",
            "{height: 4, widht: 4, max_episode_steps: 50}",
            "candidates.2.widht",
            "unknown field of boulderpush games; open to calibration: height, width, sight, max_episode_steps",
        ),
        (
            "{height: 4, width: 4, max_episode_steps: 50}",
            "{height: 4, width: 4, penalty: 0.0}",
            "candidates.2.penalty",
            "'penalty' is not open to calibration: the paper fixes it, or it is a reward or penalty",
        ),
        (
            "{height: 4, width: 4, max_episode_steps: 50}",
            "{height: 4, width: 4, push_reward: 1.0}",
            "candidates.2.push_reward",
            "'push_reward' is not open to calibration",
        ),
        (
            "{height: 4, width: 4, max_episode_steps: 50}",
            "{height: 4, width: 4, n_agents: 1}",
            "candidates.2.n_agents",
            "'n_agents' is not open to calibration",
        ),
        (
            "{height: 4, width: 4, max_episode_steps: 50}",
            "{height: 3, width: 4, max_episode_steps: 50}",
            "candidates.2",  # a check on two fields together: the candidate
            "height and width must be >= n_agents + 2 (candidate 2: height=3, width=4, max_episode_steps=50)",
        ),
        ("game: boulderpush", "game: bouldrpush", "game", "unknown game 'bouldrpush'"),
        ("game: boulderpush", "game: climbing", "game", "game kind 'matrix' has no field open to calibration"),
        ("variant: modified ", "variant: modfied ", "variant", "game 'boulderpush' has no variant 'modfied'"),
        ("seeds: 20 ", "seeds: 10 ", "seeds", "greater than or equal to 20"),
        ("algorithm: mappo ", "algorithm: mapo ", "algorithm", "Input should be 'mappo' or 'ippo'"),
        ("final_between: [0.2, 0.8]", "final_between: [0.8, 0.2]", "criterion.final_between", "must be below its high end"),
        ("final_between: [0.2, 0.8]", "final_between: [0.2, 1.5]", "criterion.final_between", "a success rate lies in [0, 1]"),
        (
            "{height: 4, width: 4, max_episode_steps: 50}",
            "{height: 5, width: 5, max_episode_steps: 50}",
            "candidates.2",
            "the same setting as candidate 0",
        ),  # (`new` is also candidate 0's line: the line checked is the last of the two)
        ("calibration: boulderpush", "calibration: fig5", "calibration", "must equal the file name 'boulderpush'"),
    ],
)
def test_bad_calibration_names_file_line_field(specs_copy, capsys, old, new, field, message):
    path = specs_copy / "calibrations/boulderpush.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    err = errors_of(specs_copy, capsys)
    match = re.search(rf"^{re.escape(str(path))}:(\d+): ([^:]*): (.*)$", err, re.M)
    assert match, err
    assert match.group(2) == field, err
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if new in line]
    assert int(match.group(1)) == lines[-1], err
    assert message in match.group(3), err
    assert len(re.findall(r"^\S+:(\d+|\?): ", err, re.M)) == 1, err  # one mistake, one error


def test_gridworld_size_is_not_open(specs_copy, capsys):
    path = specs_copy / "calibrations/gridworld.yaml"
    path.write_text(path.read_text().replace("{starts: [1, 1], max_episode_steps: 9}", "{size: 4, max_episode_steps: 9}"))
    err = errors_of(specs_copy, capsys)
    assert f"{path}:{line_of(path, '{size: 4')}: candidates.3.size: 'size' is not open to calibration" in err


def test_a_calibration_name_is_unique_across_outputs(specs_copy, capsys):
    spec = (SPECS / "calibrations/boulderpush.yaml").read_text().replace("calibration: boulderpush", "calibration: fig5")
    (specs_copy / "calibrations/fig5.yaml").write_text(spec)
    err = errors_of(specs_copy, capsys)
    assert (
        "fig5.yaml:5: <file>: the name 'fig5' is also a figure; names must be unique across figures, studies, sweeps and calibrations"
        in err
    )


# -- cells: on-policy only -------------------------------------------------------------------------


@pytest.mark.parametrize("scale", ["full", "smoke"])
def test_planned_cells_train_on_policy_only(scale):
    plan = Plan(SPECS, scale, cores=2)
    fig5 = {(c.panel.game, c.sampler): c.run.run_id() for c in plan.cells("fig5")}
    for name in plan.calibrations:
        cells = plan.calibration_cells(name)
        spec = plan.library.calibration(name)
        assert len(cells) == len(spec.candidates)
        assert {c.sampler for c in cells} == {c.run.sampler.kind for c in cells} == {"on_policy"}
        manifest = plan.calibration_manifest(name)
        assert {c["sampler"] for c in manifest["cells"]} == {"on_policy"}
        assert [c["setting"] for c in manifest["cells"]] == [spec.label(i) for i in range(len(spec.candidates))]
        assert manifest["metrics"] == ["success_rate"]
        # each candidate's game fields are applied; nothing else differs from the game as written
        for cell, candidate in zip(cells, spec.candidates):
            game = cell.run.game.model_dump(mode="json")
            assert all(game[k] == v for k, v in candidate.items())
        # the candidate equal to the game as written (the first choice, or the calibrated one once
        # applied) is Fig. 5's own on-policy run, shared by hash
        game = plan.library.games[spec.game]
        as_written = [
            i
            for i, c in enumerate(spec.candidates)
            if all(getattr(game, k) == (tuple(v) if isinstance(v, list) else v) for k, v in c.items())
        ]
        assert len(as_written) == 1, as_written
        same = cells[as_written[0]]
        assert same.run.run_id() == fig5[(spec.game, "on_policy")]
        assert len({c.run.run_id() for c in cells}) == len(cells)
        # and, with as many seeds, trains with Fig. 5's blocks: a calibration never re-blocks a figure's run
        fig5_cell = next(c for c in plan.cells("fig5") if (c.panel.game, c.sampler) == (spec.game, "on_policy"))
        if same.seeds == fig5_cell.seeds:
            assert plan.cell_files(same) == plan.cell_files(fig5_cell)


def test_adding_calibrations_leaves_figure_blocks_alone(specs_copy):
    for cores in (2, 64):
        with_calibrations = Plan(specs_copy, "full", cores=cores)
        before = {name: with_calibrations.figure_inputs(name) for name in ("fig5", "fig6", "fig15")}
        shutil.rmtree(specs_copy / "calibrations", ignore_errors=True)
        without = Plan(specs_copy, "full", cores=cores)
        assert {name: without.figure_inputs(name) for name in before} == before
        shutil.copytree(SPECS / "calibrations", specs_copy / "calibrations")


def test_a_calibration_refuses_any_other_sampler(library):
    cells = library.calibration_cells("gridworld", "smoke")
    props = dataclasses.replace(
        cells[1], sampler="props", run=cells[1].run.model_copy(update={"sampler": sampler_config("props")})
    )
    with pytest.raises(
        ValueError, match="calibration 'gridworld' would train sampler 'props': a calibration trains on_policy only"
    ):
        only_on_policy([cells[0], props], "gridworld")
    relabelled = dataclasses.replace(cells[1], run=props.run)  # the label says on_policy, the run does not
    with pytest.raises(ValueError, match="would train sampler 'props'"):
        only_on_policy([relabelled], "gridworld")


def test_plan_command_prices_a_calibration(capsys):
    from pipeline.plan import plan_main

    assert plan_main("results/full/calibrations/boulderpush.md", 2, None, str(SPECS)) == 0
    out = capsys.readouterr().out
    assert out.startswith("calibration boulderpush, scale full, 2 cores: 5 train jobs")
    rows = [line.split() for line in out.splitlines() if re.match(r"^[0-9a-f]{16} ", line)]
    assert len(rows) == 5 and {row[1] for row in rows} == {"on_policy"}
    assert plan_main("lbf", 2, "smoke", str(SPECS)) == 0
    assert capsys.readouterr().out.startswith("calibration lbf, scale smoke, 2 cores: 5 train jobs")


# -- selection -------------------------------------------------------------------------------------


def estimates(*per_seed):
    return [mean_ci(np.asarray(v, dtype=float), named_rng("test", i)) for i, v in enumerate(per_seed)]


BAND = {"metric": "success_rate", "final_between": [0.2, 0.8], "require": "mean"}


def test_the_first_candidate_meeting_the_criterion_is_chosen():
    zeros, ones = [0.0] * 20, [1.0] * 20
    low = [1.0] * 5 + [0.0] * 15  # mean 0.25: inside, near the edge
    mid = [1.0] * 10 + [0.0] * 10  # mean 0.5: the band's centre, but later in the order
    assert select(estimates(zeros, low, mid, ones), BAND) == Selection(1, True)
    assert select(estimates(zeros, ones, mid, low), BAND) == Selection(2, True)
    edge = [1.0] * 4 + [0.0] * 16  # mean 0.2: the bounds are included
    assert select(estimates(edge, mid), BAND) == Selection(0, True)


def test_when_none_meets_the_closest_is_named():
    zeros, ones = [0.0] * 20, [1.0] * 20
    near_top = [1.0] * 18 + [0.0] * 2  # 0.9: 0.1 above the band
    near_bottom = [1.0] * 3 + [0.0] * 17  # 0.15: 0.05 below it
    assert select(estimates(zeros, near_top, near_bottom, ones), BAND) == Selection(2, False)
    centred = {**BAND, "final_between": [0.25, 0.75]}  # 0 and 1 both exactly 0.25 outside it
    assert select(estimates(zeros, ones), centred) == select(estimates(ones, zeros), centred) == Selection(0, False)


def test_require_ci_asks_the_whole_interval_inside_the_band():
    wide = [1.0] * 5 + [0.0] * 15  # mean 0.25, CI reaching below 0.2
    mid = [1.0] * 10 + [0.0] * 10
    ci = {**BAND, "require": "ci"}
    first, second = estimates(wide, mid)
    assert meets(first, BAND) and not meets(first, ci) and first.low < 0.2
    assert select([first, second], ci) == Selection(1, True)


# -- through Snakemake at smoke scale --------------------------------------------------------------

# GridWorld with a one-step time limit: from the centre no reward cell is one step away (success
# and return exactly 0); from cells 5 and 7, next to the distractor, neither is the team cell
# (success exactly 0) but the distractor is (0.1 to each agent whenever one steps onto it).
TINY = """\
calibration: {name}
title: tiny
game: gridworld
variant: original
algorithm: mappo
seeds: 20
candidates:
  - {{starts: [4, 4], max_episode_steps: 1}}
  - {{starts: [5, 7], max_episode_steps: 1}}
criterion:
  metric: {metric}
  final_between: {band}
"""


def workflow(root: Path) -> Path:
    """A private copy of the workflow whose specs hold only two tiny calibrations."""
    copy_workflow(root)
    for folder in ("figures", "studies", "sweeps", "calibrations"):
        for spec in (root / "specs" / folder).glob("*.yaml"):
            spec.unlink()
    (root / "specs/claims.yaml").unlink(missing_ok=True)
    (root / "specs/hyperparams/named_values.yaml").unlink()  # its paths are checked against figures' runs
    calibrations = root / "specs/calibrations"
    (calibrations / "tiny_success.yaml").write_text(TINY.format(name="tiny_success", metric="success_rate", band="[0.2, 0.8]"))
    (calibrations / "tiny_return.yaml").write_text(TINY.format(name="tiny_return", metric="mean_return", band="[0.01, 1.0]"))
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = workflow(tmp_path_factory.mktemp("calibration"))
    jobs = planned_jobs(root, "calibrations", *SMOKE)
    # two candidates, each one on-policy run shared by both calibrations
    assert jobs["train"] == 2 and jobs["calibration"] == 2, jobs
    snakemake(root, "calibrations", *SMOKE)
    return root


def test_smoke_calibration_trains_on_policy_runs_only(built):
    runs = sorted((built / "results/smoke/runs").iterdir())
    assert len(runs) == 2
    assert all('"kind":"on_policy"' in (run / "run.json").read_text().replace(" ", "") for run in runs)
    seeds = pd.read_csv(built / "results/smoke/calibrations/tiny_success.seeds.csv")
    assert set(seeds["sampler"]) == {"on_policy"} and len(seeds) == 2 * 3  # candidates x smoke seeds


def test_smoke_calibration_picks_by_the_on_policy_criterion(built):
    out = built / "results/smoke/calibrations"
    # success is exactly 0 for both: none meets [0.2, 0.8]; a tie, so the first is named closest
    table = pd.read_csv(out / "tiny_success.csv")
    assert list(table["candidate"]) == ["starts=[4, 4], max_episode_steps=1", "starts=[5, 7], max_episode_steps=1"]
    assert list(table.columns[:4]) == ["order", "candidate", "starts", "max_episode_steps"]  # as the spec writes them
    assert list(table["starts"]) == ["[4, 4]", "[5, 7]"] and list(table["max_episode_steps"]) == [1, 1]
    assert (table["mean"] == 0).all() and (table["ci_high"] == 0).all() and (table["n_seeds"] == 3).all()
    assert list(table["meets"]) == [False, False] and not table["chosen"].any() and list(table["closest"]) == [True, False]
    text = (out / "tiny_success.md").read_text()
    assert "**No candidate meets the criterion.** Closest to the band [0.2, 0.8] (by the band alone): candidate 0" in text
    # the total return (both agents' 0.1): exactly 0 from the centre, positive next to the
    # distractor -> candidate 1 chosen
    table = pd.read_csv(out / "tiny_return.csv")
    assert table["mean"][0] == 0 and 0.01 <= table["mean"][1] <= 0.2
    assert list(table["meets"]) == [False, True] and list(table["chosen"]) == [False, True] and not table["closest"].any()
    text = (out / "tiny_return.md").read_text()
    assert "**Chosen: candidate 1 (starts=[5, 7], max_episode_steps=1).**" in text
    assert re.search(
        r"^\| 1 \| starts=\[5, 7\], max_episode_steps=1 \| `[0-9a-f]{16}` \| .* \| yes \| \*\*chosen\*\* \|$", text, re.M
    )
    assert planned_jobs(built, "calibrations", *SMOKE) == {}  # up to date


def test_premise_holds_is_required_of_the_chosen_candidate_when_the_criterion_says_so():
    mid = [1.0] * 10 + [0.0] * 10
    with_premise = {**BAND, "premise": "holds"}
    assert select(estimates(mid, mid), with_premise, ["FAILS", "holds"]) == Selection(1, True)
    assert select(estimates(mid, mid), with_premise, ["inconclusive", "FAILS"]) == Selection(0, False)
    assert select(estimates(mid, mid), BAND, ["FAILS", "holds"]) == Selection(0, True)  # not asked: not read


def test_candidate_premise_uses_the_candidates_settings():
    """The premise of a candidate is its own game's: a different start changes the estimate."""
    from maprops.premise import estimate
    from pipeline.calibration_premise import candidate_game

    library = SpecLibrary(SPECS)
    game = library.games["gridworld"]
    moved = candidate_game(game, {"starts": (1, 3)})
    assert moved.starts == (1, 3) and game.starts == (4, 4)
    as_written = estimate(game, "original", 400, 0, 0.99).joint.value
    closer = estimate(moved, "original", 400, 0, 0.99).joint.value
    assert closer > as_written  # both start next to the team cell: joint arrivals are likelier
