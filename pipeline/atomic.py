"""Atomic writes and copies for the workflow's small local rules, as a command.

    python -m pipeline.atomic write OUT TEXT          # OUT holds TEXT and a newline
    printf '%s\n' TEXT | python -m pipeline.atomic write OUT -   # OUT holds standard input
    python -m pipeline.atomic copy SRC DST [SRC DST ...]

A ``run:`` block makes Snakemake start a subprocess that parses the whole workflow again (seconds
per job, hundreds of jobs per build); a shell command costs one interpreter start. Text too long
for one command-line argument (Linux caps each at 128 KiB; a manifest grows with a figure's cells)
goes through standard input: ``printf`` is a shell builtin, so its argument never meets that cap.
"""

from __future__ import annotations

import shutil
import sys

from maprops.io import atomic_path, write_text_atomic


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "write" and argv[2] == "-":
        text = sys.stdin.buffer.read().decode()
        if not text:
            print(f"atomic: write {argv[1]}: nothing on standard input", file=sys.stderr)
            return 1
        write_text_atomic(argv[1], text)
        return 0
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
