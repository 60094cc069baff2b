"""The docs the code cites are in the repository, and every pointer into them resolves.

- No tracked file cites a design file that is not tracked, or a path outside the repository.
- Every ``docs/<page>.md`` or ``docs/<page>.md#anchor`` mentioned in a tracked file, and every
  relative Markdown link in a tracked ``.md`` file, names an existing page and, if it has one,
  an existing heading anchor (GitHub's slugs).
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Assembled from pieces so this file does not match its own patterns.
FORBIDDEN = (
    "REFERENCE" + ".md",
    "REFERENCE" + " §",
    "ARCHITECTURE" + ".md",
    ".." + "/shared",
    "/work" + "/shared",
    "shared" + "/design",
    "shared" + "/paper",
)

DOCS_POINTER = re.compile(r"(?<![\w./-])docs/([\w./-]+?\.md)(?:#([\w-]+))?")
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file but caches
        skip = {".git", ".venv", "__pycache__", ".snakemake", ".pytest_cache"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]
    return [ROOT / n for n in names if (ROOT / n).is_file()]


@cache
def texts() -> dict[Path, str]:
    out = {}
    for path in tracked_files():
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            out[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return out


def slug(heading: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text only
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        m = None if fenced else HEADING.match(line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return frozenset(found)


def check_target(page: Path, anchor: str | None, where: str, problems: list[str]) -> None:
    if not page.is_file():
        problems.append(f"{where}: no such page {page.relative_to(ROOT) if page.is_relative_to(ROOT) else page}")
    elif anchor and anchor not in anchors(page):
        problems.append(f"{where}: {page.relative_to(ROOT)} has no heading #{anchor}")


def test_no_citation_of_files_outside_the_repository():
    problems = [
        f"{path.relative_to(ROOT)}:{i}: {bad}"
        for path, text in texts().items()
        for i, line in enumerate(text.splitlines(), 1)
        for bad in FORBIDDEN
        if bad in line
    ]
    assert not problems, "cites a file that is not in the repository:\n" + "\n".join(problems)


def test_docs_pointers_resolve():
    problems: list[str] = []
    for path, text in texts().items():
        for i, line in enumerate(text.splitlines(), 1):
            for m in DOCS_POINTER.finditer(line):
                check_target(ROOT / "docs" / m.group(1), m.group(2), f"{path.relative_to(ROOT)}:{i}", problems)
    assert not problems, "\n".join(problems)


def test_markdown_links_resolve():
    problems: list[str] = []
    for path, text in texts().items():
        if path.suffix != ".md":
            continue
        for i, line in enumerate(text.splitlines(), 1):
            for m in MD_LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, mailto:, ...
                    continue
                file_part, _, anchor = target.partition("#")
                page = (path.parent / file_part).resolve() if file_part else path
                if page.suffix != ".md" and file_part:
                    if not page.exists():
                        problems.append(f"{path.relative_to(ROOT)}:{i}: no such file {file_part}")
                    continue
                check_target(page, anchor or None, f"{path.relative_to(ROOT)}:{i}", problems)
    assert not problems, "\n".join(problems)


def test_slug_matches_github():
    assert slug("Epochs, minibatches and the KL cut-off") == "epochs-minibatches-and-the-kl-cut-off"
    assert slug("3x3 games: Climbing and Penalty") == "3x3-games-climbing-and-penalty"
    assert slug("PPO, MAPPO and IPPO") == "ppo-mappo-and-ippo"
    assert slug("Algorithm 2: the behavior update (MA-PROPS or PROPS)") == "algorithm-2-the-behavior-update-ma-props-or-props"
    assert slug("`docs/` layout") == "docs-layout"
