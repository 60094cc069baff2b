"""Where a result came from: written into every result file, printed by ``maprops show``.

A result CSV opens with comment lines (``# ``) before its header. The first is a fixed tag,
the second one JSON object: the resolved run spec and its hash, the seeds, the package version,
git commit and engine (:func:`engine_fingerprint`) that trained it, the versions of the libraries that decide its numbers, and the
wall time (summed over every attempt, if the job was resumed from a checkpoint). Readers skip
``#`` lines (``pandas.read_csv(comment="#")``), so the table below stays a plain tidy CSV.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import maprops
from maprops.kinds import GAMES

TAG = "# maprops result"
PREFIX = "# provenance: "
ENGINE_LIBRARIES = ("torch", "numpy", "pydantic")
LIBRARIES = tuple(dict.fromkeys(ENGINE_LIBRARIES + tuple(p for kind in GAMES.values() for p in kind.packages)))
"""The engine's libraries, then those the game kinds' registry entries name (``packages``)."""


def git_commit() -> str:
    """The commit of the checkout this package is imported from, ``+dirty`` if it has local
    changes; ``unknown`` outside a git checkout (e.g. an installed wheel)."""
    root = Path(maprops.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", "maprops"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def engine_fingerprint() -> str:
    """Hash of the library's source files and torch's version: the code that decides a result's
    numbers. Two results with the same fingerprint were computed by the same engine, whatever
    their commits (a commit that touches only docs, specs or the pipeline keeps it); the record
    names it (record/), and a snapshot is only resumed by the engine that wrote it."""
    digest = hashlib.sha256(torch_version().encode())
    root = Path(maprops.__file__).parent
    for source in sorted(root.rglob("*.py")):
        digest.update(str(source.relative_to(root)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(run_spec_json: str, run_id: str, seeds: list[int], wall_time_s: float, attempts: int) -> dict:
    return {
        "run_id": run_id,
        "run_spec": json.loads(run_spec_json),
        "seeds": seeds,
        "maprops_version": maprops.__version__,
        "git_commit": git_commit(),
        "engine": engine_fingerprint(),
        "libraries": library_versions(),
        "host": platform.node(),
        "wall_time_s": round(wall_time_s, 3),
        "attempts": attempts,
    }


def header_lines(record: dict) -> list[str]:
    return [TAG, PREFIX + json.dumps(record, sort_keys=True, separators=(",", ":"))]


def read_provenance(path: str | Path) -> dict:
    """The provenance record of a result file; ``ValueError`` naming the file if it has none."""
    with open(path) as f:
        first, second = f.readline().rstrip("\n"), f.readline().rstrip("\n")
    if first != TAG or not second.startswith(PREFIX):
        raise ValueError(f"{path}: not a maprops result with provenance (no {TAG!r} line)")
    try:
        return json.loads(second[len(PREFIX) :])
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:2: provenance is not valid JSON ({e})") from e
