import pytest
import torch
from pettingzoo.test import parallel_api_test, parallel_seed_test

from maprops.games.matrix import MatrixGame
from maprops.games.parallel_env import GameParallelEnv
from maprops.joint_actions import decode_joint, encode_joint

CLIMBING = [[11, -30, 0], [-30, 7, 0], [0, 6, 5]]


def climbing() -> MatrixGame:
    table = torch.tensor(CLIMBING, dtype=torch.float32)
    return MatrixGame(torch.stack([table, table], -1), ((0, 0),), name="climbing")


def test_joint_action_encoding_is_row_major_and_invertible():
    actions = torch.tensor([[0, 0], [0, 2], [2, 1], [1, 2]])
    joint = encode_joint(actions, (3, 3))
    assert joint.tolist() == [0, 2, 7, 5]
    assert torch.equal(decode_joint(joint, (3, 3)), actions)


def test_matrix_game_pays_the_table_and_flags_success():
    game = climbing()
    result = game.step(torch.tensor([[[0, 0], [0, 1]], [[2, 1], [1, 1]]]))
    assert result.rewards[..., 0].tolist() == [[11, -30], [6, 7]]
    assert result.success.tolist() == [[True, False], [False, False]]
    assert result.done.all()


def test_three_agent_game():
    payoffs = torch.zeros(2, 2, 2, 3)
    payoffs[1, 0, 1] = torch.tensor([1.0, 2.0, 3.0])
    game = MatrixGame(payoffs, ((1, 0, 1),))
    result = game.step(torch.tensor([[[1, 0, 1]]]))
    assert result.rewards[0, 0].tolist() == [1.0, 2.0, 3.0] and result.success.item()


def test_wrong_payoff_shape_is_rejected():
    with pytest.raises(ValueError, match="one action axis per agent"):
        MatrixGame(torch.zeros(2, 2, 3), ((0, 0),))


def test_pettingzoo_adapter_passes_the_api_and_seed_tests():
    parallel_api_test(GameParallelEnv(climbing(), "climbing"), num_cycles=50)
    parallel_seed_test(lambda: GameParallelEnv(climbing(), "climbing"))
