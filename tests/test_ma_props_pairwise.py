"""MA-PROPS with a pairwise (chain) Delta_phi: exact log-probs and samples, the gradient of Eq. 3,
the target at reset, the full joint head's log-probs with two agents, and block invariance."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from maprops.config import sampler_config
from maprops.joint_actions import decode_joint, encode_joint, joint_log_probs
from maprops.policies import Actors
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers.base import BehaviorData
from maprops.samplers.ma_props import MaPropsSampler, _CentralizedPolicy
from maprops.samplers.ma_props_pairwise import (
    PairwiseMaPropsSampler,
    _ChainPolicy,
    chain_log_prob,
    forward_messages,
    sample_chain,
)
from maprops.specs import SpecLibrary
from maprops.train import COLUMNS, train
from tests.helpers import tiny_spec
from tests.test_samplers import _check_gradient_matches_autograd

S, K, D = 3, 3, 4


def setup(n: int, m: int = 6):
    rng = SeedStreams(range(S))
    actors = Actors(D, K, n, (16, 16))
    theta = actors.init(rng)
    theta += 0.3 * torch.randn_like(theta, generator=torch.Generator().manual_seed(0))
    obs = torch.randn(S, m, n, D, generator=torch.Generator().manual_seed(1))
    actions = torch.randint(0, K, (S, m, n), generator=torch.Generator().manual_seed(2))
    return rng, theta, BehaviorData(obs=obs, actions=actions, target_log_probs=actors.log_probs(theta, obs))


def pairwise(n: int, rng, **settings):
    return PairwiseMaPropsSampler(
        sampler_config("ma_props", delta_phi="pairwise", hidden_sizes=(16, 16), **settings), D, (K,) * n, rng
    )


def enumerated_log_probs(unary, pair):
    """log pi_phi of every joint action by brute force: ``[..., K**N]`` in encode_joint order."""
    n = unary.shape[-2]
    every = torch.tensor(list(itertools.product(range(K), repeat=n)))  # rows in encode_joint order
    score = joint_log_probs(unary)
    for i in range(n - 1):
        score = score + pair[..., i, every[:, i], every[:, i + 1]]
    return torch.log_softmax(score, -1)


def random_chain(n: int, lead=(S, 5), seed=5):
    gen = torch.Generator().manual_seed(seed)
    unary = torch.log_softmax(torch.randn(*lead, n, K, generator=gen, dtype=torch.float64), -1)
    pair = torch.randn(*lead, n - 1, K, K, generator=gen, dtype=torch.float64)
    return unary, pair


def test_chain_log_probs_are_exact():
    for n in (2, 3, 4):
        unary, pair = random_chain(n)
        _, log_z = forward_messages(unary, pair)
        every = decode_joint(torch.arange(K**n), (K,) * n)  # [A, N]
        a = K**n
        lead = (*unary.shape[:-2], a)
        got = chain_log_prob(
            unary.unsqueeze(-3).expand(*lead, n, K),
            pair.unsqueeze(-4).expand(*lead, n - 1, K, K),
            every.expand(*lead, n),
            log_z.unsqueeze(-1),
        )
        assert torch.allclose(got, enumerated_log_probs(unary, pair), atol=1e-12)


def test_chain_samples_follow_the_chain_distribution():
    n, draws = 3, 200_000
    unary, pair = random_chain(n, lead=(1,))
    uniforms = SeedStreams([7]).uniform((0,), (draws, n))  # [1, draws, N]
    samples = sample_chain(unary.expand(draws, -1, -1)[None], pair.expand(draws, -1, -1, -1)[None], uniforms)
    freq = torch.bincount(encode_joint(samples[0], (K,) * n), minlength=K**n).double() / draws
    want = enumerated_log_probs(unary, pair)[0].exp()
    assert (freq - want).abs().max() < 0.005, (freq - want).abs().max()


def test_pairwise_gradient_is_the_gradient_of_eq3():
    rng, theta, data = setup(n=4)
    sampler = pairwise(4, rng)
    policy = _ChainPolicy(sampler.mlp, data.obs.flatten(2), data.target_log_probs, data.actions)
    target = data.target_log_probs.gather(-1, data.actions.unsqueeze(-1)).squeeze(-1).sum(-1)
    params = torch.randn_like(sampler.params, generator=torch.Generator().manual_seed(4)) * 0.3
    _check_gradient_matches_autograd(policy, params, target)


def test_pairwise_behavior_is_the_target_after_a_reset():
    n = 4
    rng, theta, data = setup(n)
    sampler = pairwise(n, rng, learning_rate=0.1)
    sampler.update(theta, data, (0, 0))
    assert sampler.params[:, sampler.mlp.last_layer].abs().max() > 0  # the update moved f_phi
    sampler.reset_to_target()
    assert torch.equal(sampler.pair_tables(data.obs), torch.zeros(S, data.size, n - 1, K, K))
    lp = data.target_log_probs
    for u in (0.05, 0.3, 0.61, 0.97):
        uniforms = torch.full((S, data.size, n), u, dtype=torch.float64)
        on_policy = sample_categorical(lp.exp(), uniforms)  # each agent from its own target policy
        assert torch.equal(sampler.act(data.obs, lp, uniforms), on_policy)


def test_an_update_lowers_the_buffers_joint_actions():
    n = 4
    rng, theta, data = setup(n, m=8)
    sampler = pairwise(n, rng, learning_rate=0.01, target_kl=None)
    sampler.update(theta, data, (0, 0))
    policy = _ChainPolicy(sampler.mlp, data.obs.flatten(2), data.target_log_probs, data.actions)
    behavior, _ = policy.log_prob(sampler.params, torch.arange(data.size).expand(S, -1))
    target = data.target_log_probs.gather(-1, data.actions.unsqueeze(-1)).squeeze(-1).sum(-1)
    assert (behavior < target).float().mean() > 0.9


def test_two_agents_pairwise_equals_the_full_joint_head_given_the_same_table():
    """With two agents the chain is one pair: the K x K table is a full joint adjustment, so the
    pairwise model's log-probs are the paper's joint head's wherever their outputs agree."""
    n = 2
    rng, theta, data = setup(n)
    full = MaPropsSampler(sampler_config("ma_props", hidden_sizes=(16, 16)), D, (K,) * n, rng)
    pair = pairwise(n, rng)
    assert full.params.shape == pair.params.shape  # K*K outputs either way
    params = torch.randn_like(full.params, generator=torch.Generator().manual_seed(6))
    idx = torch.arange(data.size).expand(S, -1)
    want, _ = _CentralizedPolicy.of_buffer(full.mlp, data, (K,) * n).log_prob(params, idx)
    got, _ = _ChainPolicy(pair.mlp, data.obs.flatten(2), data.target_log_probs, data.actions).log_prob(params, idx)
    assert torch.allclose(got, want, atol=1e-5)


def test_pairwise_keeps_a_seeds_numbers_independent_of_its_block():
    spec = tiny_spec("ma_props", iterations=2, delta_phi="pairwise")
    alone, block = train(spec, [2]), train(spec, [0, 1, 2])
    for column in COLUMNS:
        assert np.array_equal(alone[column], block[column][block["seed"] == 2]), column


def test_pairwise_is_a_run_identity_of_its_own():
    assert tiny_spec("ma_props", delta_phi="pairwise").run_id() != tiny_spec("ma_props").run_id()


def test_the_many_agent_figure_runs_the_pairwise_variant_on_six_agents():
    library = SpecLibrary(Path(__file__).resolve().parents[1] / "specs")
    samplers = {c.sampler: c.run.sampler for c in library.cells("fig_many_agents", "smoke")}
    assert samplers["ma_props_pairwise"].kind == "ma_props" and samplers["ma_props_pairwise"].delta_phi == "pairwise"
    assert "ma_props" not in samplers  # the joint head is left out at 5^6 joint actions


def test_two_agents_one_update_moves_both_heads_alike():
    """Same seeds, same initial network (same layout and init stream), same buffer: with two agents
    the pairwise gradient (indicator - pair marginal) is the joint head's (indicator - softmax), so
    one behavior update ends at the same parameters up to float rounding."""
    n = 2
    rng, theta, data = setup(n, m=16)
    settings = dict(hidden_sizes=(16, 16), learning_rate=0.01, target_kl=None, epochs=2)
    full = MaPropsSampler(sampler_config("ma_props", **settings), D, (K,) * n, rng)
    pair = pairwise(n, rng, **{k: v for k, v in settings.items() if k != "hidden_sizes"})
    assert torch.equal(full.params, pair.params)
    full.update(theta, data, (0, 0))
    pair.update(theta, data, (0, 0))
    assert full.params[:, full.mlp.last_layer].abs().max() > 1e-3
    assert torch.allclose(full.params, pair.params, atol=1e-5)


def test_agents_with_different_action_counts_are_refused():
    with pytest.raises(ValueError, match="same action count"):
        PairwiseMaPropsSampler(sampler_config("ma_props", delta_phi="pairwise"), D, (3, 4), SeedStreams([0]))
