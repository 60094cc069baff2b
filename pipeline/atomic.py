"""Atomic writes and copies for the workflow's small local rules, as a command.

    python pipeline/atomic.py write OUT TEXT          # OUT holds TEXT and a newline
    python pipeline/atomic.py copy SRC DST [SRC DST ...]

A ``run:`` block makes Snakemake start a subprocess that parses the whole workflow again (seconds
per job, hundreds of jobs per build); a shell command costs one interpreter start.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make the repo's packages importable
    sys.path.insert(0, str(REPO))

from maprops.io import atomic_path, write_text_atomic  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "write":
        write_text_atomic(argv[1], argv[2] + "\n")
        return 0
    if len(argv) >= 3 and argv[0] == "copy" and len(argv) % 2 == 1:
        for src, dst in zip(argv[1::2], argv[2::2]):
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
