"""Studies and output trees through Snakemake at smoke scale: a study reuses every run it shares
with its base figure, builds its table and figure, and two spec folders never write the same
file."""

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import copy_workflow, snakemake_command, tiny_figure
from tests.test_pipeline import planned_jobs, snakemake

TINY_FIGURE = tiny_figure("on_policy, props, ma_props", 3, "  - {game: nonconflict_19, variant: modified, title: Game 19}\n")
TINY_STUDY = """\
study: tiny_kl
title: KL cut-off
figure: tiny
axes:
  sampler.target_kl: [6, authors_code_default]
"""
SMOKE = ("--config", "scale=smoke")


def workflow(root: Path) -> Path:
    """A private copy of the workflow whose specs hold only the tiny figure and study."""
    copy_workflow(root)
    for spec in [
        *(root / "specs/figures").glob("*.yaml"),
        *(root / "specs/studies").glob("*.yaml"),
        *(root / "specs/sweeps").glob("*.yaml"),
    ]:
        spec.unlink()
    (root / "specs/figures/tiny.yaml").write_text(TINY_FIGURE)
    (root / "specs/studies/tiny_kl.yaml").write_text(TINY_STUDY)
    (root / "specs/claims.yaml").unlink(missing_ok=True)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = workflow(tmp_path_factory.mktemp("study"))
    snakemake(root, "results/smoke/figures/tiny.pdf", *SMOKE)
    return root


def test_study_trains_only_the_runs_its_base_figure_lacks(built):
    jobs = planned_jobs(built, "results/smoke/studies/tiny_kl.md", *SMOKE)
    # 2 settings x 3 samplers = 6 curves; on-policy ignores the KL cut-off and the printed
    # setting is the figure's own runs: only PROPS and MA-PROPS at 0.03 are new
    assert jobs["train"] == 2
    snakemake(built, "results/smoke/studies/tiny_kl.md", *SMOKE)
    assert planned_jobs(built, "results/smoke/studies/tiny_kl.md", *SMOKE) == {}


def test_study_outputs(built):
    study = built / "results/smoke/studies"
    curves = pd.read_csv(study / "tiny_kl.csv")
    assert list(curves.columns[:2]) == ["setting", "panel_index"]
    assert list(dict.fromkeys(curves["setting"])) == ["target_kl=6", "target_kl=authors_code_default"]
    figure = pd.read_csv(built / "results/smoke/aggregated/tiny.csv")
    printed = curves[curves["setting"] == "target_kl=6"].drop(columns="setting").reset_index(drop=True)
    on_policy = lambda t: t[t["sampler"] == "on_policy"][["step", "mean"]].reset_index(drop=True)  # noqa: E731
    assert on_policy(printed).equals(on_policy(figure))  # the same run, the same numbers
    seeds = pd.read_csv(study / "tiny_kl.seeds.csv")
    assert len(seeds) == 2 * 3 * 3  # settings x samplers x seeds (one metric)
    assert set(seeds.columns) >= {"setting", "sampler", "seed", "first", "final", "mean"}
    table = (study / "tiny_kl.md").read_text()
    assert "## target_kl=6 (the base figure's runs)" in table
    assert "Overrides: sampler.target_kl = 0.03." in table
    assert table.count("| Game 19 (modified) |") == 0 and table.count("| Game 19 |") == 2
    assert "MA-PROPS − on-policy" in table and "PROPS − on-policy" in table
    assert (study / "tiny_kl.png").read_bytes().startswith(b"\x89PNG")


def refused(workdir: Path, *args: str) -> str:
    """Run snakemake expecting a refusal; returns its output."""
    cmd = snakemake_command(
        workdir,
        "--cores",
        "1",
        *args,
    )
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".snakemake" not in p.parts}


def test_two_spec_folders_never_write_the_same_file(built):
    other = built / "my_specs"
    shutil.copytree(built / "specs", other)
    (other / "figures/tiny.yaml").write_text(TINY_FIGURE.replace("title: tiny", "title: mine"))
    theirs = ("--config", "scale=smoke", f"specs={other}")
    assert "train" not in planned_jobs(built, "all", *theirs)  # the runs are shared by content
    shipped = files(built / "results/smoke")
    snakemake(built, "all", *theirs)
    trees = [p for p in (built / "results").iterdir() if p.name.startswith("my_specs-")]
    assert len(trees) == 1 and (trees[0] / "smoke/aggregated/tiny.csv").is_file()
    assert (trees[0] / ".specs-owner").read_text().strip() == str(other)
    after = files(built / "results/smoke")
    assert {k: v for k, v in after.items() if k in shipped} == shipped  # nothing of the shipped tree changed

    # pointing the other folder at the shipped tree, or at paper_figs/, is refused, writing nothing
    before = files(built)
    message = refused(built, "all", *theirs, "results=results")
    assert "results holds outputs built from shipped specs/" in message
    message = refused(built, "paper_figs/tiny.pdf", *theirs)
    assert "paper_figs/ holds the figures of the shipped specs/" in message
    assert files(built) == before


def test_study_table_gives_named_variants_a_column_and_a_difference():
    from pipeline.study_table import study_markdown

    finals = {"on_policy": [0.0, 0.1, 0.2], "ma_props": [0.5, 0.6, 0.7], "ma_props_tabular": [0.9, 1.0, 1.0]}
    seeds = pd.DataFrame(
        [
            {"setting": "base", "panel_index": 0, "panel_title": "Game 1", "sampler": s, "seed": i, "metric": "m", "final": v}
            for s, values in finals.items()
            for i, v in enumerate(values)
        ]
    )
    settings = [{"label": "base", "resolved": {}, "base": True}]
    table = study_markdown(seeds, settings, "m", "T", {"ma_props_tabular": "MA-PROPS, tabular"})
    header = next(line for line in table.splitlines() if line.startswith("| panel"))
    assert header.split(" | ")[1:] == [
        "on-policy",
        "MA-PROPS",
        "MA-PROPS, tabular",
        "MA-PROPS − on-policy",
        "MA-PROPS, tabular − on-policy |",
    ]
    row = next(line for line in table.splitlines() if line.startswith("| Game 1"))
    assert row.split(" | ")[-1].startswith("+0.87 [")  # tabular minus on-policy: 0.967 - 0.1
    without_baseline = study_markdown(seeds[seeds["sampler"] != "on_policy"], settings, "m", "T")
    assert "−" not in without_baseline and "ma_props_tabular" in without_baseline  # unnamed: shown by its key


def test_a_replication_study_trains_fresh_seeds_of_the_same_runs(built):
    """``seeds: {start, count}`` and no axes: the base figure's runs on other seeds, in files
    named by those seeds; its table carries the seed range as the setting."""
    from pipeline.expand import Plan

    study = built / "specs/studies/tiny_again.yaml"
    study.write_text("study: tiny_again\ntitle: again\nfigure: tiny\nseeds: {start: 5, count: 2}\n")
    try:
        plan = Plan(built / "specs", "smoke")
        cells = plan.study_manifest("tiny_again")["cells"]
        figure = {c["sampler"]: c for c in plan.manifest("tiny")["cells"]}
        for cell in cells:
            assert cell["seeds"] == [5, 6] and cell["setting"] == "seeds 5-6"
            assert cell["files"] == [figure[cell["sampler"]]["files"][0].replace("seeds_0-2", "seeds_5-6")]
        assert planned_jobs(built, "results/smoke/studies/tiny_again.md", *SMOKE)["train"] == 3
        snakemake(built, "results/smoke/studies/tiny_again.md", *SMOKE)
        seeds = pd.read_csv(built / "results/smoke/studies/tiny_again.seeds.csv")
        assert set(seeds["seed"]) == {5, 6} and set(seeds["setting"]) == {"seeds 5-6"}
    finally:
        study.unlink()


def test_seeds_of_a_range_train_as_they_would_alone():
    from maprops.train import train
    from tests.helpers import tiny_spec

    spec = tiny_spec("ma_props", iterations=2)
    block, alone = train(spec, [105, 106]), train(spec, [106])
    rows = block["seed"] == 106
    for column, values in alone.items():
        assert (block[column][rows] == values).all(), column


def test_the_behavior_buffer_studies_compare_the_ring_with_release_0_1s_runs():
    """The shipped behavior_buffer studies: the ring setting is the base figure's runs; the
    batch setting's PROPS and MA-PROPS runs are the ones made before the ring existed (their
    identity leaves behavior_buffer: batch out), and on-policy runs are shared."""
    from pipeline.expand import Plan

    plan = Plan(Path(__file__).resolve().parents[1] / "specs", "smoke")
    cells = plan.library.study_cells("behavior_buffer_2x2", "smoke")
    runs = {(c.setting, c.panel.game, c.sampler): c.run for c in cells}
    figure = {(c.panel.game, c.sampler): c.run for c in plan.library.cells("fig11", "smoke")}
    for (setting, game, sampler), run in runs.items():
        if setting == "behavior_buffer=ring" or sampler == "on_policy":
            assert run.run_id() == figure[(game, sampler)].run_id()
        else:
            assert run.sampler.behavior_buffer == "batch" and '"behavior_buffer"' not in run.canonical_json()
