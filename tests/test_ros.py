"""The ROS oracle (Assumption 1): the most under-sampled joint action, ties in proportion to pi."""

import torch

from maprops.games.matrix import MatrixGame
from maprops.samplers.ros import RosSampler

GAME = MatrixGame([[[1, 1], [0, 0]], [[0, 0], [1, 1]]], optimal=((0, 0),))
OBS = torch.zeros(1, 1, 2, 1)  # one seed, one environment, two agents, the matrix game's constant


def agent_log_probs(agent1, agent2):
    return torch.tensor([[[agent1, agent2]]]).log()  # [S=1, E=1, N=2, K=2]


def act(sampler, log_probs, u):
    actions = sampler.act(OBS, log_probs, torch.full((1, 1, 2), u))
    return tuple(actions[0, 0].tolist())


def test_an_unseen_state_samples_the_target():
    """No counts: the behavior equals the target, so the choice is pi's inverse CDF at u."""
    log_probs = agent_log_probs([0.5, 0.5], [0.8, 0.2])  # joint (0,0) .4, (0,1) .1, (1,0) .4, (1,1) .1
    assert act(RosSampler(GAME, 1), log_probs, 0.39) == (0, 0)
    assert act(RosSampler(GAME, 1), log_probs, 0.45) == (0, 1)
    assert act(RosSampler(GAME, 1), log_probs, 0.6) == (1, 0)


def test_the_most_under_sampled_joint_action_is_taken_and_ties_follow_pi():
    log_probs = agent_log_probs([0.5, 0.5], [0.8, 0.2])
    sampler = RosSampler(GAME, 1)
    sampler.counts[0, 0] = torch.tensor([2.0, 0.0, 1.0, 0.0])  # n = 3: n pi - n(a) = -.8, .3, .2, .3
    for u, expected in ((0.01, (0, 1)), (0.49, (0, 1)), (0.51, (1, 1)), (0.99, (1, 1))):
        trial = RosSampler(GAME, 1)
        trial.counts.copy_(sampler.counts)
        assert act(trial, log_probs, u) == expected, u
    sampler.counts[0, 0] = torch.tensor([0.0, 1.0, 1.0, 1.0])  # n = 3: 1.2, -.7, .2, -.7 -> (0,0) whatever u
    assert act(sampler, log_probs, 0.99) == (0, 0)
    assert sampler.counts[0, 0].tolist() == [1.0, 1.0, 1.0, 1.0]  # the choice is counted


def test_counts_track_n_pi_within_one_and_reset_with_the_target():
    """Every count stays within 1 of n pi(a) -- sampling error O(1/n), Theorem 2's rate -- where
    on-policy sampling drifts by O(sqrt(n))."""
    log_probs = agent_log_probs([0.7, 0.3], [0.6, 0.4])
    pi = torch.tensor([0.42, 0.28, 0.18, 0.12], dtype=torch.float64)
    sampler = RosSampler(GAME, 1)
    gen = torch.Generator().manual_seed(0)
    for n in range(1, 501):
        sampler.act(OBS, log_probs, torch.rand(1, 1, 2, generator=gen))
        assert (sampler.counts[0, 0] - n * pi).abs().max() < 1.0 + 1e-9, n
    sampler.reset_to_target(None)
    assert sampler.counts.sum() == 0
