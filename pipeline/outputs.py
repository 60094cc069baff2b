"""Which output tree a spec folder writes to, and the guard that keeps two folders apart.

Run results are content-addressed (``results/<scale>/runs/<hash of the resolved run>/``), so
any number of spec folders can share them safely. Everything named after a figure, study or
sweep (aggregated tables, figures, reports) is not: two folders may both define ``fig11`` with
different content. Each spec folder therefore writes those into its own tree, ``results/`` for
the shipped ``specs/`` and ``results/<folder name>-<hash of its absolute path>/`` for any
other, and each tree records its owner in a marker file; building into a tree that another
folder owns is refused before anything runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from maprops.io import write_text_atomic

SHIPPED_SPECS = "specs"  # beside the Snakefile
SHIPPED_OWNER = "shipped specs/"  # the marker's text for them: the same wherever the clone lives
MARKER = ".specs-owner"


class OutputCollision(RuntimeError):
    """A spec folder was about to write into another folder's output tree."""


def owner(specs: str | Path, basedir: str | Path) -> str:
    """What a tree's marker says for ``specs``: a fixed text for the shipped folder (clones may
    move), the absolute path for any other."""
    specs = Path(specs).resolve()
    return SHIPPED_OWNER if specs == (Path(basedir) / SHIPPED_SPECS).resolve() else str(specs)


def output_tree(specs: str | Path, basedir: str | Path) -> str:
    """The default output tree of a spec folder (relative to the working directory)."""
    if owner(specs, basedir) == SHIPPED_OWNER:
        return "results"
    specs = Path(specs).resolve()
    return f"results/{specs.name}-{hashlib.sha256(str(specs).encode()).hexdigest()[:8]}"


def check_output_tree(tree: str | Path, who: str) -> None:
    """Refuse a tree whose marker names another owner (``who`` is :func:`owner`'s text)."""
    marker = Path(tree) / MARKER
    if marker.is_file() and (recorded := marker.read_text().strip()) != who:
        raise OutputCollision(
            f"{tree} holds outputs built from {recorded}; these specs are {who}. Leave the "
            "'results' setting unset (every spec folder then gets a tree of its own) or give "
            "this folder another one: --config results=<dir>"
        )


def claim_output_tree(tree: str | Path, who: str) -> None:
    """Mark ``tree`` as ``who``'s (once; a tree never changes owner)."""
    check_output_tree(tree, who)
    marker = Path(tree) / MARKER
    if not marker.is_file():
        marker.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(marker, who + "\n")


class UnwritableTree(RuntimeError):
    """The output tree cannot be written; the message names the path and why."""


def check_writable(tree: str | Path) -> None:
    """Refuse, in one line, an output tree that cannot be written (read-only, a file in the
    way, no space), before any job starts instead of as a traceback inside one. Creates
    nothing: it tries a temporary file in the tree, or in its nearest existing folder."""
    import tempfile

    place = Path(tree)
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        if not place.is_dir():
            raise NotADirectoryError(20, "Not a directory (a file is in the way)", str(place))
        with tempfile.NamedTemporaryFile(dir=place, prefix=".maprops-write-test-"):
            pass
    except OSError as err:
        raise UnwritableTree(f"cannot write the output tree {tree}/ ({err.filename or place}: {err.strerror})") from None
