import pytest
import torch
from pettingzoo.test import parallel_api_test, parallel_seed_test

from maprops.games.boulderpush import BoulderPushGame
from maprops.games.parallel_env import GameParallelEnv

N, S, W, E = range(4)


def small_game(**overrides):
    settings = dict(height=5, width=5, push_reward=0.1, penalty=0.02, goal_reward=1.0, sight=2, max_episode_steps=20)
    return BoulderPushGame(**{**settings, **overrides})


def uniforms(game, batch=(1, 1), value=None, generator=None, kind="step"):
    count = game.random_numbers_per_step if kind == "step" else game.random_numbers_per_reset
    if value is not None:
        return torch.full((*batch, count), value, dtype=torch.float64)
    return torch.rand(*batch, count, dtype=torch.float64, generator=generator)


def place(game, agents, boulder, direction):
    return game.set_state(torch.tensor([[agents]]), torch.tensor([[boulder]]), torch.tensor([[direction]]))


def step(game, *actions, order=(0.1, 0.9)):
    """One step; ``order`` are the move-order uniforms (agent 0 first by default)."""
    u = uniforms(game, value=0.5)
    u[..., : game.n_agents] = torch.tensor(order, dtype=torch.float64)
    return game.step(torch.tensor([[list(actions)]]), u)


def test_pettingzoo_api_and_seeding():
    parallel_api_test(GameParallelEnv(small_game(), "boulderpush"), num_cycles=100)
    parallel_seed_test(lambda: GameParallelEnv(small_game(), "boulderpush"))


def test_api_attributes():
    game = small_game()
    assert game.n_actions == (4, 4) and game.n_joint_actions == 16
    assert game.obs_dim == 4 + 2 * 25
    assert game.random_numbers_per_reset == 4 and game.random_numbers_per_step == 6
    obs = game.reset((3, 2), uniforms(game, (3, 2), kind="reset", generator=torch.Generator().manual_seed(0)))
    assert obs.shape == (3, 2, 2, game.obs_dim) and obs.dtype == torch.float32
    assert obs.min() >= 0 and obs.max() <= 1


def test_joint_push_moves_boulder_and_agents_and_pays_each():
    game = small_game()
    # Horizontal boulder at (2,1),(2,2) to be pushed north; agents right behind it.
    place(game, [[3, 1], [3, 2]], [2, 1], N)
    result = step(game, N, N)
    assert torch.allclose(result.rewards, torch.tensor([[[0.1, 0.1]]]))
    assert not bool(result.done)
    assert game._boulder.tolist() == [[[1, 1]]]
    assert game._pos.tolist() == [[[[2, 1], [2, 2]]]]


def test_joint_push_needs_every_agent_to_push():
    game = small_game()
    place(game, [[3, 1], [3, 2]], [2, 1], N)
    result = step(game, N, S)
    assert torch.allclose(result.rewards, torch.tensor([[[-0.02, 0.0]]]))
    assert game._boulder.tolist() == [[[2, 1]]]
    assert game._pos.tolist() == [[[[3, 1], [4, 2]]]]


def test_lone_push_penalizes_only_the_pusher():
    game = small_game()
    # Vertical boulder at (1,2),(2,2) to be pushed east; only agent 1 is behind it.
    place(game, [[4, 4], [1, 1]], [1, 2], E)
    result = step(game, S, E)  # agent 0 walks into the south wall (silent), agent 1 pushes alone
    assert torch.allclose(result.rewards, torch.tensor([[[0.0, -0.02]]]))
    assert game._boulder.tolist() == [[[1, 2]]]
    assert game._pos.tolist() == [[[[4, 4], [1, 1]]]]


def test_moves_off_grid_or_into_another_agent_fail_silently():
    game = small_game()
    place(game, [[0, 0], [0, 1]], [2, 2], N)
    result = step(game, N, W)  # agent 0 off the top edge; agent 1 into agent 0
    assert torch.equal(result.rewards, torch.zeros(1, 1, 2))
    assert game._pos.tolist() == [[[[0, 0], [0, 1]]]]
    result = step(game, W, S)
    assert torch.equal(result.rewards, torch.zeros(1, 1, 2))
    assert game._pos.tolist() == [[[[0, 0], [1, 1]]]]


def test_move_order_decides_who_gets_a_vacated_cell():
    game = small_game()
    place(game, [[0, 0], [0, 1]], [2, 2], N)
    step(game, E, E, order=(0.1, 0.9))  # agent 0 first: blocked by agent 1, which then moves
    assert game._pos.tolist() == [[[[0, 0], [0, 2]]]]
    place(game, [[0, 0], [0, 1]], [2, 2], N)
    step(game, E, E, order=(0.9, 0.1))  # agent 1 first: both move
    assert game._pos.tolist() == [[[[0, 1], [0, 2]]]]


def test_pushing_the_boulder_to_the_edge_succeeds():
    game = small_game()
    place(game, [[2, 1], [2, 2]], [1, 1], N)
    result = step(game, N, N)
    assert torch.allclose(result.rewards, torch.tensor([[[1.1, 1.1]]]))
    assert bool(result.done) and bool(result.success) and not bool(result.truncated)
    # East on a vertical boulder, too.
    place(game, [[1, 2], [2, 2]], [1, 3], E)
    result = step(game, E, E)
    assert bool(result.done) and bool(result.success)


def test_time_limit_truncates_and_restarts():
    game = small_game(max_episode_steps=3)
    place(game, [[0, 0], [4, 4]], [2, 1], N)
    results = [step(game, N, S) for _ in range(3)]
    assert [bool(r.done) for r in results] == [False, False, True]
    assert bool(results[-1].truncated) and not bool(results[-1].success)
    assert game._t.tolist() == [[0]]


def test_observation_layout():
    game = small_game(sight=1)
    obs = place(game, [[0, 0], [1, 1]], [2, 1], W)  # vertical boulder at (2,1),(3,1)
    # agent 0 at the corner: direction W, agent 1 at window (+1,+1), no boulder in sight.
    heading, others, rocks = obs[0, 0, 0, :4], obs[0, 0, 0, 4:13], obs[0, 0, 0, 13:]
    assert heading.tolist() == [0, 0, 1, 0]
    assert others.nonzero().flatten().tolist() == [8]
    assert rocks.sum() == 0
    heading, others, rocks = obs[0, 0, 1, :4], obs[0, 0, 1, 4:13], obs[0, 0, 1, 13:]
    assert others.nonzero().flatten().tolist() == [0]  # agent 0 up-left; itself not shown
    assert rocks.nonzero().flatten().tolist() == [7]  # boulder cell (2,1) right below


@pytest.mark.parametrize("overrides", [{}, dict(height=6, width=7, n_agents=3, sight=1)])
def test_reset_places_agents_on_distinct_free_cells_and_boulder_off_the_edges(overrides):
    game = small_game(**overrides)
    game.reset((20, 10), uniforms(game, (20, 10), kind="reset", generator=torch.Generator().manual_seed(1)))
    rock = game.boulder_cells(game._boulder, game._dir)  # [S, E, N, 2]
    assert (rock[..., 0] >= 1).all() and (rock[..., 0] <= game.height - 2).all()
    assert (rock[..., 1] >= 1).all() and (rock[..., 1] <= game.width - 2).all()
    pos = game._pos
    assert (pos >= 0).all() and (pos[..., 0] < game.height).all() and (pos[..., 1] < game.width).all()
    same = (pos.unsqueeze(-2) == pos.unsqueeze(-3)).all(-1)
    assert same.sum((-1, -2)).eq(game.n_agents).all()  # only the diagonal: distinct cells
    assert not (pos.unsqueeze(-2) == rock.unsqueeze(-3)).all(-1).any()
    assert set(game._dir.flatten().tolist()) == {0, 1, 2, 3}
    assert not game.at_goal(game._boulder, game._dir).any()


def test_batch_entries_are_independent():
    game, alone = small_game(), small_game()
    generator = torch.Generator().manual_seed(2)
    batch = (2, 3)
    reset_u = uniforms(game, batch, kind="reset", generator=generator)
    obs = game.reset(batch, reset_u)
    states = []
    for i in range(2):
        for j in range(3):
            assert torch.equal(alone.reset((1, 1), reset_u[i : i + 1, j : j + 1]), obs[i : i + 1, j : j + 1])
            states.append((alone._pos, alone._boulder, alone._dir, alone._t))
    saw_done = False
    for _ in range(30):
        actions = torch.randint(0, 4, (*batch, 2), generator=generator)
        step_u = uniforms(game, batch, generator=generator)
        result = game.step(actions, step_u)
        saw_done |= bool(result.done.any())
        for k, (i, j) in enumerate((i, j) for i in range(2) for j in range(3)):
            alone._pos, alone._boulder, alone._dir, alone._t = states[k]
            single = alone.step(actions[i : i + 1, j : j + 1], step_u[i : i + 1, j : j + 1])
            states[k] = (alone._pos, alone._boulder, alone._dir, alone._t)
            assert torch.equal(single.obs, result.obs[i : i + 1, j : j + 1])
            assert torch.equal(single.rewards, result.rewards[i : i + 1, j : j + 1])
            for field in ("done", "success", "truncated"):
                assert torch.equal(getattr(single, field), getattr(result, field)[i : i + 1, j : j + 1])
    assert saw_done  # the time limit (20) falls inside the 30 steps, so auto-resets are compared too
