"""Level-Based Foraging: the real lbforaging package behind the batched-core interface."""

import numpy as np
import torch
from lbforaging.foraging.environment import ForagingEnv
from pettingzoo.test import parallel_api_test, parallel_seed_test

from maprops.games.lbf import LBFGame, _seed
from maprops.games.pettingzoo import GameParallelEnv

NONE, NORTH, SOUTH, WEST, EAST, LOAD = range(6)


def paper_lbf(**overrides):
    return LBFGame(**{**dict(field_size=5, max_player_level=1, sight=5, max_episode_steps=50, penalty=0.015), **overrides})


def test_pettingzoo_api_and_seeding():
    parallel_api_test(GameParallelEnv(paper_lbf(), "lbf"), num_cycles=60)
    parallel_seed_test(lambda: GameParallelEnv(paper_lbf(), "lbf"))


def test_steps_are_those_of_a_plain_foraging_env():
    game = paper_lbf()
    u = torch.tensor([[[0.25]]], dtype=torch.float64)
    obs = game.reset((1, 1), u)
    plain = ForagingEnv(**game.settings)
    plain_obs, _ = plain.reset(seed=_seed(0.25))
    assert np.array_equal(obs[0, 0].numpy(), np.stack(plain_obs))
    gen = torch.Generator().manual_seed(0)
    for _ in range(30):
        actions = torch.randint(0, 6, (1, 1, 2), generator=gen)
        result = game.step(actions, torch.zeros(1, 1, 1, dtype=torch.float64))
        plain_obs, rewards, done, _, _ = plain.step(actions[0, 0].tolist())
        assert np.allclose(result.rewards[0, 0].numpy(), rewards)
        if done:
            break
        assert np.array_equal(result.obs[0, 0].numpy(), np.stack(plain_obs))


def place(game, players, food):
    """One environment with players at ``players`` (row, col) and one level-2 food at ``food``."""
    game.reset((1, 1), torch.zeros(1, 1, 1, dtype=torch.float64))
    env = game._envs[0]
    env.field[:] = 0
    env.field[food] = 2
    env._food_spawned = 2.0
    for player, position in zip(env.players, players):
        player.position, player.level = position, 1
    env._gen_valid_moves()
    return env


def test_a_joint_forage_pays_half_each_and_ends_the_episode_with_success():
    game = paper_lbf()
    place(game, [(1, 2), (2, 1)], (2, 2))
    result = game.step(torch.tensor([[[LOAD, LOAD]]]), torch.zeros(1, 1, 1, dtype=torch.float64))
    assert torch.allclose(result.rewards, torch.tensor(0.5))
    assert bool(result.done) and bool(result.success) and not bool(result.truncated)


def test_a_lone_forage_is_penalized():
    game = paper_lbf()
    place(game, [(1, 2), (4, 4)], (2, 2))
    result = game.step(torch.tensor([[[LOAD, NONE]]]), torch.zeros(1, 1, 1, dtype=torch.float64))
    assert torch.allclose(result.rewards[0, 0], torch.tensor([-0.015, 0.0]))
    assert not bool(result.done)


def test_the_time_limit_truncates():
    game = paper_lbf(max_episode_steps=3)
    place(game, [(0, 0), (4, 4)], (2, 2))
    results = [game.step(torch.tensor([[[NONE, NONE]]]), torch.zeros(1, 1, 1, dtype=torch.float64)) for _ in range(3)]
    assert [bool(r.done) for r in results] == [False, False, True]
    assert bool(results[-1].truncated) and not bool(results[-1].success)


def test_an_entry_does_not_depend_on_its_batch():
    gen = torch.Generator().manual_seed(1)
    reset_u = torch.rand(4, 1, 1, generator=gen, dtype=torch.float64)
    steps = [(torch.randint(0, 6, (4, 1, 2), generator=gen), torch.rand(4, 1, 1, generator=gen, dtype=torch.float64)) for _ in range(60)]
    batch, alone = paper_lbf(max_episode_steps=10), paper_lbf(max_episode_steps=10)
    assert torch.equal(batch.reset((4, 1), reset_u)[2], alone.reset((1, 1), reset_u[2:3])[0])
    for actions, u in steps:
        b, a = batch.step(actions, u), alone.step(actions[2:3], u[2:3])
        assert torch.equal(b.obs[2], a.obs[0]) and torch.equal(b.rewards[2], a.rewards[0])
        assert torch.equal(b.done[2], a.done[0])
