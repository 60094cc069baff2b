"""Run-spec overrides on figures, panels and studies: they change exactly the fields they name,
give the run a new identity, resolve named values, and bad ones are FILE:LINE errors."""

import re
import shutil
from pathlib import Path

import pytest

from maprops.specs import SpecErrors, SpecLibrary
from tests.helpers import tiny_figure

REPO = Path(__file__).resolve().parents[1]

TINY_FIGURE = tiny_figure(
    "on_policy, ma_props",
    4,
    ("  - {game: nonconflict_19, variant: modified, title: Game 19}\n  - {game: nonconflict_01, title: Game 1}\n"),
)


@pytest.fixture
def specs(tmp_path):
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    return tmp_path / "specs"


def write_figure(specs: Path, extra: str = "", panel_extra: str = "") -> Path:
    path = specs / "figures/tiny.yaml"
    text = TINY_FIGURE.replace("title: Game 19}", f"title: Game 19{panel_extra}}}") + extra
    path.write_text(text)
    return path


def runs(library, figure="tiny", scale="full"):
    return {(c.panel.game, c.sampler): c.run for c in library.cells(figure, scale)}


def spec_error(specs: Path) -> str:
    with pytest.raises(SpecErrors) as err:
        SpecLibrary(specs)
    return str(err.value)


def test_figure_override_changes_the_named_field_and_the_identity(specs):
    write_figure(specs)
    base = runs(SpecLibrary(specs))
    write_figure(specs, "overrides: {ppo.learning_rate: 0.01, total_steps: 400}\n")
    changed = runs(SpecLibrary(specs))
    for key, run in changed.items():
        assert run.ppo.learning_rate == 0.01 and run.total_steps == 400
        assert run.model_dump(exclude={"ppo", "total_steps"}) == base[key].model_dump(exclude={"ppo", "total_steps"})
        assert run.ppo.model_dump(exclude={"learning_rate"}) == base[key].ppo.model_dump(exclude={"learning_rate"})
        assert run.run_id() != base[key].run_id()


def test_sampler_override_leaves_on_policy_runs_alone(specs):
    write_figure(specs)
    base = runs(SpecLibrary(specs))
    write_figure(specs, "overrides: {sampler.target_kl: 0.03}\n")
    changed = runs(SpecLibrary(specs))
    assert changed[("nonconflict_19", "on_policy")].run_id() == base[("nonconflict_19", "on_policy")].run_id()
    assert changed[("nonconflict_19", "ma_props")].sampler.target_kl == 0.03
    assert changed[("nonconflict_19", "ma_props")].run_id() != base[("nonconflict_19", "ma_props")].run_id()


def test_named_value_is_the_same_run_as_its_number(specs):
    write_figure(specs, "overrides: {sampler.target_kl: authors_code_default}\n")
    named = runs(SpecLibrary(specs))
    write_figure(specs, "overrides: {sampler.target_kl: 0.03}\n")
    typed = runs(SpecLibrary(specs))
    assert {k: r.run_id() for k, r in named.items()} == {k: r.run_id() for k, r in typed.items()}


def test_panel_override_applies_to_its_panel_after_the_figure(specs):
    write_figure(specs, "overrides: {ppo.learning_rate: 0.01}\n", panel_extra=", overrides: {ppo.learning_rate: 0.05}")
    resolved = runs(SpecLibrary(specs))
    assert resolved[("nonconflict_19", "ma_props")].ppo.learning_rate == 0.05
    assert resolved[("nonconflict_01", "ma_props")].ppo.learning_rate == 0.01


def test_scale_caps_still_apply_to_overridden_runs(specs):
    write_figure(specs, "overrides: {total_steps: 400}\n")
    smoke = runs(SpecLibrary(specs), scale="smoke")
    assert all(run.total_steps == 2 * run.ppo.batch_size and run.eval_episodes == 10 for run in smoke.values())


@pytest.mark.parametrize(
    "extra, panel_extra, field, message",
    [
        (
            "overrides: {ppo.learnign_rate: 0.01}\n",
            "",
            "overrides.ppo.learnign_rate",
            "unknown run-spec field 'ppo.learnign_rate'; known: ppo.adam_eps",
        ),
        ("overrides: {ppo.learning_rate: '0.01'}\n", "", "overrides.ppo.learning_rate", "valid number"),
        ("overrides: {ppo.batch_size: true}\n", "", "overrides.ppo.batch_size", "valid integer"),
        ("overrides: {ppo.learning_rate: -1}\n", "", "overrides.ppo.learning_rate", "greater than 0"),
        (
            "overrides: {sampler.target_kl: authors_default}\n",
            "",
            "overrides.sampler.target_kl",
            "unknown named value 'authors_default'; known: authors_code_default",
        ),
        ("overrides: {sampler.kind: props}\n", "", "overrides.sampler.kind", "cannot be overridden"),
        ("overrides: {ppo..learning_rate: 0.1}\n", "", "overrides.ppo..learning_rate", "malformed path"),
        ("", ", overrides: {game.lone_penalty: 0.1}", "panels.0.overrides.game.lone_penalty", "unknown run-spec field"),
        ("", ", overrides: {total_steps: 5}", "panels.0.overrides", "smaller than one PPO batch"),
    ],
)
def test_bad_overrides_are_located_errors(specs, extra, panel_extra, field, message):
    path = write_figure(specs, extra, panel_extra)
    text = spec_error(specs)
    match = re.search(rf"^{re.escape(str(path))}:(\d+): ([^:]+): (.*)$", text, re.M)
    assert match, text
    assert match.group(2) == field and message in match.group(3), text
    expected_line = 10 if panel_extra else 12  # the panel's line, or the overrides line
    assert int(match.group(1)) == expected_line, text


def test_on_policy_only_figure_cannot_take_sampler_settings(specs):
    path = write_figure(specs, "overrides: {sampler.target_kl: 0.03}\n")
    path.write_text(path.read_text().replace("samplers: [on_policy, ma_props]", "samplers: [on_policy]"))
    assert "on-policy sampling has no settings" in spec_error(specs)


def test_study_settings_cross_the_axes_and_reuse_the_base_runs(specs):
    write_figure(specs)
    (specs / "studies/tiny_study.yaml").write_text(
        "study: tiny_study\ntitle: t\nfigure: tiny\npanels: [nonconflict_19]\n"
        "axes:\n  ppo.learning_rate: [0.1, 0.01]\n  sampler.target_kl: [6, authors_code_default]\n"
    )
    library = SpecLibrary(specs)
    cells = library.study_cells("tiny_study", "full")
    labels = list(dict.fromkeys(c.setting for c in cells))
    assert labels == [
        "learning_rate=0.1, target_kl=6",
        "learning_rate=0.1, target_kl=authors_code_default",
        "learning_rate=0.01, target_kl=6",
        "learning_rate=0.01, target_kl=authors_code_default",
    ]
    assert {c.panel.game for c in cells} == {"nonconflict_19"}
    base = {c.sampler: c.run.run_id() for c in library.cells("tiny", "full") if c.panel.game == "nonconflict_19"}
    first = {c.sampler: c.run.run_id() for c in cells if c.setting == labels[0]}
    assert first == base  # the printed setting is the base figure's own runs
    on_policy = {c.run.run_id() for c in cells if c.sampler == "on_policy"}
    assert len(on_policy) == 2  # one per learning rate: the KL cut-off means nothing to on-policy sampling
    assert len({c.run.run_id() for c in cells if c.sampler == "ma_props"}) == 4


@pytest.mark.parametrize(
    "study, field, message",
    [
        ("figure: nope\naxes: {ppo.learning_rate: [0.1]}\n", "figure", "unknown figure 'nope'"),
        (
            "figure: fig11\npanels: [gridworld]\naxes: {ppo.learning_rate: [0.1]}\n",
            "panels.0",
            "has no panel of game 'gridworld'",
        ),
        ("figure: fig11\naxes: {ppo.lr: [0.1]}\n", "axes.ppo.lr", "unknown run-spec field"),
        ("figure: fig11\naxes: {ppo.learning_rate: [0.1, 0.1]}\n", "axes", "lists a value twice"),
        ("figure: fig11\naxes:\n  ppo.learning_rate: [0.1, x]\n", "axes.ppo.learning_rate.1", "valid number"),
    ],
)
def test_bad_studies_are_located_errors(specs, study, field, message):
    path = specs / "studies/bad.yaml"
    path.write_text("study: bad\ntitle: t\n" + study)
    text = spec_error(specs)
    match = re.search(rf"^{re.escape(str(path))}:(\d+): ([^:]+): (.*)$", text, re.M)
    assert match and match.group(2) == field and message in match.group(3), text


def test_names_are_unique_across_figures_studies_and_sweeps(specs):
    (specs / "studies/fig11.yaml").write_text("study: fig11\ntitle: t\nfigure: fig11\naxes: {ppo.learning_rate: [0.1]}\n")
    assert "the name 'fig11' is also a figure" in spec_error(specs)
