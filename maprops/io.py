"""Atomic file output: a killed job leaves either the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; results are meant to be shared
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_columns_csv(path: str | os.PathLike, columns: dict[str, np.ndarray], comments: Sequence[str] = ()) -> None:
    """Write equal-length columns as CSV; floats with 17 significant digits (round-trip exact).
    ``comments`` are whole lines written before the header (each starting with ``#``)."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    if any(not line.startswith("#") or "\n" in line for line in comments):
        raise ValueError("comment lines must start with '#' and hold no newline")
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        for line in comments:
            f.write(line + "\n")
        f.write(",".join(names) + "\n")
        for i in range(n):
            cells = []
            for name in names:
                v = columns[name][i]
                cells.append(repr(float(v)) if isinstance(v, (float, np.floating)) else str(int(v)))
            f.write(",".join(cells) + "\n")
