"""Input a careless or hostile user may give, and faults of a cluster: every bad spec is stopped
by ``maprops validate`` with ``FILE[:LINE]: field: message`` and nothing written; names never
reach a shell; a killed trainer leaves no orphan, two trainers never share a seed block, an
incomplete result is refused by name, and an unwritable output tree is one line.
(docs/bad_input.md lists every check and where it is made.)"""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maprops.cli import main
from tests.helpers import copy_workflow, snakemake_command, tiny_spec

REPO = Path(__file__).resolve().parents[1]

LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]" for i in range(8)]
)


def validate(specs: Path, capsys) -> list[str]:
    """``maprops validate`` on a spec folder: its error lines (none if it passes)."""
    status = main(["validate", str(specs)])
    err = capsys.readouterr().err
    assert (status == 0) == (err == ""), err
    assert "Traceback" not in err
    return err.splitlines()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    "file, old, new, needle, field, message",
    [
        (
            "figures/fig5_matrix.yaml",
            '  - {game: penalty, variant: modified, title: "Penalty"}',
            '  - {game: penalty, variant: modified, title: "Penalty"}\n  - {game: penalty, variant: modified, title: "again"}',
            "again",
            "panels.5",
            "game 'penalty' with variant 'modified' is already panel 4",
        ),
        ("games/lbf.yaml", "foods: 1 ", "foods: 3 ", "foods: 3", "<file>", "lbforaging cannot place 3 foods on a 4x4 field"),
        ("figures/fig11.yaml", "seeds: 100", "seeds: 1000000000", "seeds:", "seeds", "less than or equal to 10000"),
        (
            "figures/fig11.yaml",
            "seeds: 100",
            "seeds: {start: 5, count: 20000}",
            "seeds:",
            "seeds.count",
            "less than or equal to 10000",
        ),
        (
            "games/gridworld.yaml",
            "eval_every: 5 ",
            "eval_every: 500 ",
            "eval_every",
            "budget.eval_every",
            "500 target updates between evaluations, but the budget makes 100",
        ),
        ("figures/fig11.yaml", "seed_block: auto", "seed_block: auto\nnull: 3", "null: 3", "", "key null must be text"),
        ("figures/fig11.yaml", "seed_block: auto", "seed_block: auto\n7: 3", "7: 3", "", "key 7 must be text"),
    ],
)
def test_each_bad_spec_is_one_located_error(specs_copy, capsys, file, old, new, needle, field, message):
    path = specs_copy / file
    edit(path, old, new)
    errors = validate(specs_copy, capsys)
    assert len(errors) == 1, errors
    prefix = f"{path}:{line_of(path, needle)}: {field}: " if field else f"{path}:{line_of(path, needle)}: "
    if field == "<file>":  # a game's params: reported at the spec, which is where they all live
        prefix = f"{path}:"
    assert errors[0].startswith(prefix) and message in errors[0], errors


def test_file_level_problems_name_the_file(specs_copy, capsys):
    (specs_copy / "games/matrix_extra.yml").write_text("kind: matrix\n")
    (specs_copy / "games/latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    errors = validate(specs_copy, capsys)
    assert f"{specs_copy}/games/matrix_extra.yml: spec files end in .yaml: rename it to matrix_extra.yaml" in errors
    assert f"{specs_copy}/games/latin1.yaml: not UTF-8 text" in errors


def test_an_alias_bomb_is_refused_at_once(specs_copy, capsys):
    (specs_copy / "figures/laughs.yaml").write_text(LAUGHS + "\n")
    started = time.monotonic()
    errors = validate(specs_copy, capsys)
    assert time.monotonic() - started < 5  # was about a minute
    assert len(errors) == 1 and "more than 100,000 values once aliases are expanded" in errors[0], errors


@pytest.mark.parametrize("name", ["fig;touch PWNED;", "fig two", "-fig", "fig$(touch PWNED)"])
def test_names_that_could_reach_a_shell_are_refused_and_nothing_runs(tmp_path, capsys, name):
    workdir = copy_workflow(tmp_path)
    spec = workdir / "specs/figures" / f"{name}.yaml"
    spec.write_text((REPO / "specs/figures/fig5_matrix.yaml").read_text().replace("figure: fig5_matrix", f"figure: '{name}'"))
    errors = validate(workdir / "specs", capsys)
    assert errors == [
        f"{spec}: file name {name!r}: a spec name may only contain letters, digits, '_', '-' and '.', "
        "and may not start with '-' or '.'"
    ]
    if name != "fig;touch PWNED;":
        return  # through Snakemake once: the same check stops every name
    before = sorted(p for p in workdir.rglob("*") if ".snakemake" not in p.parts)
    proc = subprocess.run(
        snakemake_command(workdir, "--cores", "1", "--config", "scale=smoke"), capture_output=True, text=True, cwd=workdir
    )
    assert proc.returncode != 0 and "file name" in proc.stdout + proc.stderr
    assert not (workdir / "PWNED").exists() and not Path("PWNED").exists()
    assert sorted(p for p in workdir.rglob("*") if ".snakemake" not in p.parts) == before


def test_every_rule_quotes_what_it_hands_a_shell():
    """No rule interpolates a path, wildcard or param into its command unquoted (``:q``)."""
    import re

    unquoted = re.compile(r"(?<!\{)\{(input|output|log|params|wildcards|PYTHON|SPECS|OUT)(\.\w+)?\}(?!\})")
    for rules in sorted((REPO / "pipeline/rules").glob("*.smk")):
        for number, line in enumerate(rules.read_text().splitlines(), 1):
            if line.strip().startswith('"'):
                assert not unquoted.search(line), f"{rules.name}:{number}: {line.strip()}"


def spec_file(tmp_path: Path, iterations: int) -> Path:
    path = tmp_path / "run.json"
    path.write_text(tiny_spec("props", iterations=iterations, batch=20).canonical_json())
    return path


def trainer(spec: Path, out: Path, exec_: bool = True) -> subprocess.Popen:
    """The train rule's command, in its own process group."""
    command = f"exec {sys.executable} -m maprops.cli train --run-spec {spec} --seeds 0-1 --out {out} --log {out}.log"
    return subprocess.Popen(["bash", "-c", command], start_new_session=True, cwd=REPO)


def wait_for(predicate, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_trainer_is_the_jobs_process_and_holds_its_seed_block(tmp_path):
    """The rule execs the trainer: killing the job's PID stops the training, no orphan left. A
    second trainer of the same block refuses while the first runs, and may train after it."""
    spec, out = spec_file(tmp_path, iterations=400), tmp_path / "seeds_0-1.csv"
    first = trainer(spec, out)
    lock = out.with_suffix(".lock")
    wait_for(lambda: lock.is_file() and "PID" in lock.read_text())
    assert Path(f"/proc/{first.pid}/cmdline").read_bytes().split(b"\0")[1:3] == [b"-m", b"maprops.cli"]

    second = subprocess.run(
        [sys.executable, "-m", "maprops.cli", "train", "--run-spec", str(spec), "--seeds", "0-1", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert second.returncode == 5 and f"{lock}: this seed block is being trained by PID {first.pid}" in second.stderr

    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert not any(p for p in Path("/proc").glob("[0-9]*") if _is_trainer_of(p, out))
    assert not out.exists()
    quick = spec_file(tmp_path, iterations=2)
    again = subprocess.run(
        [sys.executable, "-m", "maprops.cli", "train", "--run-spec", str(quick), "--seeds", "0-1", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert again.returncode == 0, again.stderr  # the kernel dropped the dead trainer's lock
    assert out.is_file() and not lock.exists()


def _is_trainer_of(proc: Path, out: Path) -> bool:
    try:
        return str(out).encode() in (proc / "cmdline").read_bytes()
    except OSError:
        return False


def test_a_result_cut_short_is_refused_by_name_and_step(tmp_path):
    from pipeline.aggregate import AggregationError, load_cell

    spec, out = spec_file(tmp_path, iterations=3), tmp_path / "seeds_0-1.csv"
    subprocess.run(
        [sys.executable, "-m", "maprops.cli", "train", "--run-spec", str(spec), "--seeds", "0-1", "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:-1]))  # seed 1's last evaluation lost
    last = list(csv.reader(lines[-1:]))[0]
    cell = {"panel": "p", "panel_title": "p", "sampler": "props", "seeds": [0, 1], "files": [str(out)]}
    with pytest.raises(AggregationError, match=rf"{out}: seed 1 has no row at step {last[2]}, which its run spec evaluates"):
        load_cell(cell, ["success_rate"])


def test_an_unwritable_output_tree_is_one_line(tmp_path):
    workdir = copy_workflow(tmp_path)
    (workdir / "results").write_text("a file where the output folder goes\n")
    proc = subprocess.run(
        snakemake_command(workdir, "-n", "--cores", "1", "paper_figs/fig11.pdf"), capture_output=True, text=True, cwd=workdir
    )
    out = proc.stdout + proc.stderr
    assert (
        proc.returncode == 1
        and "snakemake: cannot write the output tree results/ (results: Not a directory (a file is in the way))" in out
    )
    assert "Traceback" not in out
