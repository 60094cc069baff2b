"""KL sampling error by maximum likelihood (Appendix C) against exact KL where it is known."""

import torch

from maprops.config import mle_config
from maprops.kl_error import kl_sampling_errors
from maprops.rng import SeedStreams

K = 3  # actions per agent, two agents


def exact_kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    p, q = p.double(), q.double()
    return torch.where(p > 0, p * (p / q).log(), torch.zeros_like(p)).sum(-1)


def buffer(seeds: int, m: int, joint_probs: torch.Tensor, gen: torch.Generator, obs_values=(1.0,)):
    """Joint actions drawn from ``joint_probs [n_obs, K*K]`` at observations cycling through
    ``obs_values``; returns obs [S, M, 2, 1], actions [S, M, 2], state ids [S, M]."""
    states = torch.arange(m).remainder(len(obs_values)).expand(seeds, m)
    joint = torch.stack([torch.multinomial(joint_probs[s], 1, generator=gen) for s in states.flatten()]).view(seeds, m)
    actions = torch.stack([joint // K, joint % K], -1)
    obs = torch.tensor(obs_values)[states].view(seeds, m, 1, 1).expand(-1, -1, 2, 1).float()
    return obs, actions, states


def test_tracks_exact_kl_on_a_one_state_game():
    gen = torch.Generator().manual_seed(0)
    target = torch.softmax(torch.randn(2, K, generator=gen), -1)  # per-agent target policies
    target_joint = (target[0][:, None] * target[1][None, :]).flatten()
    correlated = torch.zeros(K * K)
    correlated[[0, 4, 8]] = 1 / 3  # agents always match: far from the product target
    m, seeds = 300, 4
    results = {}
    for name, probs in {"on_policy": target_joint, "correlated": correlated}.items():
        obs, actions, _ = buffer(seeds, m, probs[None], gen)
        log_probs = target.log().expand(seeds, m, 2, K)
        joint_kl, agent1_kl = kl_sampling_errors(obs, actions, log_probs, (K, K), SeedStreams(range(seeds)), (1,), mle_config())
        counts = torch.stack([torch.bincount(a, minlength=K * K) for a in actions[..., 0] * K + actions[..., 1]]) / m
        exact_joint = exact_kl(counts, target_joint)
        exact_agent1 = exact_kl(counts.view(seeds, K, K).sum(-1), target[0])
        assert torch.allclose(joint_kl, exact_joint, atol=0.03), (name, joint_kl, exact_joint)
        assert torch.allclose(agent1_kl, exact_agent1, atol=0.02), (name, agent1_kl, exact_agent1)
        results[name] = joint_kl
    assert (results["correlated"] > results["on_policy"] + 0.3).all()


def test_weights_per_state_kl_by_state_frequency():
    gen = torch.Generator().manual_seed(1)
    uniform = torch.full((K * K,), 1 / (K * K))
    skewed = torch.tensor([0.6, 0.1, 0.0, 0.0, 0.2, 0.0, 0.0, 0.0, 0.1])
    obs, actions, states = buffer(2, 400, torch.stack([uniform, skewed]), gen, obs_values=(-1.0, 1.0))
    log_probs = torch.full((2, 400, 2, K), 1 / K).log()
    joint_kl, _ = kl_sampling_errors(obs, actions, log_probs, (K, K), SeedStreams([0, 1]), (2,), mle_config())
    joint = actions[..., 0] * K + actions[..., 1]
    exact = torch.zeros(2, dtype=torch.float64)
    for state in (0, 1):
        for s in range(2):
            here = joint[s][states[s] == state]
            exact[s] += exact_kl(torch.bincount(here, minlength=K * K) / len(here), uniform) * len(here) / 400
    assert torch.allclose(joint_kl, exact, atol=0.05), (joint_kl, exact)


def test_a_seeds_estimate_does_not_depend_on_its_block():
    gen = torch.Generator().manual_seed(2)
    obs, actions, _ = buffer(5, 100, torch.full((1, K * K), 1 / (K * K)), gen)
    log_probs = torch.full((5, 100, 2, K), 1 / K).log()
    config = mle_config(steps=40)
    block = kl_sampling_errors(obs, actions, log_probs, (K, K), SeedStreams(range(5)), (3,), config)
    alone = kl_sampling_errors(obs[3:4], actions[3:4], log_probs[3:4], (K, K), SeedStreams([3]), (3,), config)
    assert torch.equal(block[0][3:4], alone[0]) and torch.equal(block[1][3:4], alone[1])
