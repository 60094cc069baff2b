"""The workflow's layout: ``pipeline`` is a package that the install provides, so no code edits
the import path; every rule that runs a command runs a module (``python -m``) and keeps a log."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# `rule NAME:` or `checkpoint NAME:` at the start of a line, and its body: the indented (or blank)
# lines that follow, up to the next line that starts in the first column.
RULE = re.compile(r"^(?:rule|checkpoint)\s+(\w+):[ \t]*\n((?:[ \t]+\S.*\n|[ \t]*\n)*)", re.M)
ACTION = re.compile(r"^[ \t]+(shell|script|run|notebook|wrapper):", re.M)
LOG = re.compile(r"^[ \t]+log:", re.M)


def workflow_files() -> list[Path]:
    return [REPO / "Snakefile", *sorted((REPO / "pipeline/rules").glob("*.smk"))]


def rule_bodies(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in RULE.finditer(text)}


def acting_rules_without_log(text: str) -> list[str]:
    """Rules that run something (shell, script, run, ...) but have no ``log:``, or a shell
    command that does not write to it."""
    missing = []
    for name, body in rule_bodies(text).items():
        action = ACTION.search(body)
        if action is None:
            continue
        if not LOG.search(body) or (action.group(1) == "shell" and not re.search(r"\{log(:q)?\}", body[action.start() :])):
            missing.append(name)
    return missing


def test_no_code_edits_the_import_path():
    files = [
        REPO / "Snakefile",
        *(REPO / "pipeline").rglob("*.py"),
        *(REPO / "pipeline/rules").glob("*.smk"),
        *(REPO / "maprops").rglob("*.py"),
        *(REPO / "benchmarks").rglob("*.py"),
    ]
    assert len(files) > 30
    edits = [
        f"{path.relative_to(REPO)}:{i}: {line.strip()}"
        for path in files
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bsys\.path\b|addsitedir", line)
    ]
    assert edits == []


def test_the_install_provides_the_pipeline_package():
    pyproject = (REPO / "pyproject.toml").read_text()
    find = pyproject[pyproject.index("[tool.setuptools.packages.find]") :].split("\n[", 1)[0]
    assert re.search(r'^include = \[.*"maprops\*".*\]$', find, re.M) and '"pipeline*"' in find, find
    assert (REPO / "pipeline/__init__.py").is_file()


def test_the_snakefile_includes_every_rule_file():
    included = re.findall(r'^include:\s*"([^"]+)"', (REPO / "Snakefile").read_text(), re.M)
    assert sorted(included) == sorted(str(p.relative_to(REPO)) for p in workflow_files()[1:])


def test_every_rule_that_runs_a_command_has_a_log():
    bodies = {}
    for path in workflow_files():
        text = path.read_text()
        assert acting_rules_without_log(text) == [], path
        bodies |= rule_bodies(text)
    # The parser saw every rule Snakemake knows, and the ones that run scripts.
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--list-rules", "--config", "scale=smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip() and not line[0].isspace()}
    assert listed == set(bodies)  # a rule, its docstring after it
    acting = {name for name, body in bodies.items() if ACTION.search(body)}
    assert {"manifest", "aggregate", "study_aggregate", "sweep_curves", "sweep", "figure", "train", "report"} <= acting
    # Python runs a module of an installed package, never a script path.
    for name in acting:
        commands = re.findall(r"\{PYTHON(?::q)?\}\s*(\S+\s+\S+)", bodies[name])
        assert commands and all(re.fullmatch(r"-m\s+(pipeline|maprops)\.\w+", c) for c in commands), (name, commands)


def test_a_removed_log_is_caught():
    text = (REPO / "pipeline/rules/aggregate.smk").read_text()
    assert acting_rules_without_log(text) == []
    no_log = re.sub(r"^    log:\n.*\n", "", text, flags=re.M)
    assert acting_rules_without_log(no_log) == ["aggregate"]
    unused = text.replace(" > {log:q} 2>&1", "")
    assert acting_rules_without_log(unused) == ["aggregate"]
