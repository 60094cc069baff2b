"""PettingZoo tasks as games (``kind: pettingzoo``): the shipped mpe2 Simple Spread and a small
ParallelEnv written here (``relay_env``) whose every number is known, through the batched core,
the PettingZoo tests, the spec errors and the premise command.

Training with every sampler, alone and in a block (the block-invariance contract), is
tests/test_registry.py's, which covers this kind through specs/games/simple_spread.yaml.
"""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.test import parallel_api_test, parallel_seed_test

from maprops.cli import main
from maprops.games import make_game
from maprops.games.instances import reset_seed
from maprops.games.parallel_env import GameParallelEnv
from maprops.games.pettingzoo_task import AgentsOutOfStep, PettingZooGame
from maprops.kinds.pettingzoo import SuccessRule, make_env
from maprops.specs import SpecLibrary
from maprops.specs.games import GameSpec
from maprops.specs.load import load_file
from tests.helpers import located_game_spec_error

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
LIBRARY = SpecLibrary(SPECS)
SPREAD = LIBRARY.games["simple_spread"]
RELAY = "tests.test_pettingzoo_task:relay_env"


class RelayEnv(ParallelEnv):
    """Two agents, actions Discrete(3, start=1), each observes a Discrete(4) token drawn at reset.
    Each agent is paid its action; both choosing 3 ends the episode (termination); ``limit``
    steps truncate it. With ``stagger`` agent 1 alone terminates on its first step."""

    metadata = {"name": "relay_v0", "render_modes": []}
    render_mode = None

    def __init__(self, limit: int = 4, stagger: bool = False):
        self.possible_agents = ["a", "b"]
        self.agents = []
        self.limit, self.stagger = limit, stagger
        self._obs = {a: spaces.Discrete(4) for a in self.possible_agents}
        self._act = {a: spaces.Discrete(3, start=1) for a in self.possible_agents}
        self._rng = np.random.default_rng()

    def observation_space(self, agent):
        return self._obs[agent]

    def action_space(self, agent):
        return self._act[agent]

    def reset(self, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents, self._t = list(self.possible_agents), 0
        self._token = int(self._rng.integers(4))
        return {a: self._token for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self._t += 1
        both = all(actions[a] == 3 for a in self.agents)
        term = {a: both or (self.stagger and a == "b") for a in self.agents}
        trunc = {a: self._t >= self.limit for a in self.agents}
        rewards = {a: float(actions[a]) for a in self.agents}
        obs = {a: self._token for a in self.agents}
        self.agents = [a for a in self.agents if not (term[a] or trunc[a])]
        return obs, rewards, term, trunc, {a: {} for a in obs}


def relay_env(**kwargs):
    return RelayEnv(**kwargs)


class MisshapedEnv(RelayEnv):
    """Declares a Box of 3 numbers per agent but observes 4: the mismatch the spec check catches."""

    def observation_space(self, agent):
        return spaces.Box(0.0, 1.0, (3,), np.float32)

    def reset(self, seed=None, options=None):
        _, infos = super().reset(seed, options)
        return {a: np.zeros(4, np.float32) for a in self.agents}, infos


def misshaped_env(**kwargs):
    return MisshapedEnv()


def relay(success, max_episode_steps=10, **kwargs):
    return PettingZooGame(env=RELAY, kwargs=kwargs, max_episode_steps=max_episode_steps, success=success)


def spread():
    return make_game(SPREAD.to_config())


def uniforms(*shape, value=0.0):
    return torch.full(shape, value, dtype=torch.float64)


def act(game, *actions, u=0.5):
    return game.step(torch.tensor([[list(actions)]]), uniforms(1, 1, 1, value=u))


# -- the shipped task ---------------------------------------------------------------------------


def test_the_shipped_task_passes_pettingzoo_api_and_seed_tests():
    """The configured environment itself, and our core shown as a ParallelEnv again."""
    parallel_api_test(make_env(SPREAD.env, SPREAD.kwargs), num_cycles=60)
    parallel_seed_test(lambda: make_env(SPREAD.env, SPREAD.kwargs))
    parallel_api_test(GameParallelEnv(spread(), "simple_spread"), num_cycles=60)
    parallel_seed_test(lambda: GameParallelEnv(spread(), "simple_spread"))


def test_shape_of_the_shipped_task():
    game = spread()
    assert (game.n_agents, game.n_actions, game.n_joint_actions, game.obs_dim) == (2, (5, 5), 25, 12)
    assert game.max_episode_steps == 25 and game.obs_bounds == (-np.inf, np.inf)
    assert (LIBRARY.games["simple_spread"].kind, make_game(SPREAD.to_config()).agents) == ("pettingzoo", ("agent_0", "agent_1"))


def test_steps_and_auto_resets_are_those_of_a_plain_env():
    """Observations, rewards and episode ends equal one env stepped by hand with the same seeds
    and actions; every automatic reset is a fresh ``reset(seed)`` from that step's uniform."""
    game = spread()
    gen = torch.Generator().manual_seed(0)
    u0 = torch.rand(1, 1, 1, generator=gen, dtype=torch.float64)
    obs = game.reset((1, 1), u0)
    plain = make_env(SPREAD.env, SPREAD.kwargs)
    plain_obs, _ = plain.reset(seed=reset_seed(float(u0)))
    assert np.array_equal(obs[0, 0].numpy(), np.stack([plain_obs[a] for a in plain.possible_agents]))
    episodes = 0
    for _ in range(60):
        actions = torch.randint(0, 5, (1, 1, 2), generator=gen)
        u = torch.rand(1, 1, 1, generator=gen, dtype=torch.float64)
        result = game.step(actions, u)
        o, r, _, trunc, _ = plain.step(dict(zip(plain.possible_agents, actions[0, 0].tolist())))
        assert result.rewards[0, 0].tolist() == pytest.approx([r[a] for a in plain.possible_agents])
        assert bool(result.done[0, 0]) == (not plain.agents)
        if not plain.agents:
            episodes += 1
            assert bool(result.truncated[0, 0]) == all(trunc.values())
            o, _ = plain.reset(seed=reset_seed(float(u)))
        assert np.array_equal(result.obs[0, 0].numpy(), np.stack([o[a] for a in plain.possible_agents]))
    assert episodes == 2  # random agents never cover both landmarks: every episode runs its 25 steps


def test_a_seeded_reset_replays_on_a_reused_instance_and_within_any_block():
    """An entry's reset depends on its uniform alone: a reused instance resets as a new one does,
    and an entry's observations are the same whatever the batch around it."""
    game = spread()
    first = game.reset((1, 1), uniforms(1, 1, 1, value=0.25))
    for _ in range(7):
        act(game, 1, 4)
    assert torch.equal(game.reset((1, 1), uniforms(1, 1, 1, value=0.25)), first)
    u = torch.tensor([[[0.9], [0.25]], [[0.1], [0.6]]], dtype=torch.float64)
    assert torch.equal(spread().reset((2, 2), u)[0, 1], first[0, 0])
    assert not torch.equal(spread().reset((1, 1), uniforms(1, 1, 1, value=0.26)), first)


def covered(game):
    """Put every agent of the single entry on a landmark of its own."""
    world = game.envs[0].unwrapped.world
    for agent, landmark in zip(world.agents, world.landmarks):
        agent.state.p_pos = landmark.state.p_pos.copy()


def test_the_shipped_rule_a_team_return_of_minus_10():
    """Covering both landmarks at once ends the episode with a return near 0: a success; random
    agents run out their 25 steps far from the landmarks and fail."""
    game = spread()
    assert game.success == SuccessRule(team_return_at_least=-10.0)
    game.reset((1, 1), uniforms(1, 1, 1))
    covered(game)
    result = act(game, 0, 0)  # no-op: both stay on their landmarks, the package terminates
    assert bool(result.done) and bool(result.success) and not bool(result.truncated)
    game.reset((1, 1), uniforms(1, 1, 1, value=0.5))
    for t in range(25):
        result = act(game, 1, 1)  # both keep moving left
        assert bool(result.done) == (t == 24)
    assert bool(result.truncated) and not bool(result.success)


def test_the_packages_own_cover_through_the_terminated_rule():
    """With ``success: {terminated: true}`` a cover is a success and the time limit is not."""
    game = PettingZooGame(env=SPREAD.env, kwargs=SPREAD.kwargs, max_episode_steps=25, success={"terminated": True})
    game.reset((1, 1), uniforms(1, 1, 1))
    covered(game)
    result = act(game, 0, 0)
    assert bool(result.done) and bool(result.success) and not bool(result.truncated)
    for t in range(25):
        result = act(game, 0, 0)
        assert bool(result.done) == (t == 24)
    assert bool(result.truncated) and not bool(result.success)


def test_a_pickled_core_resumes_mid_episode_exactly():
    """Snapshots pickle the core; the env's own pickling would restart its episodes, so the core
    replays each entry's episode so far when it is loaded."""
    game = spread()
    game.reset((2, 1), uniforms(2, 1, 1, value=0.3))
    gen = torch.Generator().manual_seed(1)
    steps = [
        (torch.randint(0, 5, (2, 1, 2), generator=gen), torch.rand(2, 1, 1, generator=gen, dtype=torch.float64))
        for _ in range(40)
    ]
    for actions, u in steps[:30]:  # one episode ended at step 25: the replay covers the new one's 5 steps
        game.step(actions, u)
    loaded = pickle.loads(pickle.dumps(game))
    for actions, u in steps[30:]:
        a, b = game.step(actions, u), loaded.step(actions, u)
        assert torch.equal(a.obs, b.obs) and torch.equal(a.rewards, b.rewards) and torch.equal(a.done, b.done)


# -- the core on a task whose numbers are known ------------------------------------------------------


def test_actions_are_offset_observations_flattened_and_the_team_return_sums_mean_rewards():
    game = relay({"team_return_at_least": 5.0})
    assert (game.n_actions, game.obs_dim, game.obs_bounds) == ((3, 3), 4, (0.0, 1.0))
    obs = game.reset((1, 1), uniforms(1, 1, 1))
    token = np.random.default_rng(reset_seed(0.0)).integers(4)
    assert obs[0, 0].tolist() == [np.eye(4)[token].tolist()] * 2  # Discrete(4) -> one-hot
    first = act(game, 0, 1)  # env actions 1 and 2: rewards 1 and 2, team reward 1.5
    assert first.rewards[0, 0].tolist() == [1.0, 2.0] and not bool(first.done)
    ended = act(game, 2, 2)  # both choose 3: terminated, team return 1.5 + 3 = 4.5 < 5
    assert bool(ended.done) and not bool(ended.truncated) and not bool(ended.success)
    act(game, 1, 1)
    assert bool(act(game, 2, 2).success)  # 2 + 3 = 5 >= 5: the return restarted with the episode


def test_the_success_rules():
    assert SuccessRule(terminated=True).solved(True, -100.0) and not SuccessRule(terminated=True).solved(False, 100.0)
    rule = SuccessRule(team_return_at_least=-2.5)
    assert rule.solved(False, -2.5) and not rule.solved(True, -2.6)
    with pytest.raises(ValueError, match="declare exactly one success rule"):
        SuccessRule()
    with pytest.raises(ValueError, match="declare exactly one success rule"):
        SuccessRule(terminated=True, team_return_at_least=0.0)


def test_the_spec_time_limit_ends_episodes_the_env_would_continue():
    game = relay({"terminated": True}, max_episode_steps=3, limit=100)
    game.reset((1, 1), uniforms(1, 1, 1))
    ends = [bool(act(game, 0, 0).done) for _ in range(6)]
    assert ends == [False, False, True, False, False, True]


def test_agents_that_leave_at_different_steps_are_refused():
    game = relay({"terminated": True}, stagger=True)
    game.reset((1, 1), uniforms(1, 1, 1))
    with pytest.raises(AgentsOutOfStep, match=r"ended the episode of \['b'\] but not of every agent"):
        act(game, 0, 0)


def test_a_known_task_through_the_pettingzoo_tests():
    parallel_api_test(GameParallelEnv(relay({"terminated": True}), "relay"), num_cycles=30)
    parallel_seed_test(lambda: GameParallelEnv(relay({"terminated": True}), "relay"))


# -- bad specs ---------------------------------------------------------------------------------------


SPEC = """kind: pettingzoo
name: task
title: Task
hyperparams: gridworld
env: "mpe2.simple_spread_v3:parallel_env"
kwargs: {N: 2, continuous_actions: false}
max_episode_steps: 25
success: {terminated: true}
budget: {total_steps: 512}
"""


def spec_errors(tmp_path, old: str, new: str):
    """The one located error of the spec above with ``old`` replaced by ``new``: (field, message)."""
    return located_game_spec_error(tmp_path, SPEC, old, new)


def test_the_minimal_spec_is_valid(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text(SPEC)
    assert load_file(path, GameSpec)[0].to_config().kwargs == {"N": 2, "continuous_actions": False}


ENV = 'env: "mpe2.simple_spread_v3:parallel_env"'


@pytest.mark.parametrize(
    "old, new, field, message",
    [
        (ENV, "env: mpe2.simple_spread_v3", "env", "must be an import path and a factory name, 'package.module:factory'"),
        (ENV, 'env: "mpe3.simple_spread_v3:parallel_env"', "env", "cannot import 'mpe3.simple_spread_v3'"),
        (ENV, 'env: "mpe3.simple_spread_v3:parallel_env"', "env", "try `pip install mpe3`"),
        (ENV, 'env: "mpe2.simple_spread_v3:parallel_envs"', "env", "no factory 'parallel_envs'; did you mean 'parallel_env'?"),
        (ENV, 'env: "mpe2.simple_spread_v3:env"', "env", "returns an AEC environment; this kind needs a ParallelEnv"),
        (
            'simple_spread_v3:parallel_env"\nkwargs: {N: 2, ',
            'simple_speaker_listener_v4:parallel_env"\nkwargs: {',
            "env",
            "agents' action spaces differ (speaker_0: Discrete(3), listener_0: Discrete(5))",
        ),
        (
            'simple_spread_v3:parallel_env"\nkwargs: {N: 2, continuous_actions: false',
            'simple_speaker_listener_v4:parallel_env"\nkwargs: {continuous_actions: true',
            "env",
            "this kind needs the same Box for every agent",
        ),
        (
            ENV,
            'env: "tests.test_pettingzoo_task:misshaped_env"',
            "env",
            "agent 'a' observes (4,) at reset but declares Box(0.0, 1.0, (3,), float32)",
        ),
        ("{N: 2,", "{agents: 2,", "kwargs", "mpe2.simple_spread_v3:parallel_env(**kwargs) failed: TypeError:"),
        ("{N: 2,", "{render_mode: human, N: 2,", "kwargs", "training never renders"),
        ("success: {terminated: true}", "success: {}", "success", "declare exactly one success rule"),
        ("success: {terminated: true}", "success: {terminated: false}", "success.terminated", "Input should be True"),
    ],
)
def test_bad_specs_name_the_file_line_and_field(tmp_path, old, new, field, message):
    got_field, got_message = spec_errors(tmp_path, old, new)
    assert got_field == field and message in got_message, got_message


def test_reading_specs_imports_the_task_but_never_torch():
    code = "import sys; from maprops.specs import SpecLibrary; SpecLibrary('specs'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# -- commands that need what a PettingZoo task does not declare -------------------------------------


def test_premise_skips_the_task_among_all_games_and_refuses_it_by_name(capsys):
    assert main(["premise", "--episodes", "2", "--specs", str(SPECS)]) == 0
    out = capsys.readouterr().out.splitlines()
    skipped = ", ".join(sorted(name for name, game in SpecLibrary(SPECS).games.items() if game.kind in ("pettingzoo", "vmas")))
    assert f"# skipped, no cooperative action declared: {skipped}" in out
    assert {"simple_spread", "simple_spread_continuous", "dispersion"} <= set(skipped.split(", "))
    assert not any(line.startswith("simple_spread") for line in out) and any(line.startswith("lbf/") for line in out)
    assert main(["premise", "simple_spread", "--specs", str(SPECS)]) == 2
    assert "'simple_spread': no cooperative action declared (game kind 'pettingzoo'), nothing to check" in capsys.readouterr().err
