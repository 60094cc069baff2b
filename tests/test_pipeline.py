"""The Snakemake pipeline end to end at smoke scale: specs -> train -> aggregate -> figure."""

import csv
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import copy_workflow, snakemake_command, tiny_figure

REPO = Path(__file__).resolve().parents[1]
FIGURE = "fig5_matrix"  # 5 panels x 3 samplers: the smallest real paper figure


def snakemake(workdir: Path, *args: str) -> str:
    cmd = snakemake_command(
        workdir,
        "--cores",
        "2",
        *args,
    )
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> job count that a dry run would execute."""
    out = snakemake(workdir, "--dry-run", *args)
    if "Nothing to be done" in out:
        return {}
    stats = out[out.index("Job stats:") :].splitlines()[3:]
    jobs = {}
    for line in stats:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """fig5_matrix built once at smoke scale in a private copy of the workflow and specs."""
    workdir = tmp_path_factory.mktemp("pipeline")
    copy_workflow(workdir)
    config = ["--config", "scale=smoke"]
    snakemake(workdir, f"results/smoke/figures/{FIGURE}.pdf", *config)
    return workdir, config


def test_smoke_figure_end_to_end(built):
    workdir, _ = built
    pdf = workdir / f"results/smoke/figures/{FIGURE}.pdf"
    png = workdir / f"results/smoke/figures/{FIGURE}.png"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
    assert png.read_bytes().startswith(b"\x89PNG")
    rows = list(csv.DictReader(open(workdir / f"results/smoke/aggregated/{FIGURE}.csv")))
    curves = {(r["panel"], r["sampler"]) for r in rows}
    assert len(curves) == 5 * 3
    assert {r["metric"] for r in rows} == {"success_rate"}
    for r in rows:
        assert r["n_seeds"] == "3"
        assert float(r["ci_low"]) <= float(r["mean"]) <= float(r["ci_high"])
        assert 0 <= float(r["mean"]) <= 1
    steps = sorted({int(r["step"]) for r in rows if r["panel"] == "climbing/modified"})
    assert steps == [45, 90]  # smoke: 2 PPO updates of n = 45
    assert not list(workdir.rglob("*.tmp"))


def test_the_aggregation_reads_the_manifest_file_a_rule_writes(built):
    """The ``manifest`` rule writes what the aggregation reads (which files make each curve) to
    a file; its content is a param, so an edit that changes only the manifest (a panel title)
    rewrites it and re-aggregates, retraining nothing, and the aggregate shows the edit."""
    from pipeline.expand import Plan

    workdir, config = built
    manifest = workdir / f"results/smoke/manifests/figure/{FIGURE}.json"
    expected = Plan(workdir / "specs", "smoke", cores=2).manifest(FIGURE)
    assert json.loads(manifest.read_text()) == expected
    assert (workdir / f"results/smoke/logs/manifest/figure/{FIGURE}.log").is_file()
    record = json.loads((workdir / f"results/smoke/aggregated/{FIGURE}.inputs.json").read_text())
    assert sorted(r["path"] for r in record["results"]) == sorted(f for c in expected["cells"] for f in c["files"])

    target = f"results/smoke/figures/{FIGURE}.pdf"
    spec = workdir / f"specs/figures/{FIGURE}.yaml"
    original = spec.read_text()
    spec.write_text(original.replace('title: "Climbing"', 'title: "Climbing (edited)"'))
    try:
        assert planned_jobs(workdir, target, *config) == {"manifest": 1, "aggregate": 1, "figure": 1}
        snakemake(workdir, target, *config)
        assert "Climbing (edited)" in manifest.read_text()
        rows = csv.DictReader(open(workdir / f"results/smoke/aggregated/{FIGURE}.csv"))
        assert {r["panel_title"] for r in rows if r["panel"] == "climbing/modified"} == {"Climbing (edited)"}
    finally:
        spec.write_text(original)
    snakemake(workdir, target, *config)
    assert planned_jobs(workdir, target, *config) == {}


def test_rebuilds_only_what_changed(built):
    workdir, config = built
    target = f"results/smoke/figures/{FIGURE}.pdf"
    assert planned_jobs(workdir, target, *config) == {}
    # more seeds: one new seed block per cell is trained, nothing old is retrained
    scales = workdir / "specs/scales.yaml"
    scales.write_text(scales.read_text().replace("seeds: 3", "seeds: 5"))
    jobs = planned_jobs(workdir, target, *config)
    assert jobs.get("train") == 15 and jobs.get("aggregate") == 1 and jobs.get("figure") == 1
    scales.write_text(scales.read_text().replace("seeds: 5", "seeds: 3"))
    assert planned_jobs(workdir, target, *config) == {}
    # an edited plotting script redraws the figure and nothing else
    plot = workdir / "pipeline/plot.py"
    plot.write_text(plot.read_text() + "\n# edited\n")
    assert planned_jobs(workdir, target, *config) == {"figure": 1}
    snakemake(workdir, target, *config)
    # an edit to a rule's command alone reruns nothing (the workflow profile's rerun-triggers
    # leave "code" out): a run spec's content is fixed by its path, a result by its run spec
    rules = workdir / "pipeline/rules/train.smk"
    command = '"{PYTHON:q} -m pipeline.atomic write {output:q} {params.spec:q} > {log:q} 2>&1"'
    assert command in rules.read_text()
    rules.write_text(rules.read_text().replace(command, command[:-1] + ' && test -s {output:q}"'))
    assert planned_jobs(workdir, target, *config) == {}


def test_figure_and_table_record_the_results_that_fed_them(built):
    workdir, _ = built
    record = json.loads((workdir / f"results/smoke/aggregated/{FIGURE}.inputs.json").read_text())
    results = record["results"]
    assert len(results) == 5 * 3  # one seed block per cell at smoke scale
    for r in results:
        assert hashlib.sha256((workdir / r["path"]).read_bytes()).hexdigest() == r["sha256"]
        assert r["seeds"] == [0, 1, 2] and f"runs/{r['run_id']}/" in r["path"]
    pdf = (workdir / f"results/smoke/figures/{FIGURE}.pdf").read_bytes()
    assert b"maprops results: " + results[0]["run_id"].encode() in pdf


def test_seed_block_size_does_not_change_the_aggregate(built):
    """``seed_block: auto`` (the shipped figures' setting) against explicit 3-seed blocks: other
    processes, same numbers, byte for byte. On a one-panel figure (3 cells, 9 one-seed jobs);
    smoke jobs take seconds, so the copy's split floor is lowered to let ``auto`` split them."""
    workdir, _ = built
    scales, resources = workdir / "specs/scales.yaml", workdir / "pipeline/resources.py"
    figure = workdir / "specs/figures/tiny_blocks.yaml"
    original, model = scales.read_text(), resources.read_text()
    figure.write_text(
        tiny_figure("on_policy, props, ma_props", 3, "  - {game: nonconflict_19, variant: modified, title: G}\n")
        .replace("figure: tiny", "figure: tiny_blocks")
        .replace("seed_block: 3", "seed_block: auto")
    )
    scales.write_text(
        original + "  smoke_auto:\n    seeds: 3\n    max_iterations: 2\n    max_batch_size: 64\n"
        "    max_samples: 32\n    eval_episodes: 10\n"
    )
    assert "SPLIT_FLOOR_S = 600.0" in model
    resources.write_text(model.replace("SPLIT_FLOOR_S = 600.0", "SPLIT_FLOOR_S = 0.0"))
    try:
        whole = snakemake(workdir, "results/smoke/aggregated/tiny_blocks.csv", "--config", "scale=smoke")
        assert "rule train:" not in whole  # fig5_matrix's game-19 runs, in 3-seed blocks
        log = snakemake(workdir, "results/smoke_auto/aggregated/tiny_blocks.csv", "--config", "scale=smoke", "cores=512")
        assert log.count("rule train:") == 3 * 3  # auto split every cell into 1-seed blocks
        assert "seeds_0-0.csv" in log
        split = (workdir / "results/smoke_auto/aggregated/tiny_blocks.csv").read_bytes()
        assert split == (workdir / "results/smoke/aggregated/tiny_blocks.csv").read_bytes()
    finally:
        scales.write_text(original)
        resources.write_text(model)
        figure.unlink()


def test_summary_prints_final_point_per_curve(built, capsys):
    from pipeline.summary import main

    workdir, _ = built
    assert main([str(workdir / f"results/smoke/aggregated/{FIGURE}.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| panel | on_policy | props | ma_props |"
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| 2x2 game 19",
        "| 2x2 game 20",
        "| 2x2 game 21",
        "| Climbing",
        "| Penalty",
    ]
    assert main([str(workdir / f"results/smoke/aggregated/{FIGURE}.csv"), "--metric", "joint_tv"]) == 1


def test_a_panel_can_take_its_behavior_settings_from_a_sweep(tmp_path):
    """The sweep runs first (a checkpoint), then the figure trains nothing new for PROPS and
    MA-PROPS: it aggregates exactly the sweep's best run of each sampler."""
    copy_workflow(tmp_path)
    (tmp_path / "specs/hyperparams/table1.yaml").write_text(
        "learning_rate: [0.3, 0.003]\nbatch_size: [1]\ntarget_kl: [0.03]\nclip_coef: [0.3]\n"
    )
    for spec in [*(tmp_path / "specs/figures").glob("*.yaml"), *(tmp_path / "specs/studies").glob("*.yaml")]:
        spec.unlink()
    (tmp_path / "specs/claims.yaml").unlink()  # its claims read the figures removed above
    (tmp_path / "specs/figures/figsweep.yaml").write_text(
        "figure: figsweep\ntitle: sweep-chosen\nalgorithm: mappo\nmetric: success_rate\nylabel: Success rate\n"
        "samplers: [on_policy, props, ma_props]\nseeds: 3\nseed_block: 3\n"
        "panels:\n  - {game: nonconflict_19, variant: modified, title: Game 19, sweep: sweep_nonconflict_19}\n"
    )
    log = snakemake(tmp_path, "results/smoke/figures/figsweep.pdf", "--config", "scale=smoke")
    assert log.count("rule train:") == 5  # 2 samplers x 2 settings for the sweep + on-policy
    with open(tmp_path / "results/smoke/sweeps/sweep_nonconflict_19.csv") as f:
        best = {row["sampler"]: row["run_id"] for row in csv.DictReader(f) if row["best"] == "True"}
    assert set(best) == {"props", "ma_props"}
    aggregate_inputs = log[log.index("rule aggregate:") :].splitlines()[1]
    assert all(f"runs/{run_id}/seeds_0-2.csv" in aggregate_inputs for run_id in best.values())
    assert (tmp_path / "results/smoke/figures/figsweep.pdf").stat().st_size > 0
