"""A killed training job resumes from its last snapshot and ends with the uninterrupted numbers."""

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from maprops.checkpoint import Checkpoints
from maprops.cli import main as cli_main
from maprops.config import RunSpec
from maprops.provenance import read_provenance
from maprops.specs import SpecLibrary
from maprops.train import train
from tests.helpers import copy_workflow, snakemake_command, tiny_spec

SPECS = Path(__file__).resolve().parents[1] / "specs"


class Killed(Exception):
    pass


class DiesAfterSnapshot(Checkpoints):
    """Snapshots after every target update and 'dies' right after the ``at``-th one."""

    def __init__(self, path, at: int):
        super().__init__(path, every_s=0.0)
        self.at = at

    def after_iteration(self, trainer, rows):
        super().after_iteration(trainer, rows)
        if trainer.iteration == self.at:
            raise Killed


FIGURE = {"simple_spread": "fig_pettingzoo", "dispersion": "fig_vmas"}  # the figure of a game fig5 does not train


def smoke_run(game: str, sampler: str, history_batches: int = 1) -> RunSpec:
    """A fig5 cell at smoke scale, shrunk to 3 target updates of 16 steps, so there is a middle
    to resume from (mid-episode where episodes are longer) and it runs in seconds; with
    ``history_batches`` > 1 the snapshot after the first update must carry the batch the buffer
    keeps."""
    cells = SpecLibrary(SPECS).cells(FIGURE.get(game, "fig5"), "smoke")
    cell = next(c for c in cells if c.panel.game == game and c.sampler == sampler)
    ppo = cell.run.ppo.model_copy(update={"batch_size": 16})
    sampler_config = {**cell.run.sampler.model_dump(), "history_batches": history_batches}
    return RunSpec(**{**cell.run.model_dump(), "sampler": sampler_config, "ppo": ppo, "total_steps": 48, "eval_every": 1})


@pytest.mark.parametrize(
    "game, sampler, history_batches",
    [
        ("nonconflict_19", "props", 1),
        ("gridworld", "ma_props", 1),
        ("boulderpush", "props", 1),
        ("lbf", "ma_props", 1),
        ("simple_spread", "ma_props", 1),
        ("dispersion", "ma_props", 1),
        ("gridworld", "ma_props", 2),
        ("nonconflict_19", "on_policy", 3),
    ],
)
def test_resumed_run_equals_uninterrupted_run(tmp_path, game, sampler, history_batches):
    spec = smoke_run(game, sampler, history_batches)
    seeds = [0, 1]
    path = tmp_path / "block.ckpt"
    with pytest.raises(Killed):
        train(spec, seeds, DiesAfterSnapshot(path, at=1))
    assert path.exists()
    resumed = Checkpoints(path, every_s=0.0)
    columns = train(spec, seeds, resumed)
    assert resumed.attempts == 2
    uninterrupted = train(spec, seeds)
    assert set(columns) == set(uninterrupted)
    for name in columns:
        assert np.array_equal(columns[name], uninterrupted[name]), name


def test_a_snapshot_of_another_run_is_ignored(tmp_path, capsys):
    path = tmp_path / "block.ckpt"
    with pytest.raises(Killed):
        train(tiny_spec("props", iterations=3), [0, 1], DiesAfterSnapshot(path, at=1))
    other = tiny_spec("ma_props", iterations=3)
    assert np.array_equal(train(other, [0, 1], Checkpoints(path))["success_rate"], train(other, [0, 1])["success_rate"])
    assert "ignoring a checkpoint" in capsys.readouterr().err


def result_table(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_sigkilled_train_command_resumes_to_identical_results(tmp_path):
    spec_file = tmp_path / "run.json"
    spec_file.write_text(tiny_spec("ma_props", iterations=20, batch=8).model_dump_json())
    out, ckpt = tmp_path / "seeds_0-3.csv", tmp_path / "seeds_0-3.ckpt"
    command = [
        sys.executable,
        "-m",
        "maprops.cli",
        "train",
        "--run-spec",
        str(spec_file),
        "--seeds",
        "0-3",
        "--out",
        str(out),
        "--checkpoint-every",
        "0",
    ]

    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # kill it right after its third snapshot
        if line.startswith("checkpoint: iteration 3 "):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert ckpt.exists() and not out.exists()

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    iteration = int(resumed.stderr.split("resuming after iteration ")[1].split()[0])
    assert iteration >= 3
    assert not ckpt.exists()  # removed once the result is written
    assert read_provenance(out)["attempts"] == 2

    reference = tmp_path / "reference.csv"
    assert cli_main(["train", "--run-spec", str(spec_file), "--seeds", "0-3", "--out", str(reference)]) == 0
    assert result_table(out) == result_table(reference)


def test_show_prints_provenance(tmp_path, capsys):
    spec = tiny_spec("props")
    spec_file = tmp_path / "run.json"
    spec_file.write_text(spec.model_dump_json())
    out = tmp_path / "seeds_0-1.csv"
    assert cli_main(["train", "--run-spec", str(spec_file), "--seeds", "0-1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli_main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    for needed in (
        f"run_id: {spec.run_id()}",
        "seeds: [0, 1]",
        "git_commit: ",
        "  torch: 2.13.0",
        "wall_time_s: ",
        "maprops_version: ",
        '"nonconflict_19"',
    ):
        assert needed in shown, needed
    record = read_provenance(out)
    assert RunSpec.model_validate(record["run_spec"]).run_id() == spec.run_id()
    assert cli_main(["show", str(spec_file)]) == 2


def test_train_job_logs_progress_with_an_eta(tmp_path):
    """A long job's log says how far it is: iteration, environment step, elapsed time, ETA."""
    import io

    from maprops.progress import Progress

    spec = tiny_spec("props", iterations=4, batch=8)
    stream = io.StringIO()
    train(spec, [0, 1], progress=Progress(spec.iterations, spec.ppo.batch_size, every_s=0.0, stream=stream))
    lines = stream.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [f"progress: iteration {i}/4" for i in range(1, 5)]
    assert "environment step 16/32 per seed" in lines[1] and "elapsed " in lines[1] and "ETA " in lines[1]
    assert "ETA" not in lines[-1]  # nothing left


def test_a_hard_killed_snakemake_resumes_with_unlock_and_the_same_command(tmp_path):
    """SIGKILL Snakemake while a train job runs; ``snakemake --unlock`` then the same command
    finishes the build. Outputs are written atomically, so the kill leaves no half-written file
    for Snakemake to call incomplete: the lock is all that remains."""
    import os
    import time

    copy_workflow(tmp_path)
    target = "results/smoke/aggregated/fig5_gridworld.csv"
    command = snakemake_command(tmp_path, "--cores", "1")
    proc = subprocess.Popen([*command, target], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    logs = tmp_path / "results/smoke/logs/train"
    deadline = time.monotonic() + 120
    while not (logs.exists() and any(logs.rglob("*.log"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and its running job, as a hard kill does
    proc.wait()
    assert not (tmp_path / target).exists()

    assert subprocess.run([*command, "--unlock", target], capture_output=True).returncode == 0
    rerun = subprocess.run([*command, target], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert (tmp_path / target).exists()
