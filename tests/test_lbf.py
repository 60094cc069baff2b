"""Level-Based Foraging: the real lbforaging package behind the batched-core interface.

Hand-built states (``place``) write the package's own fields: ``field`` holds food levels,
``_food_spawned`` is the reward normalizer (total food level spawned), players carry
``position``/``level``, and ``_gen_valid_moves()`` must be rerun because ``step`` turns any
action not in the precomputed valid set into a no-op.
"""

import numpy as np
import pytest
import torch
from lbforaging.foraging.environment import ForagingEnv
from pettingzoo.test import parallel_api_test, parallel_seed_test

from maprops.games.instances import reset_seed
from maprops.games.lbf import LBFGame
from maprops.games.parallel_env import GameParallelEnv

NONE, NORTH, SOUTH, WEST, EAST, LOAD = range(6)
PAPER = dict(field_size=5, max_player_level=1, max_food_level=None, sight=5, max_episode_steps=50, penalty=0.015)


def paper_lbf(**overrides):
    return LBFGame(**{**PAPER, **overrides})


def uniforms(*shape, value=0.0):
    return torch.full(shape, value, dtype=torch.float64)


def place(game, positions, food=(2, 2), food_level=2):
    """A single-entry game whose env has players (level 1) at ``positions`` and one food."""
    game.reset((1, 1), uniforms(1, 1, 1))
    env = game.envs[0]
    env.field[:] = 0
    env.field[food] = food_level
    env._food_spawned = float(food_level)
    for player, position in zip(env.players, positions):
        player.position, player.level = position, 1
    env._gen_valid_moves()
    return game


def step(game, *actions, u=0.0):
    return game.step(torch.tensor([[list(actions)]]), uniforms(1, 1, 1, value=u))


def test_pettingzoo_api_and_seeding():
    parallel_api_test(GameParallelEnv(paper_lbf(), "lbf"), num_cycles=120)
    parallel_seed_test(lambda: GameParallelEnv(paper_lbf(), "lbf"))


def test_attributes_and_observation_layout():
    game = paper_lbf()
    assert (game.n_agents, game.n_actions, game.n_joint_actions, game.obs_dim) == (2, (6, 6), 36, 9)
    assert (game.random_numbers_per_reset, game.random_numbers_per_step) == (1, 1)
    space = ForagingEnv(**game.settings).observation_space[0]
    assert game.obs_bounds == (space.low.min(), space.high.max()) == (-1.0, 4.0)
    place(game, [(1, 2), (4, 0)], food=(2, 2))
    obs = game.envs[0]._make_gym_obs()
    # food (row, col, level), then self, then the other player; sight 5 sees the whole field
    assert obs[0].tolist() == [2, 2, 2, 1, 2, 1, 4, 0, 1]
    assert obs[1].tolist() == [2, 2, 2, 4, 0, 1, 1, 2, 1]


def test_steps_and_auto_resets_are_those_of_a_plain_foraging_env():
    """Rewards, observations and episode ends equal a ForagingEnv stepped by hand with the
    same seeds and actions; each auto-reset equals a freshly built env reset with the seed
    taken from that step's uniform."""
    game = paper_lbf(max_episode_steps=8)
    gen = torch.Generator().manual_seed(0)
    u0 = torch.rand(1, 1, 1, generator=gen, dtype=torch.float64)
    obs = game.reset((1, 1), u0)
    plain = ForagingEnv(**game.settings)
    plain_obs, _ = plain.reset(seed=reset_seed(float(u0)))
    assert np.array_equal(obs[0, 0].numpy(), np.stack(plain_obs))
    episodes = 0
    for _ in range(80):
        actions = torch.randint(0, 6, (1, 1, 2), generator=gen)
        u = torch.rand(1, 1, 1, generator=gen, dtype=torch.float64)
        result = game.step(actions, u)
        plain_obs, rewards, done, truncated, _ = plain.step(actions[0, 0].tolist())
        assert result.rewards[0, 0].tolist() == pytest.approx(rewards)
        assert bool(result.done) == done and not truncated  # the package never truncates
        if done:
            episodes += 1
            assert bool(result.success) == (plain.field.sum() == 0) != bool(result.truncated)
            plain = ForagingEnv(**game.settings)
            plain_obs, _ = plain.reset(seed=reset_seed(float(u)))
        assert np.array_equal(result.obs[0, 0].numpy(), np.stack(plain_obs))
    assert episodes == 10


def test_a_reused_env_resets_exactly_like_a_fresh_one():
    """The package's reset avoids the previous episode's player cells; the core clears them,
    so a reset depends on its seed alone."""
    game = paper_lbf()
    settings = game.settings
    game.reset((1, 1), uniforms(1, 1, 1, value=0.5))
    stale = ForagingEnv(**settings)
    stale.reset(seed=reset_seed(0.5))
    stale_differs = 0
    for k in range(40):
        u = (k + 0.5) / 40
        fresh, _ = ForagingEnv(**settings).reset(seed=reset_seed(u))
        assert np.array_equal(game.reset((1, 1), uniforms(1, 1, 1, value=u))[0, 0].numpy(), np.stack(fresh))
        stale_differs += not np.array_equal(np.stack(stale.reset(seed=reset_seed(u))[0]), np.stack(fresh))
    assert stale_differs > 0  # the quirk is real: a plain reused env would not be seed-pure


def test_an_entry_does_not_depend_on_its_batch():
    gen = torch.Generator().manual_seed(1)
    reset_u = torch.rand(4, 1, 1, generator=gen, dtype=torch.float64)
    steps = [
        (torch.randint(0, 6, (4, 1, 2), generator=gen), torch.rand(4, 1, 1, generator=gen, dtype=torch.float64))
        for _ in range(60)
    ]
    batch = paper_lbf(max_episode_steps=10)
    alone = [paper_lbf(max_episode_steps=10) for _ in range(4)]
    obs = batch.reset((4, 1), reset_u)
    for i, core in enumerate(alone):
        assert torch.equal(obs[i], core.reset((1, 1), reset_u[i : i + 1])[0])
    ends = 0
    for actions, u in steps:
        b = batch.step(actions, u)
        for i, core in enumerate(alone):
            a = core.step(actions[i : i + 1], u[i : i + 1])
            for field in ("obs", "rewards", "done", "success", "truncated"):
                assert torch.equal(getattr(b, field)[i], getattr(a, field)[0]), (i, field)
        ends += int(b.done.sum())
    assert ends >= 4 * 5  # every entry went through several auto-resets


def test_a_joint_load_pays_half_each_and_ends_the_episode_with_success():
    game = place(paper_lbf(), [(1, 2), (2, 1)], food=(2, 2))
    result = step(game, LOAD, LOAD)
    assert result.rewards[0, 0].tolist() == [0.5, 0.5]
    assert bool(result.done) and bool(result.success) and not bool(result.truncated)


def test_a_lone_load_penalizes_the_loader_only():
    # agent 1 also chooses load, but with no food next to it that is a free no-op
    game = place(paper_lbf(), [(1, 2), (4, 4)], food=(2, 2))
    result = step(game, LOAD, LOAD)
    assert result.rewards[0, 0].tolist() == pytest.approx([-0.015, 0.0])
    assert not bool(result.done)
    # the food stays, so the same load fails again
    assert step(game, LOAD, NONE).rewards[0, 0].tolist() == pytest.approx([-0.015, 0.0])


def test_a_joint_load_short_of_the_food_level_penalizes_every_loader():
    game = place(paper_lbf(max_food_level=3), [(1, 2), (2, 1)], food=(2, 2), food_level=3)
    result = step(game, LOAD, LOAD)
    assert result.rewards[0, 0].tolist() == pytest.approx([-0.015, -0.015])
    assert not bool(result.done)


def test_the_time_limit_ends_and_truncates():
    game = place(paper_lbf(max_episode_steps=3), [(0, 0), (4, 4)])
    results = [step(game, NONE, NONE) for _ in range(3)]
    assert [bool(r.done) for r in results] == [False, False, True]
    assert bool(results[-1].truncated) and not bool(results[-1].success)


def test_collecting_the_food_on_the_last_step_is_success_not_truncation():
    game = place(paper_lbf(max_episode_steps=2), [(1, 2), (2, 1)], food=(2, 2))
    assert not bool(step(game, NONE, NONE).done)
    last = step(game, LOAD, LOAD)
    assert bool(last.done) and bool(last.success) and not bool(last.truncated)


def test_natural_episodes_pay_only_the_paper_rewards():
    """Load-heavy random play on real resets: the only rewards are 0.5 each for a joint
    forage (which ends the episode with success) and -0.015 for an agent that loaded."""
    game = paper_lbf()
    gen = torch.Generator().manual_seed(2)
    low, high = game.obs_bounds
    obs = game.reset((10, 10), torch.rand(10, 10, 1, generator=gen, dtype=torch.float64))
    successes = penalties = 0
    for _ in range(60):
        assert low <= obs.min() and obs.max() <= high
        load = torch.rand(10, 10, 2, generator=gen) < 0.5
        actions = torch.where(load, LOAD, torch.randint(0, 5, (10, 10, 2), generator=gen))
        result = game.step(actions, torch.rand(10, 10, 1, generator=gen, dtype=torch.float64))
        r = result.rewards
        paid = r == 0.5
        assert (paid | (r == 0) | torch.isclose(r, torch.tensor(-0.015))).all()
        assert torch.equal(paid.all(-1), result.success) and torch.equal(paid.any(-1), result.success)
        assert not ((r < 0) & ~load).any() and not (paid & ~load).any()
        assert not (result.success & result.truncated).any()
        successes += int(result.success.sum())
        penalties += int((r < 0).sum())
        obs = result.obs
    assert successes >= 5 and penalties >= 100


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(field_size=2), r"field_size\n.*greater than or equal to 3"),
        (dict(players=0), r"players\n.*greater than or equal to 1"),
        (dict(min_player_level=2, max_player_level=1), "max_player_level 1 < min_player_level 2"),
        (dict(min_food_level=3, max_food_level=2), "min_food_level 3 > max_food_level 2"),
        (dict(min_food_level=3, force_coop=False), "set max_food_level"),
        (dict(max_food_level=0), r"max_food_level\n.*greater than or equal to 1"),
        (dict(sight=0), r"sight\n.*greater than or equal to 1"),
        (dict(max_episode_steps=0), r"max_episode_steps\n.*greater than or equal to 1"),
        (dict(penalty=-0.1), r"penalty\n.*greater than or equal to 0"),
        (dict(field_size=3, players=9), "do not fit"),
        (dict(penalty=float("inf")), r"penalty\n.*finite number"),
    ],
)
def test_invalid_settings_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        paper_lbf(**overrides)


@pytest.mark.parametrize("field_size, foods", [(3, 2), (4, 3)])
def test_foods_that_cannot_be_placed_are_refused_before_any_reset(field_size, foods):
    """A 3x3 field has one interior cell; on a 4x4 field's 2x2 interior every cell neighbours
    the others: the package would give up placing food without a word."""
    with pytest.raises(ValueError, match=rf"lbforaging cannot place {foods} foods on a {field_size}x{field_size} field"):
        paper_lbf(field_size=field_size, foods=foods)
    paper_lbf(field_size=field_size + 3, foods=foods)  # room enough


def test_wrong_shapes_are_rejected():
    game = paper_lbf()
    with pytest.raises(ValueError, match="call reset before step"):
        step(game, NONE, NONE)
    with pytest.raises(ValueError, match="uniforms of shape"):
        game.reset((2, 1), uniforms(1, 1, 1))
    game.reset((1, 1), uniforms(1, 1, 1))
    with pytest.raises(ValueError, match="actions of shape"):
        game.step(torch.zeros(1, 1, 3, dtype=torch.int64), uniforms(1, 1, 1))
    with pytest.raises(ValueError, match="actions must lie in 0..5"):
        step(game, NONE, 6)
