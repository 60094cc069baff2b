"""The cost model (pipeline/resources.py) against measured train jobs, ``seed_block: auto``, and
the ``maprops plan`` forecast built on both."""

import csv
import functools
import re
from pathlib import Path

import pytest
import yaml

from maprops.cli import main
from maprops.kinds import game_kind
from maprops.kinds.base import ERROR_S_PER_JOINT_ACTION
from maprops.specs.library import SpecLibrary
from pipeline.expand import Plan, seed_blocks
from pipeline.plan import forecast_seconds, train_jobs
from pipeline.resources import (
    JOB_SLACK,
    MAX_JOB_S,
    SPLIT_FLOOR_S,
    STARTUP_S,
    block_ladder,
    train_runtime_minutes,
    train_seconds,
)
from tests.helpers import copy_workflow, snakemake_command

REPO = Path(__file__).resolve().parents[1]
MEASUREMENTS = REPO / "pipeline/cost_measurements.csv"
SLURM_JOBS = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())["jobs"]


def measurements() -> list[dict]:
    with open(MEASUREMENTS) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@functools.cache
def shipped_games() -> dict:
    return SpecLibrary(REPO / "specs").games


def game(row: dict) -> dict:
    """The row's game as a run spec holds it: the shipped spec's, where the kind prices each task
    by its size (``GameKind.task_size``), else only the kind and name the model reads."""
    if game_kind(row["kind"]).task_size is None:
        return {"kind": row["kind"], "name": row["game"]}
    return shipped_games()[row["game"]].to_config().model_dump(mode="json")


def spec(row: dict) -> dict:
    """The fields of a run spec the model reads, from one row of the table."""
    data = {
        "game": game(row),
        "sampler": {"kind": row["sampler"]},
        "ppo": {"batch_size": int(row["ppo_batch"])},
        "total_steps": int(row["total_steps"]),
        "eval_every": int(row["eval_every"]),
    }
    if row["sampler"] != "on_policy":
        data["sampler"]["batch_size"] = int(row["behavior_batch"])
        data["sampler"]["behavior_buffer"] = row.get("behavior_buffer") or "batch"  # rows before 0.2: batch
    if row["fixed_target"] == "true":
        data["fixed_target"] = True
    return data


@pytest.mark.parametrize("row", measurements(), ids=lambda r: f"{r['source']}-{r['sampler']}")
def test_model_agrees_with_every_measured_train_job(row):
    """Within a factor 2 (``check: 2x``); where the KL cut-off cut the behavior update short
    (``check: upper``), at least the measured time. The measurements are the train loop's wall
    time, without process start-up."""
    model = train_seconds(spec(row), int(row["seeds"])) - STARTUP_S
    measured = float(row["seconds"])
    assert row["check"] in ("2x", "upper"), f"{MEASUREMENTS.name}: check must be 2x or upper, got {row['check']!r}"
    if row["check"] == "2x":
        assert measured / 2 <= model <= 2 * measured, (model, measured)
    else:
        assert model >= measured, (model, measured)
    # SAFETY (2) x an estimate at least half the measurement: the SLURM request covers the job
    assert train_runtime_minutes(spec(row), int(row["seeds"])) * 60 >= measured


def test_measurements_cover_every_game_kind_and_sampler():
    """Every (game kind, sampler) of the paper's games is held within 2x by at least one
    measurement; the package kinds (pettingzoo, vmas) have on-policy rows held within 2x, and
    their PROPS / MA-PROPS rows at least as upper bounds (their behavior lr 0.3 stops updates)."""
    rows = measurements()
    held = {(r["kind"], r["sampler"]) for r in rows if r["check"] == "2x"}
    kinds, samplers = ("matrix", "gridworld", "boulderpush", "lbf"), ("on_policy", "props", "ma_props")
    assert {(kind, sampler) for kind in kinds for sampler in samplers} <= held
    assert {("pettingzoo", "on_policy"), ("vmas", "on_policy")} <= held
    bounded = {(r["kind"], r["sampler"]) for r in rows}
    assert {(kind, sampler) for kind in ("pettingzoo", "vmas") for sampler in samplers} <= bounded


def test_block_ladder_is_the_divisors_largest_first():
    assert block_ladder(100) == [100, 50, 25, 20, 10, 5, 4, 2, 1]
    assert block_ladder(10) == [10, 5, 2, 1]
    assert block_ladder(1) == [1]


def spec_total(plan: Plan, cells) -> float:
    runs = {c.run.run_id(): c for c in cells}
    return sum(train_seconds(c.run.canonical_json(), c.seeds) for c in runs.values())


@pytest.fixture(scope="module", params=[1, 2, 64, SLURM_JOBS, 512])
def full_plan(request):
    return Plan(REPO / "specs", "full", cores=request.param)


def test_auto_blocks_keep_every_job_within_the_largest_sharing_builds_share(full_plan):
    """For every shipped figure: each run's limit is at least JOB_SLACK x the figure's train work /
    cores (the largest build that trains a run decides its blocks); each train job's estimate is at most min(max(limit, SPLIT_FLOOR_S), MAX_JOB_S), unless
    one seed alone is longer; and each block is the largest divisor of the seed count within
    that limit (no needless splitting)."""
    plan = full_plan
    for figure in plan.figures:
        cells = plan.cells(figure)
        share = JOB_SLACK * spec_total(plan, cells) / plan.cores
        for cell in cells:
            run_id = cell.run.run_id()
            assert plan.job_limits[run_id] >= share * (1 - 1e-12), (figure, cell.panel.game, cell.sampler)
            run, block = cell.run.canonical_json(), plan.block(cell)
            assert cell.seeds % block == 0
            limit = min(max(plan.job_limits[run_id], SPLIT_FLOOR_S), MAX_JOB_S)
            job = train_seconds(run, block)
            assert job <= limit or block == 1, (figure, cell.panel.game, cell.sampler, block, job, limit)
            larger = [b for b in block_ladder(cell.seeds) if b > block]
            if larger:
                assert train_seconds(run, min(larger)) > limit


def test_no_shipped_train_job_asks_slurm_for_more_than_a_day(full_plan):
    for figure in full_plan.figures:
        for cell in full_plan.cells(figure):
            assert train_runtime_minutes(cell.run.canonical_json(), full_plan.block(cell)) <= 24 * 60, (
                figure,
                cell.panel.game,
                cell.sampler,
            )


def test_auto_keeps_cheap_cells_whole_and_is_deterministic():
    """On a workstation nothing cheap is split (the committed 100-seed results keep their names);
    the same cores give the same files, and a range of core counts maps to the same files."""
    two = Plan(REPO / "specs", "full", cores=2)
    assert {f.rsplit("/", 1)[1] for f in two.figure_inputs("fig11")} == {"seeds_0-99.csv"}
    assert two.figure_inputs("fig5") == Plan(REPO / "specs", "full", cores=2).figure_inputs("fig5")
    assert Plan(REPO / "specs", "full", cores=60).figure_inputs("fig5") == Plan(REPO / "specs", "full", cores=64).figure_inputs(
        "fig5"
    )
    # BoulderPush with PROPS cannot train 100 seeds in one job under a day: it is split anyway
    assert len(two.figure_inputs("fig6")) > 6


@pytest.mark.parametrize("cores", [2, 64, 512])
def test_a_smaller_figure_reuses_the_big_figures_blocks(cores):
    """fig5_tasks trains 20 of fig5's 100 seeds: wherever fig5 cuts a run into blocks that also
    divide 20, the smaller figure's files for it are fig5's own (the largest build decides the
    blocks; a block of 25 or 50 cannot be shared by 20 seeds)."""
    plan = Plan(REPO / "specs", "full", cores=cores)
    big = plan.figure_inputs("fig5")
    blocks = {}  # run dir -> fig5's block size, where it splits the run
    for f in big:
        run_dir, name = f.rsplit("/", 1)
        lo, hi = map(int, name.removeprefix("seeds_").removesuffix(".csv").split("-"))
        if lo == 0 and hi < 99:
            blocks[run_dir] = hi + 1
    shareable = {run_dir for run_dir, block in blocks.items() if 20 % block == 0}
    small = [f for f in plan.figure_inputs("fig5_tasks") if f.rsplit("/", 1)[0] in shareable]
    assert len(small) >= 4 and set(small) <= set(big)  # at least LBF and BoulderPush, PROPS and MA-PROPS


def test_a_scale_cap_and_explicit_blocks_still_apply(tmp_path):
    import shutil

    shutil.copytree(REPO / "specs", tmp_path / "specs")
    figure = tmp_path / "specs/figures/fig5_matrix.yaml"
    figure.write_text(figure.read_text().replace("seed_block: auto", "seed_block: 30", 1))
    full = Plan(tmp_path / "specs", "full", cores=512)
    assert {full.block(c) for c in full.cells("fig5_matrix")} == {30}
    assert seed_blocks(100, 30)[-1] == (90, 99)
    reduced = Plan(REPO / "specs", "reduced", cores=1)  # reduced: 5 seeds, blocks of at most 5
    blocks = {(c.run.game.kind, c.sampler): reduced.block(c) for c in reduced.cells("fig5")}
    assert max(blocks.values()) == 5 and blocks[("matrix", "props")] == 5
    assert blocks[("boulderpush", "props")] == 1  # 5 seeds would exceed MAX_JOB_S


def test_list_scheduling_forecast():
    assert forecast_seconds([3, 3, 2, 2, 2], 2) == 7  # longest first: (3, 2, 2) and (3, 2)
    assert forecast_seconds([5, 1, 1], 8) == 5
    assert forecast_seconds([], 4) == 0
    durations = [7.0, 5, 4, 4, 3, 3, 2, 1]
    for cores in (1, 2, 3, 5):
        wall = forecast_seconds(durations, cores)
        assert max(sum(durations) / cores, max(durations)) <= wall <= sum(durations) / cores + max(durations)


def test_plan_prints_the_jobs_snakemake_would_run(capsys):
    assert main(["plan", "paper_figs/fig5.pdf", "--cores", "64", "--specs", str(REPO / "specs")]) == 0
    out = capsys.readouterr().out.splitlines()
    plan = Plan(REPO / "specs", "full", cores=64)
    files = plan.figure_inputs("fig5")
    assert out[0].startswith(f"figure fig5, scale full, 64 cores: {len(files)} train jobs")
    jobs = train_jobs(plan, plan.cells("fig5"))
    assert sorted(f"{plan.run_dir(j.run_id)}/seeds_{j.lo}-{j.hi}.csv" for j in jobs) == files
    total = sum(j.seconds for j in jobs)
    assert out[-2].startswith(f"total: {total / 3600:.1f} CPU-hours;")
    wall = forecast_seconds([j.seconds for j in jobs], 64)
    assert out[-1].startswith(f"forecast wall time on 64 cores: {wall / 3600:.1f} h")
    rows = out[2:-2]
    assert len(rows) == len({c.run.run_id() for c in plan.cells("fig5")})  # one line per run here
    assert all(len(row.split()) >= 5 for row in rows)
    # a name and a smoke-scale path work too
    assert main(["plan", "fig5", "--cores", "64", "--specs", str(REPO / "specs")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == out[0]
    assert main(["plan", "results/smoke/figures/fig5_matrix.pdf", "--specs", str(REPO / "specs")]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("figure fig5_matrix, scale smoke, 2 cores: 15 train jobs")


@pytest.mark.parametrize("target", ["fig55", "paper_figs/nothing.pdf", "results/full/runs/x.csv"])
def test_plan_refuses_an_unknown_target_in_one_line(capsys, target):
    assert main(["plan", target, "--specs", str(REPO / "specs")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and f"unknown target {target!r}" in captured.err


def test_snakemake_sizes_auto_blocks_by_jobs_else_cores(tmp_path):
    """The Snakefile plans `seed_block: auto` for `--jobs` (a cluster profile's parallelism) if
    given, else for `--cores`, in a dry run as in the real one; `maprops plan` agrees."""
    import re
    import subprocess

    copy_workflow(tmp_path)

    def train_jobs_planned(*args):
        cmd = snakemake_command(
            tmp_path,
            "-n",
            "results/full/aggregated/fig_rate.csv",
            *args,
        )
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return int(re.search(r"^train\s+(\d+)$", proc.stdout + proc.stderr, re.M).group(1))

    def planned(cores):
        return len(Plan(REPO / "specs", "full", cores=cores).figure_inputs("fig_rate"))

    assert planned(64) > planned(2) == 24
    assert train_jobs_planned("--cores", "1", "--jobs", "64") == planned(64)
    assert train_jobs_planned("--cores", "2") == planned(2)
    assert train_jobs_planned("--cores", "2", "--config", "cores=64") == planned(64)


def builds() -> list[dict]:
    with open(REPO / "pipeline/build_measurements.csv") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


@pytest.mark.parametrize("build", builds(), ids=lambda b: f"{b['target']}-{b['cores']}")
def test_forecast_agrees_with_every_measured_build(build, capsys):
    """The wall time ``maprops plan`` forecasts is within a factor 2 of a measured build."""
    cores = int(build["cores"])
    assert main(["plan", build["target"], "--cores", str(cores), "--scale", build["scale"], "--specs", str(REPO / "specs")]) == 0
    plan = Plan(REPO / "specs", build["scale"], cores=cores)
    name = Path(build["target"]).stem
    forecast = forecast_seconds([j.seconds for j in train_jobs(plan, plan.cells(name))], cores)
    measured = float(build["seconds"])
    assert measured / 2 <= forecast <= 2 * measured, (forecast, measured)
    assert f"forecast wall time on {cores} cores" in capsys.readouterr().out


def test_package_tasks_are_priced_by_their_size():
    """A PettingZoo / VMAS task is priced from its agents and joint actions: the constants as
    measured for two agents with 25 joint actions, per-step work growing with the square of the
    agents, the joint fit with the joint actions (Gaussian actions: no joint action count)."""
    kind = game_kind("pettingzoo")

    def cost(name: str):
        return kind.cost_of(shipped_games()[name].to_config().model_dump(mode="json"))

    two, six, box = cost("simple_spread"), cost("simple_spread_6"), cost("simple_spread_continuous")
    assert two == kind.cost
    assert six.step_s == pytest.approx(9 * two.step_s) and six.eval_s == pytest.approx(9 * two.eval_s)
    assert six.update_sample_s == pytest.approx(3 * two.update_sample_s)
    assert six.error_s == pytest.approx(two.error_s + ERROR_S_PER_JOINT_ACTION * (5**6 - 25))
    assert box.error_s == two.error_s and box.step_s == two.step_s
    dispersion = game_kind("vmas").cost_of(shipped_games()["dispersion"].to_config().model_dump(mode="json"))
    assert dispersion.step_s == game_kind("vmas").cost.step_s  # two agents


def test_the_readmes_fig5_plan_table_is_what_plan_prints():
    """README's table of `maprops plan paper_figs/fig5.pdf --cores N` (jobs, CPU-hours, forecast)."""
    from pipeline.plan import Target, forecast_seconds, target_cells, train_jobs

    text = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (\d+) \| (\d+) \| ([\d.]+) h", text, flags=re.M)
    assert [int(r[0]) for r in rows] == [2, 64, 512]
    for cores, jobs, cpu_hours, wall_hours in rows:
        plan = Plan(REPO / "specs", "full", cores=int(cores))
        planned = train_jobs(plan, target_cells(plan, Target("figure", "fig5", "full")))
        seconds = [j.seconds for j in planned]
        assert len(planned) == int(jobs), cores
        assert round(sum(seconds) / 3600) == int(cpu_hours), cores
        decimals = len(wall_hours.partition(".")[2])  # as precise as the README shows it
        assert round(forecast_seconds(seconds, int(cores)) / 3600, decimals) == float(wall_hours), cores


def test_a_build_forecast_over_an_hour_is_announced_and_a_short_one_is_not():
    """What the Snakefile's onstart prints before the first job (pipeline/targets.py)."""
    from pipeline.targets import forecast_lines

    plan = Plan(REPO / "specs", "full")
    runs = {cell.run.run_id(): cell.run.canonical_json() for cell in plan.cells("fig5_gridworld")}
    jobs = [(spec, 20) for spec in runs.values()]
    seconds = [train_seconds(spec, 20) for spec, _ in jobs]
    assert forecast_seconds(seconds, 2) > 3600  # fig5's GridWorld panel: hours on a laptop
    lines = forecast_lines(jobs, 2)
    assert lines[0].startswith(f"Forecast: {len(jobs)} train jobs, {sum(seconds) / 3600:.1f} CPU-hours, about ")
    assert "on 2 cores" in lines[0] and "resumes where it stopped" in lines[1]
    short = [(spec, 1) for spec in list(runs.values())[:1]]
    assert forecast_seconds([train_seconds(*short[0])], 2) < 3600 and forecast_lines(short, 2) == []
