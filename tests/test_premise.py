"""The Appendix E premise check (``maprops premise``): the Monte Carlo gradient agrees with the
exact one in matrix games; event counts on a tiny GridWorld match an exhaustive enumeration by
hand-written rules; the cores' event counts agree with their rewards; the command prints one line
per (game, variant); the Snakemake target builds the table and the report renders it."""

import csv
import itertools
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from maprops.cli import main
from maprops.games import make_game
from maprops.games.boulderpush import BoulderPushGame
from maprops.games.gridworld import GridWorldGame
from maprops.games.lbf import LBFGame
from maprops.gradient import exact_gradient
from maprops.premise import DISCOURAGES, ENCOURAGES, FAILS, HOLDS, estimate, normal_mean_ci, play_uniform
from maprops.rng import SeedStreams
from maprops.specs import SpecLibrary
from pipeline import report
from tests.helpers import GRIDWORLD_SETTINGS, copy_workflow, snakemake_command

SPECS = Path(__file__).resolve().parents[1] / "specs"
GAMMA = 0.99


@pytest.fixture(scope="module")
def library():
    return SpecLibrary(SPECS)


# -- matrix games: Monte Carlo against the exact gradient --------------------------------------------


@pytest.mark.parametrize(
    "game, variant, verdict", [("climbing", "original", FAILS), ("climbing", "modified", HOLDS), ("penalty", "original", FAILS)]
)
def test_matrix_premise_agrees_with_the_exact_gradient(library, game, variant, verdict):
    spec = library.games[game]
    result = estimate(spec, variant, episodes=20000, seed=0, gamma=GAMMA)
    exact = exact_gradient(spec.payoff_tensor(variant))
    for i, agent in enumerate(result.agents):
        parts = {spec.joint_index(j)[i] for j in spec.optimal}  # the agent's part of an optimal joint action
        assert agent.exact == pytest.approx(sum(exact[i][b] for b in parts), abs=1e-12)
        assert agent.gradient.low <= agent.exact <= agent.gradient.high, agent
    assert result.p_optimal == pytest.approx(len(spec.optimal) / 9)
    assert result.joint.low <= result.p_optimal <= result.joint.high
    assert result.verdict == verdict


def test_climbing_exact_gradient_by_hand(library):
    """Agent 1 on A: (1/3)(Q(A) - V) = (1/3)(-19/3 + 31/9) = -26/27; modified: (1/3)(Q(A) - V) with
    Q(A) = (11 - 3 + 0)/3 and V = (11 - 3 + 0 - 3 + 7 + 0 + 0 + 3 + 2)/9 = 17/9: 7/27."""
    original = estimate(library.games["climbing"], "original", episodes=100, seed=0, gamma=GAMMA)
    modified = estimate(library.games["climbing"], "modified", episodes=100, seed=0, gamma=GAMMA)
    assert [a.exact for a in original.agents] == pytest.approx([-26 / 27] * 2)
    assert [a.exact for a in modified.agents] == pytest.approx([7 / 27] * 2)
    assert [a.verdict for a in original.agents] == [DISCOURAGES] * 2 and [a.verdict for a in modified.agents] == [ENCOURAGES] * 2


# -- a 2x2 GridWorld, enumerated by hand ---------------------------------------------------------------

# Cells 0 1 / 2 3; team cell 0 (top-left), distractor 3; agent 1 starts in 1, agent 2 in 2.
# Where each move (up, down, left, right) leads, walls blocking -- written out by hand.
MOVES_2X2 = {0: (0, 2, 0, 1), 1: (1, 3, 0, 1), 2: (0, 2, 2, 3), 3: (1, 3, 2, 3)}
CLOSER_2X2 = {1: {2}, 2: {0}, 3: {0, 2}}  # moves that bring an agent strictly closer to cell 0
TEAM, LONE, DISTRACTOR = 0.9, -0.1, 0.1


def tiny_gridworld(steps: int) -> GridWorldGame:
    return GridWorldGame(
        size=2,
        starts=(1, 2),
        team_cell=0,
        distractor_cell=3,
        team_reward=TEAM,
        lone_penalty=LONE,
        distractor_reward=DISTRACTOR,
        max_episode_steps=steps,
    )


def enumerate_2x2(steps: int):
    """Exact expectations under uniform policies by enumerating every joint action sequence:
    joint events, each agent's lone entries, and each agent's gradient on its closer moves."""
    joint, lone, grad = Fraction(0), [Fraction(0)] * 2, [0.0, 0.0]
    for sequence in itertools.product(itertools.product(range(4), repeat=2), repeat=steps):
        p = Fraction(1, 16**steps)
        pos, score = [1, 2], [0.0, 0.0]
        for t, actions in enumerate(sequence):
            score = [s + (a in CLOSER_2X2[c]) - len(CLOSER_2X2[c]) / 4 for s, a, c in zip(score, actions, pos)]
            pos = [MOVES_2X2[c][a] for c, a in zip(pos, actions)]
            at_team = [c == 0 for c in pos]
            everyone = all(at_team)
            reward = TEAM * everyone + LONE * (any(at_team) and not everyone) + DISTRACTOR * (3 in pos)
            joint += p * everyone
            lone = [n + p * (a and not everyone) for n, a in zip(lone, at_team)]
            grad = [g + float(p) * GAMMA**t * reward * s for g, s in zip(grad, score)]
            if any(at_team) or 3 in pos:
                break
    return joint, lone, grad


def test_two_by_two_enumeration_by_hand():
    """One step: both agents reach cell 0 with probability 1/4 each, so together 1/16, and
    each one alone 1/4 - 1/16 = 3/16."""
    joint, lone, _ = enumerate_2x2(1)
    assert joint == Fraction(1, 16) and lone == [Fraction(3, 16)] * 2


def test_gridworld_events_match_an_exhaustive_enumeration():
    """Every joint action sequence of a 2-step 2x2 game fed to the core at once: its event
    counts, summed, equal the hand enumeration's exactly."""
    steps = 2
    game = tiny_gridworld(steps)
    sequences = list(itertools.product(itertools.product(range(4), repeat=2), repeat=steps))
    actions = torch.tensor(sequences)  # [256, steps, 2]
    game.reset((len(sequences), 1))
    live = torch.ones(len(sequences), 1, dtype=torch.bool)
    joint, lone = torch.zeros(len(sequences)), torch.zeros(len(sequences), 2)
    for t in range(steps):
        result = game.step(actions[:, t].unsqueeze(1))
        joint += (live * result.events["joint"])[:, 0]
        lone += (live.unsqueeze(-1) * result.events["lone"])[:, 0]
        live &= ~result.done
    exact_joint, exact_lone, _ = enumerate_2x2(steps)
    assert Fraction(int(joint.sum()), len(sequences)) == exact_joint
    assert [Fraction(int(n), len(sequences)) for n in lone.sum(0)] == exact_lone


def test_premise_on_a_tiny_gridworld_agrees_with_the_enumeration():
    steps = 3
    played = play_uniform(tiny_gridworld(steps), episodes=20000, seed=0, gamma=GAMMA)
    joint, lone, grad = enumerate_2x2(steps)
    ci = normal_mean_ci(played.joint, counts=True)
    assert ci.low <= float(joint) <= ci.high
    for i in range(2):
        ci = normal_mean_ci(played.lone[:, i], counts=True)
        assert ci.low <= float(lone[i]) <= ci.high
        ci = normal_mean_ci(played.gradient[:, i])
        assert ci.low <= grad[i] <= ci.high, (i, ci, grad[i])


def test_estimates_do_not_depend_on_the_batching():
    a = play_uniform(tiny_gridworld(3), episodes=50, seed=4, gamma=GAMMA, chunk=50)
    b = play_uniform(tiny_gridworld(3), episodes=50, seed=4, gamma=GAMMA, chunk=7)
    assert np.array_equal(a.joint, b.joint) and np.array_equal(a.lone, b.lone) and np.array_equal(a.gradient, b.gradient)


# -- the cores' events and cooperative actions -----------------------------------------------------------


def uniform_steps(game, envs: int, steps: int):
    """``steps`` steps of uniform random play in ``envs`` environments: (actions, result) pairs,
    with the cooperative-action mask before each step."""
    rng = SeedStreams([0])
    k = game.n_actions[0]

    def u(tag, count):
        return rng.uniform(tag, (envs, count)) if count else None

    obs = game.reset((1, envs), u((1,), game.random_numbers_per_reset))
    out = []
    for t in range(steps):
        cooperative = game.cooperative_actions()
        actions = (u((2, t), game.n_agents) * k).long()
        result = game.step(actions, u((3, t), game.random_numbers_per_step))
        out.append((obs, cooperative, actions, result))
        obs = result.obs
    return out


def test_boulderpush_events_account_for_every_reward(library):
    game = make_game(library.games["boulderpush"].to_config())
    assert isinstance(game, BoulderPushGame)
    pushes = bumps = 0
    for obs, cooperative, _, result in uniform_steps(game, envs=256, steps=60):
        # the cooperative move is the push direction the agents observe (first 4 entries)
        assert torch.equal(cooperative, obs[..., :4].bool())
        expected = (
            game.push_reward * result.events["joint"].unsqueeze(-1)
            + game.goal_reward * result.success.float().unsqueeze(-1)
            - game.penalty * result.events["lone"]
        )
        assert torch.allclose(result.rewards, expected)
        pushes += int(result.events["joint"].sum())
        bumps += int(result.events["lone"].sum())
    assert pushes > 0 and bumps > 0


def test_lbf_events_account_for_every_reward(library):
    game = make_game(library.games["lbf"].to_config())
    assert isinstance(game, LBFGame)
    loads = fails = 0
    for _, cooperative, actions, result in uniform_steps(game, envs=96, steps=100):
        assert cooperative[0, 0].tolist() == [[False] * 5 + [True]] * 2  # load
        penalized = -game.settings["penalty"] * result.events["lone"]
        assert torch.allclose(result.rewards.clamp(max=0), penalized)
        assert torch.allclose(result.rewards.clamp(min=0).sum(-1), result.events["joint"])  # 0.5 + 0.5 per food
        assert bool((result.events["lone"].bool() <= (actions == 5)).all())  # only a load can fail
        loads += int(result.events["joint"].sum())
        fails += int(result.events["lone"].sum())
    assert loads > 0 and fails > 0


def test_gridworld_cooperative_moves_from_the_centre():
    game = GridWorldGame(**GRIDWORLD_SETTINGS)  # the shipped 3x3 game
    game.reset((1, 1))
    assert game.cooperative_actions()[0, 0].tolist() == [[True, False, True, False]] * 2  # up, left
    game.step(torch.tensor([[[0, 1]]]))  # agent 1 up to cell 1, agent 2 down to cell 7
    assert game.cooperative_actions()[0, 0].tolist() == [[False, False, True, False], [True, False, True, False]]


# -- the command ----------------------------------------------------------------------------------------


def test_the_command_prints_one_line_per_game_and_variant(capsys, tmp_path):
    out = tmp_path / "premise.csv"
    assert (
        main(["premise", "fig1", "nonconflict_19", "gridworld", "--episodes", "300", "--specs", str(SPECS), "--csv", str(out)])
        == 0
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    assert [line.split(":", 1)[0] for line in lines] == [
        "fig1/original",
        "nonconflict_19/original",
        "nonconflict_19/modified",
        "gridworld/original",
    ]
    assert all(" -> premise " in line for line in lines)
    assert lines[0].endswith("-> premise holds") and lines[1].endswith("-> premise FAILS")  # game 19's tie
    assert "agent 1 (A) exact +0.5, sampled " in lines[0]
    assert (
        "joint rewards " in lines[3] and "/ep [" in lines[3] and "gradient on a move toward the team cell: agent 1 " in lines[3]
    )
    rows = list(csv.DictReader(out.open()))
    assert [(r["game"], r["variant"], r["agent"]) for r in rows] == [
        (g, v, a)
        for g, v in [
            ("fig1", "original"),
            ("nonconflict_19", "original"),
            ("nonconflict_19", "modified"),
            ("gridworld", "original"),
        ]
        for a in "12"
    ]
    assert all(r["episodes"] == "300" and r["gamma"] == "0.99" for r in rows)


def test_the_command_refuses_unknown_games_and_variants(capsys):
    assert main(["premise", "nosuchgame", "--specs", str(SPECS)]) == 2
    assert "no game 'nosuchgame'" in capsys.readouterr().err
    assert main(["premise", "fig1", "--variant", "modified", "--specs", str(SPECS)]) == 2
    assert "has no variant 'modified'" in capsys.readouterr().err
    assert main(["premise", "fig1", "--episodes", "1", "--specs", str(SPECS)]) == 2


def test_the_report_says_not_run_without_the_table(tmp_path):
    out = tmp_path / "REPORT.md"
    args = ["--specs", str(SPECS), "--scale", "smoke", "--out-root", str(tmp_path / "empty"), "--out", str(out)]
    assert report.main(args) == 0
    assert "## Premise under uniform random policies (Appendix E)" in out.read_text()
    assert f"Premise: **not run** ({tmp_path / 'empty'}/smoke/premise.csv does not exist yet" in out.read_text()


def test_the_snakemake_target_builds_the_table_and_the_report_shows_it(tmp_path):
    workdir = copy_workflow(tmp_path)
    command = snakemake_command(workdir, "--cores", "1", "--config", "scale=smoke", "--", "results/smoke/premise.csv")
    proc = subprocess.run(command, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = workdir / "results/smoke/premise.csv"
    rows = list(csv.DictReader(table.open()))
    assert {r["episodes"] for r in rows} == {"200"}  # the smoke scale's episodes (pipeline/rules/premise.smk)
    assert {(r["game"], r["variant"]) for r in rows} >= {
        ("lbf", "modified"),
        ("boulderpush", "original"),
        ("gridworld", "original"),
    }
    assert (workdir / "results/smoke/logs/premise.log").is_file()
    # the report rule's command, run here (a second Snakemake run would parse the workflow again)
    out = workdir / "results/smoke/REPORT.md"
    assert (
        report.main(
            ["--specs", str(workdir / "specs"), "--scale", "smoke", "--out-root", str(workdir / "results"), "--out", str(out)]
        )
        == 0
    )
    section = out.read_text().split("## Premise under uniform random policies (Appendix E)", 1)[1]
    assert "| lbf/modified | load | " in section and "| climbing/modified | its part of an optimal joint action |" in section
    assert f"Data: {table} (200 episodes per game and variant, seed 0, gamma 0.99)." in section
