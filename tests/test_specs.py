"""Specs: every shipped spec validates, bad specs fail with FILE:LINE: field: message, and the
reward modifications do what Appendix E says they are for."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from maprops.config import RunSpec
from maprops.specs import SpecLibrary
from maprops.specs.validate import validate_main
from maprops.specs.yaml_lines import load_yaml_with_lines
from tests.helpers import edit

SPECS = Path(__file__).resolve().parents[1] / "specs"


@pytest.fixture(scope="module")
def library():
    return SpecLibrary(SPECS)


def test_shipped_specs_validate(library, capsys):
    assert validate_main([str(SPECS)]) == 0
    assert len([g for g in library.games if g.startswith("nonconflict_")]) == 21
    assert {"climbing", "penalty"} <= set(library.games)
    assert {"fig11", "fig12", "fig13", "fig14", "fig5_matrix"} <= set(library.figures)


def test_variant_is_original_plus_change(library):
    game = library.games["nonconflict_19"]
    original, modified = game.payoff_tensor("original"), game.payoff_tensor("modified")
    assert original[0, 0].tolist() == [4, 4] and modified[0, 0].tolist() == [5, 5]
    changed = np.argwhere((original != modified).any(-1))
    assert changed.tolist() == [[0, 0]]
    penalty = library.games["penalty"].payoff_tensor("modified")
    assert penalty[0, 0, 0] == penalty[2, 2, 1] == -7 and penalty[0, 2, 0] == 10


def test_resolved_run_uses_paper_tables(library):
    cell = next(c for c in library.cells("fig11", "full") if c.sampler == "ma_props")
    assert cell.run.ppo.batch_size == 20 and cell.run.ppo.learning_rate == 0.1
    assert cell.run.sampler.learning_rate == 0.03 and cell.run.sampler.batch_size == 1
    assert cell.seeds == 100
    smoke = next(c for c in library.cells("fig11", "smoke") if c.sampler == "ma_props")
    assert smoke.seeds == 3 and smoke.run.iterations == 2 and smoke.run.run_id() != cell.run.run_id()


def uniform_gradient_effect(payoffs: np.ndarray) -> np.ndarray:
    """d pi_i(a_i) along agent i's expected policy gradient at uniform policies, ``[n, k]``.

    Autograd on the exact expected reward of each agent under softmax policies at zero logits:
    positive means a gradient step raises that action's probability.
    """
    n = payoffs.shape[-1]
    logits = [torch.zeros(k, dtype=torch.float64, requires_grad=True) for k in payoffs.shape[:-1]]
    probs = [torch.softmax(logit, 0) for logit in logits]
    joint = probs[0]
    for p in probs[1:]:
        joint = torch.einsum("...,k->...k", joint, p)
    effects = []
    for i in range(n):
        value = (joint * torch.as_tensor(payoffs[..., i])).sum()
        (grad,) = torch.autograd.grad(value, logits[i], retain_graph=True)
        p = probs[i].detach()
        jacobian = torch.diag(p) - torch.outer(p, p)  # d pi / d logits of a softmax
        effects.append((jacobian @ grad).numpy())
    return np.stack(effects)


def optimal_effects(game, variant):
    effect = uniform_gradient_effect(game.payoff_tensor(variant))
    return [np.array([effect[i, a] for i, a in enumerate(game.joint_index(j))]) for j in game.optimal]


def test_appendix_e_uniform_gradient_property(library):
    """For every game as the figures play it, no agent's expected gradient at uniform policies
    lowers its part of an optimal joint action; where the paper modified a game, the change makes
    that gradient strictly favour the optimum, and the original fails (tie or wrong way)."""
    played = {(p.game, p.variant) for f in library.figures.values() for p in f.panels}
    played = {(g, v) for g, v in played if library.games[g].kind == "matrix"}
    assert len(played) == 23
    for name, variant in sorted(played):
        game = library.games[name]
        assert any((e >= -1e-12).all() for e in optimal_effects(game, variant)), (name, variant)
        if variant != "original":
            assert any((e > 1e-9).all() for e in optimal_effects(game, variant)), name
            assert not any((e > 1e-9).all() for e in optimal_effects(game, "original")), name
    for name in ("climbing", "penalty"):  # the originals point away from the optimum
        assert all((e < -1e-9).any() for e in optimal_effects(library.games[name], "original")), name


# -- bad input ----------------------------------------------------------------------------------


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def run_validate(root: Path, capsys) -> str:
    before = sorted(p for p in root.rglob("*"))
    assert validate_main([str(root)]) == 1
    assert sorted(p for p in root.rglob("*")) == before  # writes nothing
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "file, old, new, field, message",
    [
        (
            "games/nonconflict_03.yaml",
            "hyperparams: matrix_2x2",
            "hyperparams: matrix_2x2\nsurprise: 1",
            "surprise",
            "unknown key",
        ),
        (
            "games/nonconflict_03.yaml",
            "hyperparams: matrix_2x2",
            "hyperparams: matrix_2x2\ntittle: Game 3",
            "tittle",
            "unknown key; did you mean 'title'?",
        ),
        (
            "games/nonconflict_03.yaml",
            "  - [[2, 3], [1, 1]]   # agent 1 plays B",
            "  - [[2, 3], [1, 1]]\n  - [[0, 0], [0, 0]]",
            "payoffs",
            "has shape [3, 2, 2]; the actions need [2, 2, 2]",
        ),
        ("games/climbing.yaml", "kind: matrix", "kind: matrx", "kind", "unknown kind 'matrx'; known: 'matrix'"),
        ("games/climbing.yaml", "optimal: [[A, A]]", "optimal: [[A, D]]", "optimal", "agent 2 has no action 'D'; known: A, B, C"),
        ("games/climbing.yaml", "total_steps: 900", "total_steps: 30", "budget.total_steps", "smaller than one PPO batch (45"),
        (
            "figures/fig12.yaml",
            "game: nonconflict_05",
            "game: nonconflict_55",
            "panels.4.game",
            "unknown game 'nonconflict_55'; known: boulderpush, climbing, dispersion, fig1, gridworld, lbf, nonconflict_01",
        ),
        (
            "figures/fig12.yaml",
            "samplers: [on_policy, props, ma_props]",
            "samplers: [on_policy, prop]",
            "samplers.1",
            "unknown sampler 'prop' (did you mean props?); known: on_policy, props",
        ),
        ("figures/fig12.yaml", "algorithm: ippo", "algorithm: ipo", "algorithm", "'mappo' or 'ippo'"),
        ("figures/fig12.yaml", "seeds: 100", "seeds: -3", "seeds", "greater than or equal to 1"),
        ("figures/fig12.yaml", "seeds: 100", "seeds: 2.5", "seeds", "valid integer"),
        (
            "hyperparams/table3.yaml",
            "    ppo_learning_rate: 0.1\n    behavior_learning_rate: 0.03",
            "    ppo_learning_rate: 0.1\n    ppo_learning_rate: 0.2\n    behavior_learning_rate: 0.03",
            "rows.matrix_2x2.ppo_learning_rate",
            "duplicate key",
        ),
        ("scales.yaml", "    seeds: 3", "    seeds: [3", "", "malformed YAML"),
        ("games/gridworld.yaml", "size: 3", "size: three", "size", "must be an integer, got the string 'three'"),
        (
            "games/boulderpush.yaml",
            "set: {penalty: 0.02}",
            "set: {penalty: -0.02}",
            "variants.modified.set.penalty",
            "greater than or equal to 0 (variant 'modified')",
        ),
        (
            "figures/fig12.yaml",
            'title: "Game 1"}',
            'title: "Game 1", sweep: nope}',
            "panels.0.sweep",
            "unknown sweep 'nope'; known: sweep_nonconflict_19",
        ),
        (
            "figures/fig12.yaml",
            'title: "Game 19 (modified)"}',
            'title: "Game 19 (modified)", sweep: sweep_nonconflict_19}',
            "panels.18.sweep",
            "trains nonconflict_19/modified with mappo; this panel needs nonconflict_19/modified with ippo",
        ),
        ("games/boulderpush.yaml", "height: 5", "height: 3", "", "cannot hold a 2-cell boulder"),
        (
            "games/lbf.yaml",
            "set: {penalty: 0.015}",
            "set: {penalti: 0.015}",
            "variants.modified.set.penalti",
            "unknown game parameter (variant 'modified')",
        ),
        # strict numbers: no strings, no booleans, nothing float32 cannot hold
        (
            "games/nonconflict_03.yaml",
            "  - [[4, 4], [3, 2]]   # agent 1 plays A",
            '  - [["4", 4], [3, 2]]',
            "payoffs.0.0.0",
            "must be a number, got the string '4' (a quoted number is text in YAML: drop the quotes)",
        ),
        (
            "games/nonconflict_03.yaml",
            "  - [[2, 3], [1, 1]]   # agent 1 plays B",
            "  - [[2, 3], [1, true]]",
            "payoffs.1.1.1",
            "must be a number, got the boolean true",
        ),
        (
            "games/climbing.yaml",
            "  - [-30, 7, 0]",
            "  - [-30, 7, 1e300]",
            "common_payoff.1.2",
            "1e+300 is outside the float32 range training uses (|x| <= 3.402823e+38)",
        ),
        ("games/climbing.yaml", "  - [-30, 7, 0]", "  - [-30, 7, .nan]", "common_payoff.1.2", "must be a finite number, got nan"),
        (
            "games/climbing.yaml",
            "{joint_action: [A, B], reward: -3}",
            '{joint_action: [A, B], reward: "-3"}',
            "variants.modified.set.0.reward",
            "must be a number, got the string '-3' (a quoted number is text in YAML: drop the quotes)",
        ),
        (
            "games/nonconflict_19.yaml",
            "        rewards: [5, 5]",
            "        rewards: [5, 1e39]",
            "variants.modified.set.0.rewards.1",
            "1e+39 is outside the float32 range training uses",
        ),
        ("games/gridworld.yaml", "team_reward: 0.9", "team_reward: yes", "team_reward", "must be a number, got the boolean true"),
        ("hyperparams/table2.yaml", "epochs: 4", "epochs: true", "epochs", "must be an integer, got the boolean true"),
        (
            "hyperparams/table2.yaml",
            "gamma: 0.99",
            "gamma: '0.99'",
            "gamma",
            "must be a number, got the string '0.99' (a quoted number is text in YAML: drop the quotes)",
        ),
        (
            "hyperparams/table2.yaml",
            "ent_coef: 0.01",
            "ent_coef: 5e38",
            "ent_coef",
            "5e+38 is outside the float32 range training uses",
        ),
        ("figures/fig12.yaml", "seeds: 100", "seeds: '100'", "seeds", "must be an integer, got the string '100'"),
        # optimal joint actions maximize the team's summed payoff, in the game and every variant
        (
            "games/climbing.yaml",
            "optimal: [[A, A]]",
            "optimal: [[A, A], [B, B]]",
            "optimal.1",
            "optimal joint action ['B', 'B'] is not optimal in the original game: the team's summed payoff there is 14, but ['A', 'A'] gets 22; correct 'optimal' or say why in 'optimal_reason'",
        ),
        (
            "games/climbing.yaml",
            "{joint_action: [C, C], reward: 2}",
            "{joint_action: [C, C], reward: 20}",
            "variants.modified",
            "optimal joint action ['A', 'A'] is not optimal in variant 'modified': the team's summed payoff there is 22, but ['C', 'C'] gets 40",
        ),
        (
            "games/climbing.yaml",
            "optimal: [[A, A]]",
            "optimal: [[A, A]]\noptimal_reason: just because",
            "optimal_reason",
            "every declared optimal joint action maximizes the team's summed payoff in every variant: remove 'optimal_reason'",
        ),
        # lines: the kind at its line; a key misplaced in a variant is one error, saying where it belongs
        (
            "games/nonconflict_19.yaml",
            "kind: matrix  # assumption: an episode is one play of the game (paper §6 silent; docs/implementation.md#matrix-game-episodes)\nname: nonconflict_19",
            "name: nonconflict_19\nkind: matrx",
            "kind",
            "unknown kind 'matrx'; known: 'matrix', 'gridworld', 'boulderpush', 'lbf'",
        ),
        (
            "games/nonconflict_19.yaml",
            "        rewards: [5, 5]",
            "        rewards: [5, 5]\n    total_steps: 100",
            "variants.modified.total_steps",
            "unknown key here; 'total_steps' belongs under 'budget'",
        ),
    ],
)
def test_bad_spec_names_file_line_field(specs_copy, capsys, file, old, new, field, message):
    path = specs_copy / file
    edit(path, old, new)
    err = run_validate(specs_copy, capsys)
    # the reported line is the line of the (deepest existing) key the error is about
    needle = {
        "payoffs": "payoffs:",
        "budget.total_steps": "total_steps:",
        "rows.matrix_2x2.ppo_learning_rate": "ppo_learning_rate: 0.2",
        "variants.modified": "modified:",
    }.get(field, new.splitlines()[-1])
    match = re.search(rf"^{re.escape(str(path))}:(\d+): ([^:]*): (.*)$", err, re.M)
    assert match, err
    if field:
        assert match.group(2) == field, err
        assert int(match.group(1)) == line_of(path, needle.strip()), err
    assert message in match.group(3), err
    assert len(re.findall(r"^\S+:(\d+|\?): ", err, re.M)) == 1, err  # one mistake, one error


def test_exponent_floats_are_floats(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1e-3\nb: [2, 5E+2]\n")
    data, lines = load_yaml_with_lines(path)
    assert data == {"a": 0.001, "b": [2, 500.0]} and lines[("b", 1)] == 2


def test_required_key_misplaced_in_a_variant_is_one_error(specs_copy, capsys):
    """Moved from the top level into a variant: one error, at the moved key, saying where it belongs
    (not also "required field is missing" at the top)."""
    path = specs_copy / "games/boulderpush.yaml"
    edit(path, "push_reward: 0.1 ", "# push_reward moved ")
    edit(path, "    set: {penalty: 0.02}", "    set: {penalty: 0.02}\n    push_reward: 0.1")
    err = run_validate(specs_copy, capsys)
    assert err.strip() == (
        f"{path}:{line_of(path, '    push_reward: 0.1')}: variants.modified.push_reward: "
        "unknown key here; 'push_reward' belongs at the top level, where it is missing"
    ), err


def test_optimal_reason_waives_the_optimality_check(specs_copy, capsys):
    path = specs_copy / "games/climbing.yaml"
    edit(path, "{joint_action: [C, C], reward: 2}", "{joint_action: [C, C], reward: 20}")
    edit(path, "optimal: [[A, A]]", 'optimal: [[A, A]]\noptimal_reason: "the paper scores (A, A) in every variant"')
    assert validate_main([str(specs_copy)]) == 0, capsys.readouterr().err


def test_ints_stay_valid_for_float_fields(specs_copy, capsys, library):
    """Strict numbers still take an int where a float is meant, from YAML and from run-spec JSON;
    a string stays an error in the JSON too."""
    edit(specs_copy / "hyperparams/table3.yaml", "    ppo_learning_rate: 0.1", "    ppo_learning_rate: 1")
    assert validate_main([str(specs_copy)]) == 0, capsys.readouterr().err
    data = json.loads(library.cells("fig12", "smoke")[0].run.canonical_json())
    data["ppo"]["learning_rate"] = 1
    assert RunSpec.model_validate_json(json.dumps(data)).ppo.learning_rate == 1.0
    data["ppo"]["learning_rate"] = "1"
    with pytest.raises(ValidationError):
        RunSpec.model_validate_json(json.dumps(data))


def test_validate_outside_a_project_says_what_it_looked_for(tmp_path, monkeypatch, capsys):
    from maprops.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert f"looked for {tmp_path / 'specs'}" in err and "run it in a maprops checkout" in err


# Every table of specs/hyperparams/ that sets run-spec values, and the fields it sets under
# another name (Table 3's columns); every other key sets the model field of its own name.
TABLE_COLUMNS = {
    "table2.yaml": {},
    "table3.yaml": {
        "ppo_batch_size": ("PPOConfig", "batch_size"),
        "ppo_learning_rate": ("PPOConfig", "learning_rate"),
        "behavior_learning_rate": ("behavior", "learning_rate"),
        "behavior_batch_size": ("behavior", "batch_size"),
    },
    "behavior.yaml": {},
    "sampling_error.yaml": {},
}


def models_of_the_tables() -> dict[str, list[type]]:
    """The run-spec models the tables fill: ``behavior`` stands for every sampler with a behavior update."""
    from maprops.config import MLEConfig, PPOConfig
    from maprops.kinds import SAMPLERS

    return {
        "table2.yaml": [PPOConfig, RunSpec],
        "behavior.yaml": [k.config for k in SAMPLERS.values() if k.has_behavior_update],
        "sampling_error.yaml": [MLEConfig],
        "PPOConfig": [PPOConfig],
        "behavior": [k.config for k in SAMPLERS.values() if k.has_behavior_update],
    }


def table_fields(table: str) -> list[tuple[type, str, str]]:
    """(model, field, table key) for every value ``table`` gives a run-spec model's field."""
    import yaml

    data = yaml.safe_load((SPECS / "hyperparams" / table).read_text())
    keys = next(iter(data["rows"].values())) if table == "table3.yaml" else data
    models = models_of_the_tables()
    out = []
    for key in keys:
        if key in TABLE_COLUMNS[table]:
            target, field = TABLE_COLUMNS[table][key]
            out += [(model, field, key) for model in models[target]]
        else:
            out += [(model, key, key) for model in models[table] if key in model.model_fields]
        assert any(k == key for _, _, k in out), f"{table}: {key!r} sets no field of a run-spec model"
    return out


@pytest.mark.parametrize("table", list(TABLE_COLUMNS))
def test_the_python_models_repeat_no_value_of_the_yaml_tables(table):
    """The YAML tables are the one home of the paper's values (and of our assumptions about what
    it leaves open): a run-spec model field that a table sets has no Python default, so the two can
    never say different things. The one exception reads the table itself: a field that may be
    absent from a run spec read back from its JSON (``behavior_buffer``) defaults to the shipped
    table's value (:class:`maprops.shipped.TableDefault`). Code without a spec folder builds its
    runs from the shipped tables too (``ppo_config``, ``mle_config``, ``sampler_config``)."""
    from pydantic_core import PydanticUndefined

    from maprops.shipped import TableDefault

    fields = table_fields(table)
    assert len(fields) >= 2, fields  # the check compares something
    for model, name, key in fields:
        info = model.model_fields[name]
        where = f"{model.__name__}.{name} ({table}: {key})"
        assert info.default is PydanticUndefined, f"{where} has the Python default {info.default!r}: the table holds it"
        factory = info.default_factory
        assert factory is None or factory == TableDefault(table.removesuffix(".yaml"), key), (
            f"{where} has a default factory that does not read the table"
        )


def test_runs_built_without_specs_take_the_shipped_tables_values(library):
    """The constructors for code without a spec folder give what the spec library resolves from
    the same tables: a 2x2 matrix game's figure cell (Table 3 row matrix_2x2)."""
    from maprops.config import mle_config, ppo_config, sampler_config

    run = next(c.run for c in library.cells("fig11", "full") if c.sampler == "ma_props")
    assert library.games[run.game.name].hyperparams == "matrix_2x2"
    assert ppo_config(batch_size=run.ppo.batch_size, learning_rate=run.ppo.learning_rate) == run.ppo
    assert sampler_config("ma_props") == run.sampler
    assert mle_config() == library.sampling_error_fit
    assert library.table2.eval_episodes == run.eval_episodes


@pytest.mark.parametrize("behavior_buffer", ["ring", "batch"])
@pytest.mark.parametrize("sampler", ["props", "ma_props", "on_policy"])
def test_a_run_read_back_from_its_identity_is_the_same_run(sampler, behavior_buffer):
    """``maprops train`` reads a run's canonical JSON (``run.json``): settings the identity
    leaves out must come back as they were, including ``behavior_buffer: batch``, which the
    identity omits but whose model default is ``ring`` (a bug that trained batch runs as ring)."""
    from maprops.config import RunSpec
    from tests.helpers import tiny_spec

    settings = {} if sampler == "on_policy" else {"behavior_buffer": behavior_buffer}
    spec = tiny_spec(sampler, **settings)
    back = RunSpec.from_canonical(spec.canonical_json())
    assert back == spec and back.run_id() == spec.run_id()
    from maprops.train_cli import load_run_spec

    assert load_run_spec(spec.canonical_json()) == spec
