"""PROPS and MA-PROPS behave as Algorithms 1-2 say (docs/implementation.md#behavior-update)."""

import math

import pytest
import torch

from maprops.config import sampler_config
from maprops.joint_actions import joint_log_probs
from maprops.policies import Actors
from maprops.rng import SeedStreams
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import behavior_loss
from maprops.samplers.ma_props import MaPropsSampler, _CentralizedPolicy
from maprops.samplers.props import PropsSampler, _ProductPolicy

S, N, K, D = 3, 2, 3, 4


def _setup(m: int = 6):
    rng = SeedStreams(range(S))
    actors = Actors(D, K, N, (16, 16))
    theta = actors.init(rng)
    theta += 0.3 * torch.randn_like(theta, generator=torch.Generator().manual_seed(0))  # non-uniform target
    obs = torch.randn(S, m, N, D, generator=torch.Generator().manual_seed(1))
    target_lp = actors.log_probs(theta, obs)
    actions = torch.randint(0, K, (S, m, N), generator=torch.Generator().manual_seed(2))
    return rng, actors, theta, BehaviorData(obs=obs, actions=actions, target_log_probs=target_lp)


def _check_gradient_matches_autograd(policy, params, target_log_prob, clip=0.3):
    idx = torch.tensor([[0, 2, 5], [1, 1, 4], [3, 0, 2]])
    seeds = torch.arange(S)[:, None]
    log_prob, ctx = policy.log_prob(params, idx)
    ratio = (log_prob - target_log_prob[seeds, idx]).exp()
    d = ratio * (ratio >= 1 - clip) / idx.shape[1]
    manual = torch.zeros_like(params)
    policy.backward(params, ctx, d, manual)

    leaf = params.clone().requires_grad_(True)
    lp, _ = policy.log_prob(leaf, idx)
    behavior_loss((lp - target_log_prob[seeds, idx]).exp(), clip).sum().backward()
    assert torch.allclose(manual, leaf.grad, atol=1e-6)


def test_props_gradient_is_the_gradient_of_eq3():
    rng, actors, theta, data = _setup()
    target = data.target_log_probs.gather(-1, data.actions.unsqueeze(-1)).squeeze(-1).sum(-1)
    phi = theta + 0.2 * torch.randn_like(theta, generator=torch.Generator().manual_seed(3))  # ratios off 1, some clipped
    _check_gradient_matches_autograd(_ProductPolicy(actors, data.obs, data.actions), phi, target)


def test_ma_props_gradient_is_the_gradient_of_eq3():
    rng, actors, theta, data = _setup()
    sampler = MaPropsSampler(sampler_config("ma_props", hidden_sizes=(16, 16)), D, (K,) * N, rng)
    policy = _CentralizedPolicy.of_buffer(sampler.mlp, data, (K,) * N)
    target = policy.target_logits.gather(-1, policy.joint_actions).squeeze(-1)
    params = torch.randn_like(sampler.params, generator=torch.Generator().manual_seed(4)) * 0.3
    _check_gradient_matches_autograd(policy, params, target)


def test_ma_props_behavior_equals_target_right_after_reset():
    rng, actors, theta, data = _setup()
    sampler = MaPropsSampler(sampler_config("ma_props", hidden_sizes=(16, 16)), D, (K,) * N, rng)
    sampler.update(theta, data, (0, 0))  # trains Delta away from zero ...
    obs, target_lp = data.obs, data.target_log_probs
    assert not torch.allclose(torch.softmax(sampler.joint_logits(obs, target_lp), -1), joint_log_probs(target_lp).exp())
    sampler.reset_to_target()  # ... and the reset makes pi_phi == pi_theta exactly
    behavior = torch.softmax(sampler.joint_logits(obs, target_lp), -1)
    target = torch.softmax(joint_log_probs(target_lp), -1)
    assert torch.equal(behavior, target)


def _uniform_single_state(seen_joint_action: tuple[int, int]):
    """Uniform 2-agent, 2-action target; the buffer holds one joint action seen 4 times."""
    rng = SeedStreams([0])
    actors = Actors(1, 2, 2, (64, 64))
    theta = torch.zeros(2, actors.mlp.num_params)  # all-zero actors: exactly uniform
    obs = torch.ones(1, 4, 2, 1)
    actions = torch.tensor(seen_joint_action).expand(1, 4, 2)
    lp = actors.log_probs(theta, obs)
    return rng, actors, theta, BehaviorData(obs=obs, actions=actions, target_log_probs=lp)


def test_ma_props_raises_under_sampled_joint_actions():
    rng, actors, theta, data = _uniform_single_state((0, 1))
    sampler = MaPropsSampler(sampler_config("ma_props"), 1, (2, 2), rng)
    sampler.update(theta, data, (0, 0))
    probs = torch.softmax(sampler.joint_logits(data.obs[:, :1], data.target_log_probs[:, :1]), -1)[0, 0]
    assert probs[1] < 0.25 - 0.01  # (A, B) was over-sampled
    assert all(probs[i] > 0.25 for i in (0, 2, 3))  # (A, A), (B, A), (B, B) were not
    assert math.isclose(probs.sum().item(), 1.0, rel_tol=1e-6)


def test_props_lowers_each_agents_sampled_action_but_not_jointly():
    rng, actors, theta, data = _uniform_single_state((0, 1))
    sampler = PropsSampler(sampler_config("props"), actors, theta, rng)
    sampler.update(theta, data, (0, 0))
    per_agent = actors.log_probs(sampler.params, data.obs[:, :1]).exp()[0, 0]  # [N, K]
    assert per_agent[0, 0] < 0.5 and per_agent[1, 1] < 0.5  # each agent's own seen action drops
    joint = joint_log_probs(per_agent.log()).exp()
    assert joint[2] > joint[0] and joint[2] > joint[3]  # (B, A) gains most: a product can't target (A, A)


def test_kl_cutoff_stops_the_update():
    rng, actors, theta, data = _uniform_single_state((0, 1))
    loose = MaPropsSampler(sampler_config("ma_props", target_kl=None), 1, (2, 2), rng)
    tight = MaPropsSampler(sampler_config("ma_props", target_kl=1e-4), 1, (2, 2), rng)
    loose.update(theta, data, (0, 0))
    tight.update(theta, data, (0, 0))
    assert tight.steps_taken < loose.steps_taken == 16 * 4


def _kl_stopped_update(kind, seeds, compact_when, monkeypatch):
    """A behavior update whose KL cut-off stops the seeds at different steps."""
    import maprops.samplers.behavior_update as bu

    monkeypatch.setattr(bu, "COMPACT_WHEN", compact_when)
    compactions = []
    original = bu.WorkingSeeds.compact_if_sparse

    def counting(self):
        before = self.ids
        original(self)
        compactions.extend([len(self.ids)] if self.ids is not before else [])

    monkeypatch.setattr(bu.WorkingSeeds, "compact_if_sparse", counting)
    rng = SeedStreams(seeds)
    m = 24
    gen = torch.Generator().manual_seed(3)
    obs = torch.randn(12, m, N, D, generator=gen)[seeds]  # a seed's buffer does not depend on its block
    actions = torch.randint(0, K, (12, m, N), generator=gen)[seeds]
    actors = Actors(D, K, N, (16, 16))
    theta = actors.init(rng)
    data = BehaviorData(obs=obs, actions=actions, target_log_probs=actors.log_probs(theta, obs))
    config = sampler_config(kind, target_kl=0.02, learning_rate=0.05)
    if kind == "props":
        sampler = PropsSampler(config, actors, theta, rng)
    else:
        sampler = MaPropsSampler(config, D, (K,) * N, rng)
    sampler.update(theta, data, (0, 0))
    return sampler, compactions


@pytest.mark.parametrize("kind", ["props", "ma_props"])
def test_compacting_stopped_seeds_changes_no_number(kind, monkeypatch):
    seeds = list(range(12))
    compacted, sizes = _kl_stopped_update(kind, seeds, 0.75, monkeypatch)
    masked, none = _kl_stopped_update(kind, seeds, 0.0, monkeypatch)
    assert sizes and not none  # the cut-off did stop seeds, and only the first run compacted
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < len(seeds)
    for name in ("exp_avg", "exp_avg_sq", "steps"):
        assert torch.equal(getattr(compacted.optimizer, name), getattr(masked.optimizer, name))
    assert torch.equal(compacted.params, masked.params)
    assert len(set(compacted.optimizer.steps.tolist())) > 1  # seeds stopped at different steps

    few = [2, 5, 7]
    alone, _ = _kl_stopped_update(kind, few, 0.75, monkeypatch)
    rows = compacted.params.view(len(seeds), -1)[few]
    assert torch.equal(alone.params.view(len(few), -1), rows)


def _buffer_over_states(n_seeds=4, m=12, n_states=3):
    """A buffer whose samples are drawn from a few states, and the same buffer with state ids."""
    gen = torch.Generator().manual_seed(4)
    state_obs = torch.randn(n_states, N, D, generator=gen)
    states = torch.randint(0, n_states, (n_seeds, m), generator=gen)
    actions = torch.randint(0, K, (n_seeds, m, N), generator=gen)
    rng = SeedStreams(range(n_seeds))
    actors = Actors(D, K, N, (16, 16))
    theta = actors.init(rng)
    theta += 0.3 * torch.randn_like(theta, generator=gen)
    obs = state_obs[states]
    plain = BehaviorData(obs=obs, actions=actions, target_log_probs=actors.log_probs(theta, obs))
    tabled = BehaviorData(plain.obs, plain.actions, plain.target_log_probs, states, state_obs)
    return rng, actors, theta, plain, tabled


def _log_prob_and_grad(policy, params, idx):
    log_prob, ctx = policy.log_prob(params, idx)
    grad = torch.zeros_like(params)
    policy.backward(params, ctx, torch.linspace(-1, 1, idx.numel()).view_as(log_prob), grad)
    return log_prob, grad


@pytest.mark.parametrize("kind", ["props", "ma_props"])
def test_per_state_evaluation_equals_per_sample(kind):
    rng, actors, theta, plain, tabled = _buffer_over_states()
    idx = rng.permutations((0,), 12)[:, :6]  # 6 samples > 3 states: the table path
    if kind == "props":
        policies = [_ProductPolicy(actors, d.obs, d.actions, d.states, d.state_obs) for d in (plain, tabled)]
        params = theta
    else:
        sampler = MaPropsSampler(sampler_config("ma_props"), D, (K,) * N, rng)
        params = sampler.params + 0.1 * torch.randn_like(sampler.params, generator=torch.Generator().manual_seed(5))
        policies = [_CentralizedPolicy.of_buffer(sampler.mlp, d, (K,) * N) for d in (plain, tabled)]
    (lp_plain, g_plain), (lp_table, g_table) = (_log_prob_and_grad(p, params, idx) for p in policies)
    assert policies[1].n_states == 3
    assert torch.allclose(lp_plain, lp_table, atol=1e-6)
    assert torch.allclose(g_plain, g_table, atol=1e-6)
    assert not torch.equal(g_plain, torch.zeros_like(g_plain))
