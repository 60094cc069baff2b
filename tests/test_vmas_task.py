"""VMAS scenarios as games (``kind: vmas``): the shipped Dispersion through the batched core (one
vectorized environment for the whole block), its seeding, episode flags and snapshots, the spec
probe and the spec errors.

Training with every sampler, alone and in a block, is tests/test_registry.py's, which covers
this kind through specs/games/dispersion.yaml; a killed and resumed run, tests/test_resume.py's.
"""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from pettingzoo.test import parallel_api_test, parallel_seed_test

from maprops.cli import main
from maprops.games import make_game
from maprops.games.parallel_env import GameParallelEnv
from maprops.games.vmas_task import RandomStep, VmasGame
from maprops.kinds import vmas_probe
from maprops.kinds.package_tasks import SuccessRule
from maprops.specs import SpecLibrary
from maprops.specs.games import GameSpec
from maprops.specs.load import load_file
from tests.helpers import located_game_spec_error

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
DISPERSION = SpecLibrary(SPECS).games["dispersion"]
STAY = 0  # VMAS's discrete action 0: no force on either axis


@pytest.fixture(autouse=True)
def own_probe_cache(tmp_path, monkeypatch):
    """Probe answers of this module's specs go to a cache of the test's own."""
    monkeypatch.setenv("MAPROPS_CACHE", str(tmp_path / "cache"))


def dispersion(**changes) -> VmasGame:
    return make_game(DISPERSION.to_config().model_copy(update=changes))


def uniforms(*shape, value=0.5):
    return torch.full(shape, value, dtype=torch.float64)


def stay(game, s=1, u=0.5):
    return game.step(torch.full((s, 1, 2), STAY), uniforms(s, 1, 1, value=u))


def on_food(game, entry: int, agents=(0, 1)) -> None:
    """Put the given agents of one entry on a piece of food each."""
    world = game.env.world
    for a in agents:
        world.agents[a].set_pos(world.landmarks[a].state.pos[entry].clone(), batch_index=entry)


def rollout(game, s: int, entry: int, steps: int, snapshot_at: int | None = None):
    """Every output of entry ``entry`` over ``steps`` random steps; its uniforms and actions are
    the same whatever ``s`` is, the other entries' differ. With ``snapshot_at`` the core is
    pickled and loaded after that step."""
    others = torch.Generator().manual_seed(s)
    mine_u, mine_a = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)

    def draw(shape, gen, dtype=torch.float64):
        return torch.rand(shape, generator=gen, dtype=dtype)

    u = draw((s, 1, 1), others)
    u[entry] = draw((1, 1), mine_u)
    out = [game.reset((s, 1), u)[entry]]
    for t in range(steps):
        actions = torch.randint(0, 9, (s, 1, 2), generator=others)
        actions[entry] = torch.randint(0, 9, (1, 2), generator=mine_a)
        u = draw((s, 1, 1), others)
        u[entry] = draw((1, 1), mine_u)
        result = game.step(actions, u)
        out += [result.obs[entry], result.rewards[entry], result.done[entry], result.success[entry], result.truncated[entry]]
        if t == snapshot_at:
            game = pickle.loads(pickle.dumps(game))
    return out


# -- the shipped task -------------------------------------------------------------------------------


def test_shape_of_the_shipped_task():
    game = dispersion()
    assert (game.n_agents, game.n_actions, game.n_joint_actions, game.obs_dim) == (2, (9, 9), 81, 10)
    assert (game.max_episode_steps, game.agents, DISPERSION.kind) == (50, ("agent_0", "agent_1"), "vmas")


def test_the_core_shown_as_a_parallel_env_passes_the_pettingzoo_api_and_seed_tests():
    parallel_api_test(GameParallelEnv(dispersion(), "dispersion"), num_cycles=60)
    parallel_seed_test(lambda: GameParallelEnv(dispersion(), "dispersion"))


def test_a_seed_alone_and_in_a_block_of_three_has_the_same_trajectory():
    """The engine contract: over 120 steps (two automatic resets) an entry's observations,
    rewards and flags are the same alone as second of three, which act and reset differently."""
    alone, in_block = rollout(dispersion(), 1, 0, 120), rollout(dispersion(), 3, 1, 120)
    assert sum(bool(x) for x in alone[3::5]) == 2  # two episodes ended (time limit at 50 and 100)
    assert all(torch.equal(a, b) for a, b in zip(alone, in_block))


def test_a_pickled_core_resumes_mid_episode_exactly():
    """Snapshots pickle the core; it replays each entry's episode so far when loaded. Entry 0
    ends its first episode early (a constructed success), so the entries replay different
    lengths."""
    game, loaded = dispersion(), None
    game.reset((3, 1), torch.tensor([[[0.1]], [[0.2]], [[0.3]]], dtype=torch.float64))
    gen = torch.Generator().manual_seed(7)
    steps = [
        (torch.randint(0, 9, (3, 1, 2), generator=gen), torch.rand(3, 1, 1, generator=gen, dtype=torch.float64))
        for _ in range(90)
    ]
    for t, (actions, u) in enumerate(steps[:70]):
        if t == 10:
            on_food(game, 0)
            actions[0] = STAY
        result = game.step(actions, u)
        assert bool(result.done[0, 0]) == (t in (10, 60))
    loaded = pickle.loads(pickle.dumps(game))
    assert game._t.tolist() == [9, 20, 20]
    for actions, u in steps[70:]:
        a, b = game.step(actions, u), loaded.step(actions, u)
        assert all(torch.equal(x, y) for x, y in zip(vars(a).values(), vars(b).values()) if isinstance(x, torch.Tensor))


def test_both_pieces_eaten_ends_the_episode_as_a_success_and_restarts_it():
    game = dispersion()
    game.reset((1, 1), uniforms(1, 1, 1))
    on_food(game, 0)
    result = stay(game, u=0.75)
    assert result.rewards[0, 0].tolist() == [2.0, 2.0]  # shared reward: each agent is paid for both pieces
    assert bool(result.done) and bool(result.success) and not bool(result.truncated)
    fresh = dispersion().reset((1, 1), uniforms(1, 1, 1, value=0.75))
    assert torch.equal(result.obs, fresh)  # the automatic reset is a reset from the step's uniform


def test_the_time_limit_truncates_an_unsolved_episode():
    game = dispersion()
    game.reset((1, 1), uniforms(1, 1, 1))
    ends = [stay(game) for _ in range(100)]
    assert [t for t, r in enumerate(ends) if bool(r.done)] == [49, 99]
    assert all(bool(r.truncated) and not bool(r.success) for r in ends if bool(r.done))


def test_a_team_return_rule_sums_mean_rewards_over_the_episode():
    """One piece eaten pays each agent 1: a team return of 1, enough for a threshold of 1 at the
    time limit; the next episode starts from 0 again."""
    game = dispersion(success=SuccessRule(team_return_at_least=1.0))
    game.reset((1, 1), uniforms(1, 1, 1))
    on_food(game, 0, agents=(0,))
    results = [stay(game) for _ in range(100)]
    assert results[0].rewards[0, 0].tolist() == [1.0, 1.0] and not bool(results[0].done)
    assert [(bool(r.done), bool(r.success)) for r in (results[49], results[99])] == [(True, True), (True, False)]


def test_a_step_that_draws_random_numbers_stops_training():
    """Action noise would be drawn for the whole batch at once; the core refuses it at the step."""
    game = dispersion()
    game.reset((1, 1), uniforms(1, 1, 1))
    game.env.agents[0].action._u_noise = 0.1
    with pytest.raises(RandomStep, match="drew random numbers on a step"):
        stay(game)


def test_the_probe_finds_a_reset_that_draws_for_the_whole_batch(monkeypatch):
    """A scenario whose reset of one environment draws numbers for every environment would make
    a seed's start depend on its block."""
    import vmas
    from vmas.scenarios import load

    class BatchDrawn(load("dispersion.py").Scenario):
        def reset_world_at(self, env_index=None):
            super().reset_world_at(env_index)
            if env_index is not None:
                pos = torch.rand(self.world.batch_dim, 2)[env_index] - 0.5
                self.world.landmarks[0].set_pos(pos, batch_index=env_index)

    def make(scenario, num_envs, kwargs):
        return vmas.make_env(BatchDrawn(), num_envs=num_envs, seed=0, **vmas_probe.SET_BY_THE_CORE, **kwargs)

    monkeypatch.setattr(vmas_probe, "make", make)
    with pytest.raises(vmas_probe.Unplayable, match="depend on the other environments of its batch"):
        vmas_probe.probe("dispersion", {"n_agents": 2})
    monkeypatch.undo()
    assert vmas_probe.probe("dispersion", {"n_agents": 2}) == {"agents": ["agent_0", "agent_1"], "n_actions": 9, "obs_dim": 10}


# -- specs -------------------------------------------------------------------------------------------


SPEC = """kind: vmas
name: task
title: Task
hyperparams: gridworld
scenario: dispersion
kwargs: {n_agents: 2, share_reward: true}
max_episode_steps: 50
success: {terminated: true}
budget: {total_steps: 512}
"""
SCENARIO = "scenario: dispersion\nkwargs: {n_agents: 2, share_reward: true}"


def spec_errors(tmp_path, old: str, new: str):
    """The one located error of the spec above with ``old`` replaced by ``new``: (field, message)."""
    return located_game_spec_error(tmp_path, SPEC, old, new)


def test_the_minimal_spec_is_valid(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text(SPEC)
    config = load_file(path, GameSpec)[0].to_config()
    assert (config.scenario, config.kwargs) == ("dispersion", {"n_agents": 2, "share_reward": True})


@pytest.mark.parametrize(
    "old, new, field, message",
    [
        (
            "scenario: dispersion",
            "scenario: dispersal",
            "scenario",
            "vmas has no scenario 'dispersal'; did you mean 'dispersion'?",
        ),
        ("{n_agents: 2,", "{continuous_actions: true, n_agents: 2,", "kwargs", "continuous_actions: set by the core"),
        ("{n_agents: 2,", "{n_agent: 2,", "kwargs", "does not use 'n_agent'; did you mean 'n_agents'?"),
        (SCENARIO, "scenario: balance\nkwargs: {n_agents: 1}", "kwargs", "failed: AssertionError: assert self.n_agents > 1"),
        (
            SCENARIO,
            "scenario: simple_speaker_listener\nkwargs: {}",
            "scenario",
            "agents' action spaces differ (speaker_0: Discrete(27), listener_0: Discrete(9))",
        ),
        (
            SCENARIO,
            "scenario: simple_push\nkwargs: {}",
            "scenario",
            "agents' observation lengths differ (adversary_0: 8, agent_0: 19)",
        ),
        (SCENARIO, "scenario: joint_passage\nkwargs: {}", "scenario", "draws random numbers on its steps"),
        ("max_episode_steps: 50", "max_episode_steps: 0", "max_episode_steps", "greater than or equal to 1"),
        ("success: {terminated: true}", "success: {}", "success", "declare exactly one success rule"),
    ],
)
def test_bad_specs_name_the_file_line_and_field(tmp_path, old, new, field, message):
    got_field, got_message = spec_errors(tmp_path, old, new)
    assert got_field == field and message in got_message, got_message


def test_reading_specs_probes_in_a_subprocess_never_importing_torch_and_caches_the_answer(tmp_path):
    """The first read probes the scenario in a subprocess; a later one reads the answer from the
    cache (here a planted one, to show it is read)."""
    code = "import sys; from maprops.specs import SpecLibrary; SpecLibrary('specs'); print('torch' in sys.modules)"
    env = {**os.environ, "MAPROPS_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"
    (cached,) = (tmp_path / "vmas_probe").glob("*.json")
    assert json.loads(cached.read_text()) == {"shape": {"agents": ["agent_0", "agent_1"], "n_actions": 9, "obs_dim": 10}}
    cached.write_text(json.dumps({"problem": {"field": "kwargs", "message": "planted in the cache"}}))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env)
    assert "dispersion.yaml:" in out.stderr and "kwargs: planted in the cache" in out.stderr


def test_premise_refuses_the_task_by_name(capsys):
    assert main(["premise", "dispersion", "--specs", str(SPECS)]) == 2
    assert "'dispersion': no cooperative action declared (game kind 'vmas'), nothing to check" in capsys.readouterr().err
