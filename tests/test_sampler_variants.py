"""The beyond-the-paper behavior variants: tabular Delta_phi, Adam moments reset at every
behavior reset, and the KL cut-off enforced after each step."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from maprops.config import sampler_config
from maprops.games.gridworld import GridWorldGame
from maprops.joint_actions import decode_joint, encode_joint, joint_log_probs
from maprops.policies import Actors
from maprops.rng import SeedStreams, sample_categorical
from maprops.samplers import make_sampler
from maprops.samplers.base import BehaviorData
from maprops.samplers.behavior_update import approx_kl
from maprops.samplers.ma_props_tabular import TabularMaPropsSampler
from maprops.samplers.props import PropsSampler
from maprops.specs import SpecErrors, SpecLibrary
from maprops.train import COLUMNS, behavior_data, train
from tests.helpers import GRIDWORLD_SETTINGS, tiny_spec

S = 3


def gridworld_buffer(m: int = 40):
    """A GridWorld buffer of ``m`` random states and actions under a random target, per seed."""
    game = GridWorldGame(**GRIDWORLD_SETTINGS)
    rng = SeedStreams(range(S))
    actors = Actors(game.obs_dim, game.n_actions[0], game.n_agents, (16, 16))
    theta = actors.init(rng) + 0.5 * torch.randn(S * game.n_agents, 1, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(1)
    states = torch.randint(0, game.n_states, (S, m), generator=gen)
    obs = game.state_observations()[states]  # [S, M, N, D]
    actions = torch.randint(0, 4, (S, m, game.n_agents), generator=gen)
    data = behavior_data(game, obs, actions, actors.log_probs(theta, obs), enumerable=True)
    return game, rng, actors, theta, data


def test_tabular_delta_phi_is_the_target_after_a_reset():
    game, rng, actors, theta, data = gridworld_buffer()
    sampler = TabularMaPropsSampler(sampler_config("ma_props", delta_phi="tabular", learning_rate=0.3), game, rng)
    sampler.update(theta, data, (0, 0))
    assert sampler.params.abs().max() > 0.1  # the update moved the table
    sampler.reset_to_target()
    obs = game.state_observations()[torch.arange(S)[:, None] % game.n_states].expand(S, 1, -1, -1)  # [S, E=1, N, D]
    log_probs = actors.log_probs(theta, obs)
    for u in (0.05, 0.3, 0.61, 0.97):
        uniforms = torch.full((S, 1, game.n_agents), u)
        on_policy = decode_joint(sample_categorical(joint_log_probs(log_probs).exp(), uniforms[..., 0]), game.n_actions)
        assert torch.equal(sampler.act(obs, log_probs, uniforms), on_policy)


def test_tabular_delta_phi_lowers_the_buffers_joint_actions():
    """Eq. 3 on a table: every sampled (state, joint action) loses probability, as with the network."""
    game, rng, actors, theta, data = gridworld_buffer()
    sampler = TabularMaPropsSampler(sampler_config("ma_props", delta_phi="tabular", target_kl=None), game, rng)
    sampler.update(theta, data, (0, 0))
    table = sampler.params.view(sampler.shape)
    seen = table[torch.arange(S)[:, None], data.states, encode_joint(data.actions, game.n_actions)]
    assert (seen < 0).float().mean() > 0.9


def props_updates(reset_moments: bool, first: bool):
    game, rng, actors, theta, data = gridworld_buffer()
    sampler = PropsSampler(sampler_config("props", reset_moments=reset_moments, learning_rate=0.1), actors, theta, rng)
    if first:  # an earlier behavior update leaves Adam moments behind
        sampler.update(theta, BehaviorData(data.obs[:, :10], data.actions[:, :10], data.target_log_probs[:, :10]), (0, 9))
    sampler.update(theta, data, (0, 39))
    return sampler.params


def test_reset_moments_makes_each_update_start_from_a_fresh_adam():
    assert torch.equal(props_updates(True, first=True), props_updates(True, first=False))
    assert not torch.equal(props_updates(False, first=True), props_updates(False, first=False))


@pytest.mark.parametrize("delta_phi", ["network", "tabular"])
def test_an_enforced_kl_cutoff_is_never_exceeded_after_an_update(delta_phi):
    game, rng, actors, theta, data = gridworld_buffer()
    results = {}
    for mode in ("check", "enforce"):
        config = sampler_config("ma_props", delta_phi=delta_phi, learning_rate=1.0, target_kl=0.05, kl_cutoff=mode)
        sampler = make_sampler(config, actors, theta, game, rng)
        sampler.update(theta, data, (0, 0))
        target = joint_log_probs(data.target_log_probs)
        behavior = behavior_joint_log_probs(sampler, data)
        results[mode] = approx_kl((behavior - target).gather(-1, encode(data, game)).squeeze(-1))
    assert (results["enforce"] <= 0.05 + 1e-6).all(), results["enforce"]
    assert (results["check"] > 0.05).any(), results["check"]  # the variant changes something here


def encode(data, game):
    return encode_joint(data.actions, game.n_actions).unsqueeze(-1)


def behavior_joint_log_probs(sampler, data):
    """log pi_phi of every joint action at the buffer's samples ``[S, M, A]``."""
    target = joint_log_probs(data.target_log_probs)
    if isinstance(sampler, TabularMaPropsSampler):
        delta = sampler.params.view(sampler.shape)[torch.arange(S)[:, None], data.states]
    else:
        delta = sampler.mlp.forward(sampler.params, data.obs.flatten(2))
    return torch.log_softmax(target + delta, -1)


@pytest.mark.parametrize(
    "variant", [dict(delta_phi="tabular"), dict(reset_moments=True), dict(kl_cutoff="enforce", target_kl=0.01)]
)
def test_variants_keep_a_seeds_numbers_independent_of_its_block(variant):
    spec = tiny_spec("ma_props", iterations=2, **variant)
    alone, block = train(spec, [2]), train(spec, [0, 1, 2])
    for column in COLUMNS:
        assert np.array_equal(alone[column], block[column][block["seed"] == 2]), column


def test_variants_at_their_defaults_leave_the_run_identity_unchanged():
    printed = tiny_spec("ma_props")
    spelled_out = tiny_spec("ma_props", delta_phi="network", reset_moments=False, kl_cutoff="check")
    assert printed.run_id() == spelled_out.run_id()
    assert tiny_spec("ma_props", reset_moments=True).run_id() != printed.run_id()
    with pytest.raises(ValueError, match="kl_cutoff: enforce needs a target_kl"):
        sampler_config("ma_props", kl_cutoff="enforce", target_kl=None)


SPECS = Path(__file__).resolve().parents[1] / "specs"


def spec_copy(tmp_path, variants_yaml: str | None = None, figure_samplers: str | None = None) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    if variants_yaml is not None:
        (specs / "samplers.yaml").write_text(variants_yaml)
    if figure_samplers is not None:
        fig = specs / "figures" / "fig4a.yaml"
        fig.write_text(re.sub(r"^samplers: .*$", f"samplers: {figure_samplers}", fig.read_text(), flags=re.M))
    return specs


def test_a_named_variant_is_a_curve_of_its_own_with_the_base_samplers_runs(tmp_path):
    library = SpecLibrary(spec_copy(tmp_path, figure_samplers="[on_policy, props, ma_props, ma_props_tabular, ros]"))
    cells = library.cells("fig4a", "smoke")
    by_name = {(c.panel.game, c.sampler): c.run for c in cells}
    plain, tabular = by_name[("gridworld", "ma_props")], by_name[("gridworld", "ma_props_tabular")]
    assert tabular.sampler.kind == "ma_props" and tabular.sampler.delta_phi == "tabular"
    assert tabular.model_copy(update={"sampler": plain.sampler}).run_id() == plain.run_id()  # only the sampler differs
    assert by_name[("gridworld", "ros")].sampler.kind == "ros"
    assert ("boulderpush", "ma_props") in by_name and ("boulderpush", "ros") not in by_name  # no curve where it cannot play


@pytest.mark.parametrize(
    "variants, figure_samplers, where, message",
    [
        ("variants:\n  x:\n    sampler: ma_props\n    label: X\n    why: y\n    set: {delta_pi: tabular}\n",
         None, "samplers.yaml:6: variants.x.set.delta_pi", "unknown setting (sampler 'ma_props')"),
        ("variants:\n  props:\n    sampler: ma_props\n    label: X\n    why: y\n    set: {reset_moments: true}\n",
         None, "samplers.yaml:2: variants.props", "'props' is a registered sampler"),
        (None, "[ma_props, ma_props_tabluar]", "fig4a.yaml", "unknown sampler 'ma_props_tabluar' (did you mean ma_props_tabular?)"),
        (None, "[ma_props, ma_props]", "fig4a.yaml", "lists ma_props more than once"),
    ],
)  # fmt: skip
def test_bad_variants_are_refused_at_their_line(tmp_path, variants, figure_samplers, where, message):
    with pytest.raises(SpecErrors) as err:
        SpecLibrary(spec_copy(tmp_path, variants, figure_samplers))
    text = str(err.value)
    assert where in text and message in text, text


def test_variants_are_drawn_in_styles_of_their_own_and_other_figures_are_untouched(monkeypatch):
    from pipeline import plot_style
    from pipeline.expand import Plan

    monkeypatch.setattr(plot_style, "SAMPLER_STYLE", dict(plot_style.SAMPLER_STYLE))  # this test's styles stay here
    SAMPLER_STYLE, register_styles = plot_style.SAMPLER_STYLE, plot_style.register_styles

    plan = Plan(SPECS, "smoke")
    assert "sampler_styles" not in plan.plot_labels("fig4a")
    styles = plan.plot_labels("fig4a_variants")["sampler_styles"]
    assert list(styles) == ["ma_props_tabular", "ma_props_fresh_adam", "ma_props_kl_enforced", "ma_props_tabular_fresh_adam"]
    register_styles(json.loads(json.dumps(styles)))  # as the plot script receives them
    drawn = [(repr(SAMPLER_STYLE[s].linestyle), SAMPLER_STYLE[s].marker, SAMPLER_STYLE[s].color) for s in SAMPLER_STYLE]
    assert len(set(drawn)) == len(drawn)  # every curve distinct in colour, line style and marker
    assert isinstance(SAMPLER_STYLE["ma_props_tabular"].linestyle[1], tuple)  # a dash pattern matplotlib accepts
