"""The SLURM profile (profiles/slurm) and the train rule's derived resources.

The end-to-end test runs Snakemake with the real ``snakemake-executor-plugin-slurm`` against
stand-ins for the SLURM commands it calls (sbatch, sacct, squeue, scontrol, sinfo, sacctmgr,
sshare, scancel, srun): ``sbatch`` records its arguments and runs the job it wraps (the plugin's
job step, which calls ``srun``), so the packed train jobs really train.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from pipeline.expand import Plan
from pipeline.resources import MIN_MINUTES, train_group, train_mem_mb, train_runtime_minutes, train_seconds
from tests.helpers import copy_workflow

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles/slurm/config.yaml"
ACCOUNT, PARTITION = "acct_maprops", "part_cpu"


def test_profile_parses_with_the_intended_keys():
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm"
    assert profile["jobs"] >= 1 and profile["retries"] >= 1 and profile["latency-wait"] >= 10
    assert profile["cores"] == 1  # group arithmetic: members of a packed group run one after another
    defaults = profile["default-resources"]
    assert {"slurm_account", "slurm_partition", "runtime", "mem_mb", "cpus_per_task"} <= set(defaults)
    assert profile["group-components"]["trainjobs"] > 1
    assert set(profile["set-resources"]) <= {"aggregate", "sweep_curves", "sweep", "figure"}

    # ... and Snakemake's own profile reader accepts it (it is the one that expands $VARS)
    from snakemake.profiles import ProfileConfigFileParser

    with open(PROFILE) as f:
        parsed = ProfileConfigFileParser().parse(f)
    assert parsed["executor"] == "slurm"
    assert "trainjobs=10" in parsed["group-components"]
    assert "slurm_account='$MAPROPS_SLURM_ACCOUNT'" in parsed["default-resources"]


def spec(kind, sampler, m, n, steps, fixed, eval_every):
    data = {
        "game": {"kind": kind, "name": kind},
        "sampler": {"kind": sampler, "batch_size": m},
        "ppo": {"batch_size": n},
        "total_steps": steps,
        "eval_every": eval_every,
    }
    if fixed:
        data["fixed_target"] = True
    return data


# The model against measured train jobs: tests/test_resources.py (pipeline/cost_measurements.csv).


def test_resources_grow_with_seeds_behavior_updates_and_attempts():
    props = spec("gridworld", "props", 1, 256, 25600, None, 5)
    on_policy = spec("gridworld", "on_policy", 1, 256, 25600, None, 5)
    assert train_runtime_minutes(props, 100) > train_runtime_minutes(props, 10) > MIN_MINUTES
    assert train_runtime_minutes(props, 100) > 2 * train_runtime_minutes(on_policy, 100)
    m4 = spec("gridworld", "props", 4, 256, 25600, None, 5)
    assert train_runtime_minutes(m4, 100) < train_runtime_minutes(props, 100)
    assert train_runtime_minutes(props, 100, attempt=2) == 2 * train_runtime_minutes(props, 100)
    assert train_mem_mb(props, 100, attempt=3) == 3 * train_mem_mb(props, 100)
    boulder = spec("boulderpush", "props", 1, 4096, 98304, None, 2)
    assert train_mem_mb(boulder, 100) > train_mem_mb(boulder, 5) > train_mem_mb(props, 5) >= 1024
    tiny = spec("matrix", "on_policy", 1, 20, 40, None, 1)
    assert train_runtime_minutes(tiny, 3) == MIN_MINUTES
    # every game kind is priced by its registry entry; one without an entry is an error, not free
    with pytest.raises(ValueError, match="unknown game kind 'newgame'; known: matrix"):
        train_seconds(spec("newgame", "props", 1, 256, 25600, None, 5), 10)


def test_only_short_train_jobs_are_packed():
    plan = Plan(REPO / "specs", "full")
    groups = {(c.panel.game, c.sampler): train_group(c.run.canonical_json(), plan.block(c)) for c in plan.cells("fig5")}
    assert groups[("nonconflict_19", "props")] == "trainjobs"
    assert groups[("boulderpush", "props")] is None and groups[("lbf", "ma_props")] is None


def test_every_planned_run_gets_whole_positive_requests():
    plan = Plan(REPO / "specs", "smoke")
    for run_json in plan.runs.values():
        minutes, mem = train_runtime_minutes(run_json, 3), train_mem_mb(run_json, 3)
        assert isinstance(minutes, int) and isinstance(mem, int)
        assert MIN_MINUTES <= minutes < 24 * 60 and 1024 <= mem < 64_000


# ---------------------------------------------------------------------------------------------
# End to end through the SLURM executor plugin, with stand-in SLURM commands.

FAKE_HEADER = f"#!{sys.executable}\nimport json, os, subprocess, sys\nSTATE = os.environ['FAKE_SLURM_STATE']\n"

FAKES = {
    # records its argv, runs the wrapped job (the plugin's job step) and prints the job id, as
    # `sbatch --parsable` does
    "sbatch": """
        args = sys.argv[1:]
        job_id = str(os.getpid())
        with open(os.path.join(STATE, "sbatch.jsonl"), "a") as f:
            f.write(json.dumps(args) + "\\n")
        def value(*flags):
            for i, a in enumerate(args):
                for flag in flags:
                    if a == flag:
                        return args[i + 1]
                    if flag.startswith("--") and a.startswith(flag + "="):
                        return a[len(flag) + 1:]
        wrap, workdir, log = value("--wrap"), value("-D", "--chdir"), value("--output", "-o")
        if wrap is None:
            sys.exit("fake sbatch: only --wrap jobs are supported")
        log = log.replace("%j", job_id)
        os.makedirs(os.path.dirname(log), exist_ok=True)
        env = dict(os.environ, SLURM_JOB_ID=job_id, SLURM_JOBID=job_id)
        with open(log, "w") as out:
            try:
                rc = subprocess.run(["/bin/sh", "-c", wrap], cwd=workdir, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, timeout=240).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        state = "COMPLETED" if rc == 0 else ("TIMEOUT" if rc == "timeout" else "FAILED")
        with open(os.path.join(STATE, "jobs.jsonl"), "a") as f:
            f.write(json.dumps([job_id, state, log]) + "\\n")
        print(job_id)
    """,
    # job step: drop srun's options, run the command
    "srun": """
        args = sys.argv[1:]
        with open(os.path.join(STATE, "srun.jsonl"), "a") as f:
            f.write(json.dumps(args) + "\\n")
        while args and args[0].startswith("-"):
            args.pop(0)
        os.execvp(args[0], args)
    """,
    # status of every job ever submitted: `sacct ... --format=JobIdRaw,State` / `squeue --format=%i|%T`
    "sacct": """
        jobs_file = os.path.join(STATE, "jobs.jsonl")
        if any("JobIdRaw,State" in a for a in sys.argv) and os.path.exists(jobs_file):
            for line in open(jobs_file):
                job_id, state, _ = json.loads(line)
                print(f"{job_id}|{state}")
    """,
    "squeue": """
        jobs_file = os.path.join(STATE, "jobs.jsonl")
        if os.path.exists(jobs_file):
            for line in open(jobs_file):
                job_id, state, _ = json.loads(line)
                print(f"{job_id}|{state}")
    """,
    "scontrol": """
        if sys.argv[1:3] == ["show", "config"]:
            print("MaxArraySize            = 1001")
            print("MinJobAge               = 300 sec")
    """,
    "sinfo": """
        print("PARTITION")
        print(os.environ["MAPROPS_SLURM_PARTITION"] + "*")
    """,
    "sacctmgr": """
        print(os.environ["MAPROPS_SLURM_ACCOUNT"])
    """,
    "sshare": """
        print(os.environ["MAPROPS_SLURM_ACCOUNT"])
    """,
    "scancel": """
        pass
    """,
}


def fake_slurm(bin_dir: Path) -> None:
    bin_dir.mkdir()
    for name, body in FAKES.items():
        path = bin_dir / name
        path.write_text(FAKE_HEADER + textwrap.dedent(body))
        path.chmod(0o755)


def read_jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def option(args: list[str], *flags: str) -> str | None:
    for i, a in enumerate(args):
        for flag in flags:
            if a == flag:
                return args[i + 1]
            if a.startswith(flag + "="):
                return a[len(flag) + 1 :]
    return None


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    """Two smoke-scale matrix-game train jobs built through ``--profile profiles/slurm``."""
    workdir = tmp_path_factory.mktemp("slurm")
    copy_workflow(workdir)
    state = workdir / "fake_slurm"
    state.mkdir()
    fake_slurm(workdir / "fake_bin")

    plan = Plan(workdir / "specs", "smoke")
    cells = [c for c in plan.cells("fig5_matrix") if c.sampler == "on_policy"][:2]
    targets = [plan.cell_files(c)[0] for c in cells]
    runs = [plan.runs[c.run.run_id()] for c in cells]

    env = dict(os.environ, FAKE_SLURM_STATE=str(state), MAPROPS_SLURM_ACCOUNT=ACCOUNT, MAPROPS_SLURM_PARTITION=PARTITION)
    env["PATH"] = f"{workdir / 'fake_bin'}{os.pathsep}{env['PATH']}"
    for var in [v for v in env if v.startswith(("SLURM_", "SBATCH_", "SNAKEMAKE_"))]:
        del env[var]
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(workdir / "Snakefile"), "--directory", str(workdir),
        "--profile", "profiles/slurm", "--config", "scale=smoke",
        "--slurm-init-seconds-before-status-checks", "1", "--retries", "0", *targets,
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=420)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"snakemake with the SLURM profile hung:\n{e.stdout}\n{e.stderr}")
    logs = "\n".join(Path(log).read_text() for _, _, log in read_jsonl(state / "jobs.jsonl") if Path(log).exists())
    return workdir, proc, targets, runs, read_jsonl(state / "sbatch.jsonl"), read_jsonl(state / "srun.jsonl"), logs


def test_packed_train_jobs_are_submitted_with_the_derived_sbatch_options(cluster_run):
    workdir, proc, targets, runs, submissions, _, logs = cluster_run
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:] + logs[-4000:]
    assert len(submissions) == 1, submissions  # both train jobs packed into one submission
    args = submissions[0]
    assert option(args, "-A", "--account") == ACCOUNT
    assert option(args, "-p", "--partition") == PARTITION
    # the members run one after another: their runtimes add up, memory is the larger one's
    assert int(option(args, "-t", "--time")) == sum(train_runtime_minutes(run, 3) for run in runs)
    assert int(option(args, "--mem")) == max(train_mem_mb(run, 3) for run in runs)
    assert option(args, "--cpus-per-task") == "1"
    assert option(args, "--ntasks") == "1"
    assert "--parsable" in args
    assert "--executor slurm-jobstep" in option(args, "--wrap")


def test_packed_jobs_really_train_through_the_job_step(cluster_run):
    workdir, proc, targets, _, _, sruns, logs = cluster_run
    assert proc.returncode == 0, proc.stderr[-4000:] + logs[-4000:]
    for target in targets:
        lines = [line for line in (workdir / target).read_text().splitlines() if not line.startswith("#")]
        assert lines[0].startswith("seed,") and len(lines) > 3
        assert {line.split(",")[0] for line in lines[1:]} == {"0", "1", "2"}
    assert len(sruns) == 2  # one job step per member
    assert all("--cpus-per-task=1" in args for args in sruns)
