"""Continuous actions (paper Appendix D, beyond its experiments): the Gaussian head, PROPS and
MA-PROPS with Gaussian behavior policies, the Gaussian KL sampling error, Box actions in the
pettingzoo kind and its spec errors.

Training the shipped continuous game with every sampler, alone and in a block, is
tests/test_registry.py's.
"""

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv

from maprops.action_heads import GaussianHead, joint_gaussian, standard_normal
from maprops.config import mle_config, sampler_config
from maprops.games import make_game
from maprops.games.pettingzoo_task import PettingZooGame
from maprops.kinds.pettingzoo import PettingZooParams
from maprops.kl_error import gaussian_kl_sampling_errors
from maprops.policies import GaussianActors
from maprops.rng import SeedStreams, Tag
from maprops.samplers.base import BehaviorData
from maprops.samplers.gaussian import GaussianMaPropsSampler, GaussianPropsSampler
from maprops.specs import SpecLibrary
from maprops.specs.errors import SpecErrors
from maprops.specs.figures import FigureSpec, Panel
from maprops.specs.overrides import OverrideError
from tests.helpers import copy_workflow, edit

SPECS = Path(__file__).resolve().parents[1] / "specs"
LIBRARY = SpecLibrary(SPECS)
GAME = "simple_spread_continuous"
PUSH = "tests.test_continuous:push_env"


class PushEnv(ParallelEnv):
    """Two agents; each observes the other's last action and is paid its own first action
    component as the env receives it. ``spaces`` picks the action spaces: ``box`` (both
    Box(-1, 1, (2,))), ``mixed`` (a Box and a Discrete), ``matrix`` (2-D Boxes), ``differ``
    (bounds differ between agents)."""

    metadata = {"name": "push_v0", "render_modes": []}
    render_mode = None

    def __init__(self, kind: str = "box"):
        self.possible_agents = ["a", "b"]
        self.agents = []
        box = spaces.Box(-1.0, 1.0, (2,), np.float32)
        other = {
            "box": box,
            "mixed": spaces.Discrete(3),
            "matrix": spaces.Box(-1.0, 1.0, (2, 2), np.float32),
            "differ": spaces.Box(-2.0, 2.0, (2,), np.float32),
        }[kind]
        first = other if kind == "matrix" else box
        self._act = {"a": first, "b": other}
        self._obs = {a: spaces.Box(-np.inf, np.inf, (2,), np.float32) for a in self.possible_agents}
        self.received = []  # every joint action the env was given

    def observation_space(self, agent):
        return self._obs[agent]

    def action_space(self, agent):
        return self._act[agent]

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        return {a: np.zeros(2, np.float32) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self.received.append({a: np.array(actions[a]) for a in self.agents})
        obs = {"a": np.asarray(actions["b"], np.float32), "b": np.asarray(actions["a"], np.float32)}
        rewards = {a: float(actions[a][0]) for a in self.agents}
        flags = {a: False for a in self.agents}
        return obs, rewards, flags, dict(flags), {a: {} for a in self.agents}


def push_env(**kwargs):
    return PushEnv(**kwargs)


def push_game(kind: str = "box") -> PettingZooGame:
    return PettingZooGame(env=PUSH, kwargs={"kind": kind}, max_episode_steps=50, success={"team_return_at_least": 1.0})


# -- the Gaussian head ---------------------------------------------------------------------------


def test_gaussian_log_prob_entropy_and_samples_match_torch_distributions():
    torch.manual_seed(0)
    head = GaussianHead(3)
    params = torch.randn(4, 5, 6)
    actions = torch.randn(4, 5, 3) * 2
    mean, log_std = params[..., :3], params[..., 3:]
    normal = torch.distributions.Normal(mean, log_std.exp())
    assert torch.allclose(head.log_prob(params, actions), normal.log_prob(actions).sum(-1), atol=1e-5)
    assert torch.allclose(head.entropy(params), normal.entropy().sum(-1), atol=1e-6)
    u = torch.rand(4, 5, 3, dtype=torch.float64)
    expected = normal.icdf(u.float())
    assert torch.allclose(head.sample(params, u), expected, atol=1e-4)
    assert torch.isfinite(standard_normal(torch.zeros(1, dtype=torch.float64))).all()  # u = 0 is a possible uniform


def test_joint_gaussian_orders_dimensions_as_flattened_actions():
    per_agent = torch.tensor([[1.0, 2.0, 10.0, 20.0], [3.0, 4.0, 30.0, 40.0]])  # N = 2, A = 2
    assert joint_gaussian(per_agent).tolist() == [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0]


# -- PROPS and MA-PROPS with Gaussian behavior policies --------------------------------------------


def _setup(seeds=(0, 1), m=32, shift=0.0):
    """Gaussian actors (2 agents, 3 action dims), a buffer of ``m`` samples whose actions are
    the target's means plus ``shift`` plus a little noise, and the target parameters."""
    rng = SeedStreams(seeds)
    head = GaussianHead(3)
    actors = GaussianActors(4, head, 2, (16, 16))
    theta = actors.init(rng)
    obs = rng.uniform((50,), (m, 2, 4)).float()
    dist = actors.dist(theta, obs)
    noise = 0.1 * standard_normal(rng.uniform((51,), (m, 2, 3))).float()
    actions = dist[..., :3] + shift + noise
    return rng, actors, theta, BehaviorData(obs=obs, actions=actions, target_log_probs=dist)


def _samplers(rng, actors, theta, **settings):
    config = sampler_config("props", learning_rate=0.01, target_kl=None, **settings)
    props = GaussianPropsSampler(config, actors, theta, rng)
    ma = GaussianMaPropsSampler(sampler_config("ma_props", learning_rate=0.01, target_kl=None), 4, 2, 3, rng)
    return props, ma


def test_behavior_equals_target_at_every_reset():
    """At a reset both samplers draw exactly the on-policy actions, and their log-probs of the
    buffer equal the target's, before and after an update."""
    rng, actors, theta, data = _setup()
    props, ma = _samplers(rng, actors, theta)
    u = rng.uniform((52,), (1, 2, 3))
    obs = data.obs[:, :1]
    target = actors.dist(theta, obs)
    on_policy = actors.head.sample(target, u)
    for _ in range(2):
        props.reset_to_target(theta)
        ma.reset_to_target(theta)
        assert torch.equal(props.act(obs, target, u), on_policy)
        assert torch.equal(ma.act(obs, target, u), on_policy)
        assert torch.equal(actors.dist(props.params, data.obs), actors.dist(theta, data.obs))
        joint = joint_gaussian(data.target_log_probs)
        assert torch.equal(ma.joint_params(data.obs, data.target_log_probs), joint)
        props.update(theta, data, (0, 0))
        ma.update(theta, data, (0, 0))
        assert not torch.equal(props.act(obs, target, u), on_policy)  # the updates moved the behavior
        assert not torch.equal(ma.act(obs, target, u), on_policy)


def test_an_update_moves_the_behavior_mean_away_from_over_sampled_actions():
    """A buffer whose actions all lie above the target's means: the behavior's means move down
    (both samplers), so the next actions favour the under-sampled side."""
    rng, actors, theta, data = _setup(shift=0.5)
    props, ma = _samplers(rng, actors, theta)
    props.update(theta, data, (0, 0))
    ma.update(theta, data, (0, 0))
    target_mean = data.target_log_probs[..., :3]
    props_shift = actors.dist(props.params, data.obs)[..., :3] - target_mean
    ma_shift = (ma.joint_params(data.obs, data.target_log_probs) - joint_gaussian(data.target_log_probs))[..., :6]
    assert (props_shift.mean((1, 2, 3)) < -0.01).all(), props_shift.mean((1, 2, 3))
    assert (ma_shift.mean((1, 2)) < -0.01).all(), ma_shift.mean((1, 2))


# -- sampling error ------------------------------------------------------------------------------


def _kl_case(mu: float, sigma: float, m: int = 4096):
    """One state; target N(0, 1) in each of 2 agents x 1 dimension; the buffer drawn from N(mu, sigma)."""
    rng = SeedStreams([0, 1])
    obs = torch.ones(2, m, 2, 3)
    actions = mu + sigma * standard_normal(rng.uniform((60,), (m, 2, 1))).float()
    target = torch.zeros(2, m, 2, 2)
    return gaussian_kl_sampling_errors(obs, actions, target, GaussianHead(1), rng, (Tag.SAMPLING_ERROR_FIT, 0), mle_config())


@pytest.mark.parametrize(("mu", "sigma"), [(0.5, 1.0), (1.0, 0.5)])
def test_gaussian_kl_estimate_matches_the_exact_divergence(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) = log(1/sigma) + (sigma^2 + mu^2)/2 - 1/2 per dimension:
    the joint estimate is twice it (two agents), agent 1's once (the shipped MLE settings)."""
    joint, agent1 = _kl_case(mu, sigma)
    exact = math.log(1 / sigma) + (sigma**2 + mu**2) / 2 - 0.5
    assert torch.allclose(agent1, torch.full_like(agent1, exact), atol=0.05), (agent1, exact)
    assert torch.allclose(joint, torch.full_like(joint, 2 * exact), atol=0.08), (joint, 2 * exact)


def test_gaussian_kl_estimate_is_near_zero_for_an_on_policy_buffer():
    joint, agent1 = _kl_case(0.0, 1.0)
    assert joint.abs().max() < 0.01 and agent1.abs().max() < 0.01, (joint, agent1)


# -- the game core: clipping and snapshots ---------------------------------------------------------


def test_the_env_receives_actions_clipped_to_its_bounds_and_the_learner_the_raw_ones():
    game = push_game()
    assert (game.n_actions, game.action_dim, game.action_bounds) == (None, 2, ((-1.0, -1.0), (1.0, 1.0)))
    game.reset((1, 1), torch.zeros(1, 1, 1, dtype=torch.float64))
    raw = torch.tensor([[[[3.0, -0.25], [-7.5, 0.5]]]])
    result = game.step(raw, torch.zeros(1, 1, 1, dtype=torch.float64))
    received = game.envs[0].received[-1]
    assert received["a"].tolist() == [1.0, -0.25] and received["b"].tolist() == [-1.0, 0.5]
    assert received["a"].dtype == np.float32
    assert result.rewards.tolist() == [[[1.0, -1.0]]]  # paid on the clipped action
    assert raw.tolist() == [[[[3.0, -0.25], [-7.5, 0.5]]]]  # the engine's own copy is untouched


def test_a_snapshot_replays_float_actions_exactly():
    """A pickled core mid-episode continues bit for bit as the original (mpe2 Simple Spread)."""
    game = make_game(LIBRARY.games[GAME].to_config())
    u = torch.full((2, 1, 1), 0.25, dtype=torch.float64)
    game.reset((2, 1), u)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        game.step(torch.randn(2, 1, 2, 5, generator=gen) * 0.7 + 0.5, u)
    copy = pickle.loads(pickle.dumps(game))
    for _ in range(5):
        actions = torch.randn(2, 1, 2, 5, generator=gen) * 0.7 + 0.5
        a, b = game.step(actions, u), copy.step(actions, u)
        assert torch.equal(a.obs, b.obs) and torch.equal(a.rewards, b.rewards)


# -- spec errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("mixed", "mix Discrete and Box"),
        ("matrix", "needs a one-dimensional float Box"),
        ("differ", "this kind needs the same Box for every agent"),
    ],
)
def test_unusable_box_action_spaces_are_refused(kind, message):
    with pytest.raises(ValueError, match=message):
        PettingZooParams(env=PUSH, kwargs={"kind": kind}, max_episode_steps=5, success={"team_return_at_least": 0})
    assert PettingZooParams(
        env=PUSH, kwargs={"kind": "box"}, max_episode_steps=5, success={"terminated": True}
    ).continuous_actions


def _cell(sampler: str, **overrides):
    panel = Panel(game=GAME, title=GAME, overrides=overrides)
    figure = FigureSpec(
        figure="t", title="t", algorithm="mappo", metric="success_rate", ylabel="y", samplers=(sampler,), seeds=1, panels=(panel,)
    )
    return LIBRARY.run_spec(figure, panel, sampler, LIBRARY.scale("smoke"))


def test_samplers_that_need_discrete_actions_are_refused():
    assert LIBRARY.misfit("on_policy", GAME) is None and LIBRARY.misfit("ma_props", GAME) is None
    with pytest.raises(OverrideError, match="a pairwise delta_phi needs discrete actions"):
        _cell("ma_props", **{"sampler.delta_phi": "pairwise"})
    with pytest.raises(OverrideError, match="needs a game with enumerable joint states"):
        _cell("ros")
    assert "needs discrete actions" in LIBRARY.misfit("ma_props_pairwise", GAME)


def test_a_figure_of_only_discrete_samplers_on_a_continuous_game_is_a_located_error(tmp_path):
    work = copy_workflow(tmp_path)
    edit(work / "specs/figures/fig_continuous.yaml", "samplers: [on_policy, props, ma_props]", "samplers: [ma_props_pairwise]")
    with pytest.raises(
        SpecErrors, match=r"fig_continuous.yaml:\d+: samplers.0: fits no panel of this figure: .*needs discrete actions"
    ):
        SpecLibrary(work / "specs")
