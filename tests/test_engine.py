"""The seed-batched engine: block independence, learning, metrics, and the train command."""

import csv

import numpy as np
import pytest
import torch

from maprops.cli import main as cli_main
from maprops.config import RunSpec
from maprops.metrics import sampling_errors
from maprops.train import COLUMNS, train
from tests.helpers import GRIDWORLD_SETTINGS, tiny_spec


@pytest.mark.parametrize("sampler", ["on_policy", "props", "ma_props"])
def test_a_seeds_numbers_do_not_depend_on_its_block(sampler):
    spec = tiny_spec(sampler, iterations=2)
    alone = train(spec, [3])
    block = train(spec, list(range(8)))
    in_block = block["seed"] == 3
    for column in COLUMNS:
        assert np.array_equal(alone[column], block[column][in_block]), column


def test_ippo_runs_and_is_block_independent_too():
    spec = tiny_spec("ma_props", algorithm="ippo", iterations=2)
    alone, block = train(spec, [5]), train(spec, [4, 5])
    assert np.array_equal(alone["success_rate"], block["success_rate"][block["seed"] == 5])


def test_mappo_learns_a_game_with_a_dominant_action():
    # Game 1: A is dominant for both agents, so independent PPO should find (A, A). At a
    # moderate learning rate: at Table 3's 0.1, Adam's first steps move every weight by 0.1
    # and 2x2 policies collapse to an arbitrary joint action (a finding, see docs/findings.md).
    base = tiny_spec("on_policy", iterations=6, batch=20)
    spec = base.model_copy(
        update={
            "game": base.game.model_copy(update={"payoffs": [[[4, 4], [3, 3]], [[2, 2], [1, 1]]]}),
            "ppo": base.ppo.model_copy(update={"learning_rate": 0.01}),
        }
    )
    out = train(spec, list(range(8)))
    last = out["iteration"] == out["iteration"].max()
    assert out["success_rate"][last].mean() > 0.9


def test_total_variation_of_a_known_buffer():
    # Uniform 2x2 target; buffer (A,A), (A,B), (A,B), (B,B): empirical 1/4, 1/2, 0, 1/4.
    actions = torch.tensor([[[0, 0], [0, 1], [0, 1], [1, 1]]])
    log_probs = torch.full((1, 1, 2, 2), 0.5).log()
    joint, agent1 = sampling_errors(torch.zeros(1, 4, dtype=torch.int64), actions, torch.ones(1, 1), log_probs)
    assert joint.item() == pytest.approx(0.5 * (0 + 0.25 + 0.25 + 0))
    assert agent1.item() == pytest.approx(0.5 * (0.25 + 0.25))


def test_train_command_writes_the_tidy_csv(tmp_path):
    spec_file = tmp_path / "run.json"
    spec_file.write_text(tiny_spec("props").model_dump_json())
    out = tmp_path / "runs" / "seeds_000-001.csv"
    assert cli_main(["train", "--run-spec", str(spec_file), "--seeds", "0-1", "--out", str(out)]) == 0
    rows = list(csv.DictReader(line for line in out.open() if not line.startswith("#")))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["seed"], r["iteration"], r["step"]) for r in rows] == [
        ("0", "1", "8"),
        ("1", "1", "8"),
        ("0", "2", "16"),
        ("1", "2", "16"),
    ]
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp file left behind


@pytest.mark.parametrize("seeds", ["-1", "a-b", "3-1", "1.5"])
def test_train_command_rejects_bad_seeds(tmp_path, seeds, capsys):
    spec_file = tmp_path / "run.json"
    spec_file.write_text(tiny_spec().model_dump_json())
    out = tmp_path / "x.csv"
    assert cli_main(["train", "--run-spec", str(spec_file), "--seeds", seeds, "--out", str(out)]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert not out.exists()


GRIDWORLD = dict(kind="gridworld", name="gridworld", **GRIDWORLD_SETTINGS)


@pytest.mark.parametrize("sampler", ["on_policy", "ma_props"])
def test_gridworld_trains_block_independently_with_exact_tv(sampler):
    base = tiny_spec(sampler, iterations=2, batch=16)
    spec = base.model_copy(update={"game": RunSpec.model_validate({**base.model_dump(), "game": GRIDWORLD}).game})
    alone, block = train(spec, [2]), train(spec, [0, 1, 2])
    for column in COLUMNS:
        assert np.array_equal(alone[column], block[column][block["seed"] == 2]), column
    assert ((0 < block["joint_tv"]) & (block["joint_tv"] < 1)).all()
    assert (block["agent1_tv"] <= block["joint_tv"] + 1e-6).all()  # a marginal is never farther apart (float32 policies)


def test_fixed_target_measures_a_growing_buffer_of_unchanging_policies():
    spec = tiny_spec("props", iterations=1, batch=8).model_copy(
        update={"fixed_target": True, "total_steps": 48, "eval_every": 16}
    )
    rows = train(spec, [0, 1])
    assert rows["step"].tolist() == [16, 16, 32, 32, 48, 48]
    # the target never changes: every checkpoint evaluates the same policies with the same draws
    for seed in (0, 1):
        assert len(set(rows["success_rate"][rows["seed"] == seed].tolist())) == 1
    # the shadow on-policy buffer does not depend on the sampler
    on_policy = train(spec.model_copy(update={"sampler": spec.sampler.model_copy(update={"kind": "on_policy"})}), [0, 1])
    assert np.array_equal(rows["joint_tv_on_policy"], on_policy["joint_tv_on_policy"])
    assert not np.array_equal(rows["joint_tv"], on_policy["joint_tv"])


def test_an_unset_optional_field_leaves_the_run_identity_unchanged():
    spec = tiny_spec()
    assert "fixed_target" not in spec.canonical_json()
    assert spec.model_copy(update={"fixed_target": True}).run_id() != spec.run_id()


def test_lbf_trains_block_independently_with_kl_sampling_error():
    from maprops.config import mle_config
    from maprops.specs import SpecLibrary

    game = SpecLibrary("specs").games["lbf"].to_config("modified")
    base = tiny_spec("ma_props", iterations=1, batch=24)
    spec = RunSpec.model_validate(
        {**base.model_dump(), "game": game.model_dump(), "sampling_error_fit": mle_config(steps=20).model_dump()}
    )
    alone, block = train(spec, [1]), train(spec, [0, 1])
    assert list(alone) == [
        "seed",
        "iteration",
        "step",
        "success_rate",
        "joint_kl",
        "agent1_kl",
        "joint_kl_on_policy",
        "agent1_kl_on_policy",
        "mean_return",
    ]
    for column in alone:
        assert np.array_equal(alone[column], block[column][block["seed"] == 1]), column
    assert (block["joint_kl"] > 0.1).all()  # 24 samples of a near-uniform 36-way joint policy


def test_a_kl_game_must_say_how_to_fit_its_mle():
    from maprops.specs import SpecLibrary

    game = SpecLibrary("specs").games["lbf"].to_config("modified")
    with pytest.raises(ValueError, match="set sampling_error_fit"):
        RunSpec.model_validate({**tiny_spec().model_dump(), "game": game.model_dump()})
