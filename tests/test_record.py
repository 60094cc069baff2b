"""Record vs build: the committed record is never a build output, ``maprops publish`` is its one
writer, and ``maprops verify`` retrains recorded cells and finds any per-seed value that moved."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from maprops.cli import main
from tests.helpers import copy_workflow, snakemake_command, tiny_figure

REPO = Path(__file__).resolve().parents[1]
PANELS = "  - {game: nonconflict_19, variant: modified, title: 'Game 19'}\n"


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(workdir, "--cores", "2", *args), capture_output=True, text=True)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A private workflow whose figure ``tiny`` (game 19, every sampler, 3 seeds, smoke scale)
    is built and published into its record."""
    workdir = copy_workflow(tmp_path_factory.mktemp("record"))
    (workdir / "specs/figures/tiny.yaml").write_text(tiny_figure("on_policy, props, ma_props", 3, PANELS))
    built = snakemake(workdir, "results/smoke/figures/tiny.pdf", "--config", "scale=smoke")
    assert built.returncode == 0, built.stderr[-3000:]
    publish = cli(workdir, "publish", "tiny", "--scale", "smoke")
    assert publish.returncode == 0, publish.stderr
    return workdir


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """``maprops ARGS`` run in ``workdir`` (its specs/, results/ and record/)."""
    return subprocess.run([sys.executable, "-m", "maprops.cli", *args], capture_output=True, text=True, cwd=workdir)


def test_publish_copies_the_build_and_indexes_where_it_came_from(recorded):
    index = json.loads((recorded / "record/index.json").read_text())
    entry = index["entries"]["smoke/tiny"]
    assert entry["kind"] == "figure" and entry["seed_runs"] == 3 * 3 and entry["result_files"] == 3
    for rel in entry["files"]:
        assert (recorded / "record" / rel).read_bytes() == (recorded / "results" / rel).read_bytes()
    assert len(entry["engines"]) == 1 and entry["engines"][0] != "unknown"
    report = (recorded / "record/REPORT.md").read_text().splitlines()
    assert report[0] == "# Claims report, scale full" and report[2].startswith("Rests on ")


def test_verify_passes_on_a_true_record(recorded):
    done = cli(recorded, "verify", "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verify: 3 cells (9 seed runs) of 1 recorded entries" in done.stdout
    assert "agree on all 9 seed runs checked" in done.stdout
    assert done.stdout.count(": ok (") == 3  # a progress line per cell


def test_verify_names_every_moved_number_and_fails(recorded, tmp_path):
    """A recorded value one ulp away from what this checkout computes is found, with its cell,
    seed, statistic and both values; a subset of seeds checks only those seeds."""
    record = tmp_path / "record"
    shutil.copytree(recorded / "record", record)
    table = record / "smoke/aggregated/tiny.seeds.csv"
    rows = list(csv.DictReader(table.open()))
    victim = next(r for r in rows if r["sampler"] == "ma_props" and r["seed"] == "1")
    old = float(victim["mean"])
    victim["mean"] = repr(old + 1e-12)
    with table.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    done = cli(recorded, "verify", "tiny", "--record", str(record), "--cells", "nonconflict_19/ma_props")
    assert done.returncode == 1
    assert f"smoke/tiny nonconflict_19/modified ma_props success_rate seed 1 mean: record {old + 1e-12!r}, HEAD {old!r}" in (
        done.stderr
    )
    assert "verify: 1 differences" in done.stderr
    untouched = cli(recorded, "verify", "tiny", "--record", str(record), "--seeds", "0-0")
    assert untouched.returncode == 0, untouched.stderr  # seed 0 only: the moved seed is not checked


def test_verify_reports_a_run_whose_spec_changed_without_training(recorded, tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(recorded / "specs", specs)
    table3 = specs / "hyperparams/table3.yaml"
    table3.write_text(table3.read_text().replace("ppo_learning_rate: 0.1", "ppo_learning_rate: 0.05", 1))
    done = cli(recorded, "verify", "--specs", str(specs), "-n")
    assert done.returncode == 1
    assert done.stdout.count("is not one the record was made from") == 3, done.stdout


def test_publish_refuses_an_unbuilt_target_and_writes_nothing(recorded):
    before = {p: p.read_bytes() for p in (recorded / "record").rglob("*") if p.is_file()}
    done = cli(recorded, "publish", "fig5_matrix", "--scale", "smoke")
    assert done.returncode == 1 and "not built yet" in done.stderr
    assert "results/smoke/aggregated/fig5_matrix.csv" in done.stderr
    assert {p: p.read_bytes() for p in (recorded / "record").rglob("*") if p.is_file()} == before
    unknown = cli(recorded, "publish", "fig_99", "--scale", "smoke")
    assert unknown.returncode == 1 and "'fig_99' is not a figure, study, calibration or 'premise'" in unknown.stderr


def test_no_rule_builds_into_the_record_and_nothing_a_build_writes_is_tracked():
    tracked = subprocess.run(["git", "ls-files", "results", "paper_figs"], capture_output=True, text=True, cwd=REPO).stdout
    assert tracked.split() == ["paper_figs/.gitkeep"]
    dry = subprocess.run(
        snakemake_command(REPO, "-n", "--cores", "1", "record/full/aggregated/fig11.csv"), capture_output=True, text=True
    )
    assert dry.returncode != 0 and "No rule to produce record/full/aggregated/fig11.csv" in dry.stdout + dry.stderr


def test_a_fresh_clone_trains_the_headline_figure(tmp_path):
    """The README's first command in a clone: fig11's 63 curves are trained, not re-plotted
    from anything the repository holds."""
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=REPO, check=True).stdout.split()
    for rel in files:
        if (REPO / rel).is_file():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / rel, tmp_path / rel)
    dry = subprocess.run(
        snakemake_command(tmp_path, "-n", "--cores", "2", "paper_figs/fig11.pdf"), capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr[-2000:]
    jobs = dict(
        line.split()[:2] for line in dry.stdout[dry.stdout.index("Job stats:") :].splitlines()[3:] if len(line.split()) == 2
    )
    assert jobs["train"] == "63" and jobs["paper_figure"] == "1", jobs


def test_withdraw_takes_an_entry_out_of_the_record_and_its_report(recorded, tmp_path):
    record = tmp_path / "record"
    shutil.copytree(recorded / "record", record)
    files = json.loads((record / "index.json").read_text())["entries"]["smoke/tiny"]["files"]
    done = cli(recorded, "publish", "--withdraw", "tiny", "--scale", "smoke", "--record", str(record))
    assert done.returncode == 0, done.stderr
    assert "withdrew smoke/tiny (figure, 5 files)" in done.stdout
    assert json.loads((record / "index.json").read_text())["entries"] == {}
    assert not any((record / rel).exists() for rel in files)
    assert not (record / "smoke").exists()  # its folders, left empty, go too
    assert "Rests on no results yet" in (record / "REPORT.md").read_text()
    again = cli(recorded, "publish", "--withdraw", "tiny", "--scale", "smoke", "--record", str(record))
    assert again.returncode == 1 and "not in " in again.stderr and "smoke/tiny" in again.stderr


def test_the_drift_guard_covers_each_sampler_the_fixed_target_path_and_gridworld_cheaply():
    """CI's sample (.ci/drift_guard.yaml): at least one matrix cell per sampler at 100 seeds with
    the printed settings, a fixed-target cell and a GridWorld cell, in a few CPU-minutes."""
    from pipeline.expand import Plan
    from pipeline.record import Entry, entry_kind
    from pipeline.resources import train_seconds
    from pipeline.verify import choose_cells, choose_seeds, manifest_of, read_sample, run_of

    plan = Plan(REPO / "specs", "full")
    seconds, covered = 0.0, set()
    for name, cells, seeds in read_sample(REPO / ".ci/drift_guard.yaml"):
        entry = Entry(entry_kind(plan, name), name, "full")
        for cell in choose_cells(manifest_of(plan, entry)["cells"], cells):
            spec = json.loads(plan.runs[run_of(cell)])
            chosen = choose_seeds(cell["seeds"], seeds)
            seconds += train_seconds(spec, len(chosen))
            covered.add((spec["game"]["kind"], spec["sampler"]["kind"], bool(spec.get("fixed_target")), len(chosen)))
    matrix_100 = {sampler for kind, sampler, fixed, n in covered if kind == "matrix" and not fixed and n == 100}
    assert matrix_100 == {"on_policy", "props", "ma_props"}
    assert any(fixed for _, _, fixed, _ in covered)
    assert any(kind == "gridworld" and not fixed for kind, _, fixed, _ in covered)
    assert seconds < 6 * 60, seconds  # CPU seconds; two jobs at once in CI


def test_verify_and_publish_refuse_bad_requests_in_one_line(recorded, capsys, monkeypatch):
    monkeypatch.chdir(recorded)
    assert main(["verify", "nosuch"]) == 2
    assert "'nosuch' is not a figure, study, calibration or 'premise'" in capsys.readouterr().err
    assert main(["verify", "fig11"]) == 2
    assert "'fig11' is not recorded; recorded: smoke/tiny" in capsys.readouterr().err
    assert main(["verify", "--seeds", "x"]) == 2
    assert "--seeds: 'x' is neither a count K nor a range LO-HI" in capsys.readouterr().err
    bad = recorded / "bad_sample.yaml"
    bad.write_text(yaml.safe_dump({"check": []}))
    assert main(["verify", "--sample", str(bad)]) == 2
    assert "not a sample file" in capsys.readouterr().err
    # A selection that matches nothing is refused, not passed having checked nothing.
    assert main(["verify", "--seeds", "0"]) == 2
    assert "--seeds: 0 selects no seed" in capsys.readouterr().err
    assert main(["verify", "tiny", "--seeds", "2-1"]) == 2
    assert "'2-1' is an empty range" in capsys.readouterr().err
    assert main(["verify", "tiny", "--seeds", "50-60", "-n"]) == 2
    assert "tiny: --seeds 50-60 selects no recorded cell and seed" in capsys.readouterr().err
    typo = recorded / "typo_sample.yaml"
    typo.write_text(yaml.safe_dump({"checks": [{"entry": "tiny", "cells": "nonconflict_19/ma_prop", "seeds": 1}]}))
    assert main(["verify", "--sample", str(typo), "-n"]) == 2
    err = capsys.readouterr().err
    assert "tiny: --cells nonconflict_19/ma_prop --seeds 1 selects no recorded cell and seed" in err
    assert "its cells: nonconflict_19/ma_props, nonconflict_19/on_policy, nonconflict_19/props" in err
    # Over the whole record too, even where a premise table (no cells, no seeds) is recorded.
    record = recorded / "record_with_premise"
    shutil.copytree(recorded / "record", record)
    index = json.loads((record / "index.json").read_text())
    index["entries"]["smoke/premise"] = {"files": ["smoke/premise.csv"], "kind": "premise", "name": "premise", "scale": "smoke"}
    (record / "index.json").write_text(json.dumps(index))
    assert main(["verify", "--record", str(record), "--cells", "typo/ma_props", "-n"]) == 2
    assert "the record: --cells typo/ma_props selects no recorded cell and seed" in capsys.readouterr().err
    assert main(["verify", "--record", str(record), "premise", "-n"]) == 0  # the premise alone is a selection
    assert "and 1 premise tables" in capsys.readouterr().out


def test_the_cli_says_its_version_and_its_help_is_plain_text(capsys):
    import maprops

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"maprops {maprops.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "verify" in text and "publish" in text and "``" not in text and ":mod:" not in text
