import torch
from pettingzoo.test import parallel_api_test, parallel_seed_test

from maprops.games.gridworld import GridWorldGame
from maprops.games.parallel_env import GameParallelEnv
from maprops.metrics import total_variation
from maprops.rng import SeedStreams, sample_categorical
from tests.helpers import GRIDWORLD_SETTINGS, REPO

UP, DOWN, LEFT, RIGHT = range(4)


def paper_grid(**overrides):
    return GridWorldGame(**{**GRIDWORLD_SETTINGS, **overrides})


def play(game, *joint_actions):
    game.reset((1, 1))
    return [game.step(torch.tensor([[list(a)]])) for a in joint_actions]


def test_pettingzoo_api_and_seeding():
    parallel_api_test(GameParallelEnv(paper_grid(), "gridworld"), num_cycles=100)
    parallel_seed_test(lambda: GameParallelEnv(paper_grid(), "gridworld"))


def test_both_reaching_the_team_cell_together_succeeds():
    *_, last = play(paper_grid(), (UP, UP), (LEFT, LEFT))
    assert torch.allclose(last.rewards, torch.tensor(0.9))
    assert bool(last.done) and bool(last.success) and not bool(last.truncated)


def test_a_lone_arrival_is_penalized_and_ends_the_episode():
    *_, last = play(paper_grid(), (UP, DOWN), (LEFT, DOWN))
    assert torch.allclose(last.rewards, torch.tensor(-0.1))
    assert bool(last.done) and not bool(last.success)


def test_the_distractor_cell_pays_a_little_and_ends_the_episode():
    first, last = play(paper_grid(), (DOWN, UP), (RIGHT, UP))
    assert torch.equal(first.rewards, torch.zeros(1, 1, 2)) and not bool(first.done)
    assert torch.allclose(last.rewards, torch.tensor(0.1)) and bool(last.done) and not bool(last.success)


def test_walls_block_and_the_time_limit_truncates():
    game = paper_grid(max_episode_steps=3)
    results = play(game, (UP, UP), (UP, UP), (UP, UP))  # both stuck against the top wall at cell 1
    assert [bool(r.done) for r in results] == [False, False, True]
    assert bool(results[-1].truncated) and not bool(results[-1].success)
    assert torch.equal(results[1].obs, game.observe(torch.tensor([[[1, 1]]])))
    assert torch.equal(results[-1].obs, game.observe(torch.tensor([[[4, 4]]])))  # auto-reset to the start


def test_each_agent_observes_itself_first():
    game = paper_grid()
    obs = game.observe(torch.tensor([2, 6]))
    assert obs[0].nonzero().flatten().tolist() == [2, 9 + 6]
    assert obs[1].nonzero().flatten().tolist() == [6, 9 + 2]
    assert game.state_index(obs[None, None]).item() == 2 * 9 + 6


def test_exact_visitation_matches_monte_carlo():
    """Dynamic programming over joint states against a long run of back-to-back episodes
    under fixed random per-state policies."""
    game = paper_grid()
    generator = torch.Generator().manual_seed(0)
    log_probs = torch.log_softmax(torch.randn(1, game.n_states, 2, 4, generator=generator), -1)
    exact = game.state_distribution(log_probs)[0]
    assert torch.isclose(exact.sum(), torch.tensor(1.0, dtype=torch.float64))

    envs, steps = 2000, 100
    rng = SeedStreams([0])
    game.reset((1, envs))
    obs = game.observe(game.starts.expand(1, envs, -1))
    counts = torch.zeros(game.n_states, dtype=torch.float64)
    for t in range(steps):
        states = game.state_index(obs)[0]
        counts += torch.bincount(states, minlength=game.n_states)
        actions = sample_categorical(log_probs[0, states].exp(), rng.uniform((0, t), (envs, 2))[0])
        obs = game.step(actions[None]).obs
    assert total_variation(counts / counts.sum(), exact) < 0.02


def test_the_test_settings_are_the_shipped_gridworld():
    import yaml

    shipped = yaml.safe_load((REPO / "specs/games/gridworld.yaml").read_text())
    assert {
        k: tuple(v) if isinstance(v, list) else v for k, v in shipped.items() if k in GRIDWORLD_SETTINGS
    } == GRIDWORLD_SETTINGS
