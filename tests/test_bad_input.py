"""Bad input through the whole pipeline: `snakemake` refuses before running anything, with
``FILE:LINE: field.path: message``, a non-zero exit, and no file written.

(`maprops validate` on each kind of mistake, in process: tests/test_specs.py.)"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import copy_workflow, snakemake_command

REPO = Path(__file__).resolve().parents[1]

CASES = [
    # (case, file, old, new, field, message)
    ("malformed YAML", "figures/fig11.yaml", "seeds: 100", "seeds: [100", "<file>", "malformed YAML"),
    ("unknown key", "games/climbing.yaml", "kind: matrix", "kind: matrix\ncolour: red", "colour", "unknown key"),
    (
        "payoff shape",
        "games/nonconflict_03.yaml",
        "  - [[2, 3], [1, 1]]   # agent 1 plays B",
        "  - [[2, 3], [1, 1], [0, 0]]",
        "payoffs",
        "must be a regular nested list of numbers of shape [2, 2, 2]",
    ),
    ("negative seeds", "figures/fig11.yaml", "seeds: 100", "seeds: -1", "seeds", "greater than or equal to 1"),
    ("non-integer seeds", "figures/fig11.yaml", "seeds: 100", "seeds: 7.5", "seeds", "valid integer"),
    (
        "unknown sampler",
        "figures/fig5.yaml",
        "samplers: [on_policy, props, ma_props]",
        "samplers: [on_policy, propz]",
        "samplers.1",
        "unknown sampler 'propz' (did you mean props?); known: on_policy, props",
    ),
    ("missing game", "figures/fig5.yaml", "game: lbf,", "game: lbf_large,", "panels.2.game", "unknown game 'lbf_large'"),
    (
        "budget below one batch",
        "games/gridworld.yaml",
        "total_steps: 25600",
        "total_steps: 100",
        "budget.total_steps",
        "smaller than one PPO batch",
    ),
    (
        "unknown override path",
        "figures/fig11.yaml",
        "seed_block: auto",
        "seed_block: auto\noverrides: {ppo.learnign_rate: 0.01}",
        "overrides.ppo.learnign_rate",
        "unknown run-spec field 'ppo.learnign_rate'",
    ),
    (
        "override of the wrong type",
        "figures/fig11.yaml",
        "seed_block: auto",
        "seed_block: auto\noverrides: {ppo.learning_rate: fast}",
        "overrides.ppo.learning_rate",
        "valid number",
    ),
    (
        "quoted payoff",
        "games/nonconflict_03.yaml",
        "  - [[4, 4], [3, 2]]   # agent 1 plays A",
        '  - [[4, 4], ["3", 2]]',
        "payoffs.0.1.0",
        "must be a number, got the string '3' (a quoted number is text in YAML: drop the quotes)",
    ),
    (
        "optimal not optimal",
        "games/climbing.yaml",
        "optimal: [[A, A]]",
        "optimal: [[B, B]]",
        "optimal.0",
        "optimal joint action ['B', 'B'] is not optimal in the original game",
    ),
    (
        "key misplaced in a variant",
        "games/nonconflict_19.yaml",
        "        rewards: [5, 5]",
        "        rewards: [5, 5]\n    total_steps: 100",
        "variants.modified.total_steps",
        "unknown key here; 'total_steps' belongs under 'budget'",
    ),
    (
        "unknown named value",
        "studies/lr_kl_2x2.yaml",
        "sampler.target_kl: [6, authors_code_default]",
        "sampler.target_kl: [6, authors_default]",
        "axes.sampler.target_kl.1",
        "unknown named value 'authors_default'",
    ),
]


def failed_smoke_build(workdir, *targets: str) -> str:
    """Build ``targets`` (default: everything) at smoke scale in ``workdir``, expecting failure;
    returns Snakemake's output."""
    proc = subprocess.run(
        snakemake_command(workdir, "--cores", "1", *targets, "--config", "scale=smoke"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    return out


@pytest.mark.parametrize("case, file, old, new, field, message", CASES, ids=[c[0] for c in CASES])
def test_snakemake_refuses_bad_specs_and_writes_nothing(tmp_path, case, file, old, new, field, message):
    copy_workflow(tmp_path)
    path = tmp_path / "specs" / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    before = sorted(p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts)

    out = failed_smoke_build(tmp_path)
    match = re.search(rf"^{re.escape(str(path))}:(\d+): ([^:]*): (.*)$", out, re.M)
    assert match, out
    lines = path.read_text().splitlines()
    edited = next(i for i, text in enumerate(lines, 1) if new.splitlines()[-1].split("#")[0].strip() in text)
    reported = int(match.group(1))
    if field == "payoffs":  # the whole tensor is wrong: reported at its key
        edited = next(i for i, text in enumerate(lines, 1) if text.startswith("payoffs:"))
    # a YAML syntax error is found where the parser gives up: the broken line or the next
    assert reported == edited or (field == "<file>" and reported == edited + 1), (reported, edited, out)
    assert match.group(2) == field and message in match.group(3), out
    assert len(re.findall(rf"^{re.escape(str(path))}:\d+: ", out, re.M)) == 1, out  # one mistake, one error
    assert sorted(p for p in tmp_path.rglob("*") if ".snakemake" not in p.parts) == before


def test_a_failed_train_job_shows_its_reason_on_the_console(tmp_path):
    """Training that blows up (payoffs near float32's limit overflow the value loss) fails its
    job, and Snakemake's output carries the log's last lines: seed, iteration and step."""
    copy_workflow(tmp_path)
    game = tmp_path / "specs/games/climbing.yaml"
    game.write_text(game.read_text().replace("  - [11, -30, 0]", "  - [3e38, -3e38, 0]", 1))
    out = failed_smoke_build(tmp_path, "results/smoke/aggregated/fig5_matrix.csv")
    assert "last lines of results/smoke/logs/train/" in out, out
    assert re.search(r"seed \d+: .* became NaN or infinite by iteration \d+ \(environment step \d+\)", out), out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--config", "scale=nosuch"], "snakemake: unknown scale 'nosuch'; known: full, reduced, smoke"),
        (["--config", "cores=0"], "snakemake: --config cores=0: must be a positive integer"),
        (["paper_figs/fig99.pdf"], "snakemake: paper_figs/fig99.pdf: no figure 'fig99'; did you mean 'fig6'? Figures: fig10,"),
        (["paper_figs/fig_rat.png"], "no figure 'fig_rat'; did you mean 'fig_rate'?"),
        (["results/nosuch/figures/fig5.pdf"], "no scale 'nosuch'. Scales (specs/scales.yaml): full, reduced, smoke"),
        (["results/smoke/studies/lr_kl.md"], "no study 'lr_kl'; did you mean 'lr_kl_2x2'? Known: behavior_buffer_2x2,"),
        (["results/full/calibrations/lbff.md"], "no calibration 'lbff'; did you mean 'lbf'?"),
    ],
)
def test_a_command_line_mistake_is_one_clear_line(args, expected):
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-n", "--cores", "1", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and expected in out, out
    assert "Traceback" not in out and 'File "' not in out, out


def test_a_reader_that_stops_early_ends_the_command_without_a_traceback():
    """``maprops plan fig5 | head``: a reader that exits before the output is written closes
    the pipe; the command stops quietly with status 1 instead of printing BrokenPipeError's
    traceback (``true`` reads nothing, so the pipe is closed well before the plan is ready)."""
    proc = subprocess.run(
        f"{sys.executable} -m maprops.cli plan fig5 | true; echo status ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.stdout == "status 1\n", proc.stdout
    assert proc.stderr == "", proc.stderr
