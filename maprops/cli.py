"""The ``maprops`` command: ``validate`` spec files, ``train`` a block of seeds."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maprops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_validate = sub.add_parser("validate", help="check spec files; print FILE:LINE: field: message")
    p_validate.add_argument("paths", nargs="*", help="spec files or folders (default: specs/)")

    p_train = sub.add_parser("train", help="train a block of seeds of one run spec")
    p_train.add_argument("--run-spec", required=True, help="run spec JSON file, or the JSON itself")
    p_train.add_argument("--seeds", required=True, help="seed range LO-HI (inclusive) or a list 1,2,5")
    p_train.add_argument("--out", required=True, help="output CSV (written atomically)")

    args = parser.parse_args(argv)
    if args.command == "validate":
        from maprops.specs.validate import validate_main

        return validate_main(args.paths or ["specs"])
    if args.command == "train":
        from maprops.train_cli import train_main

        return train_main(args.run_spec, args.seeds, args.out)
    return 2


if __name__ == "__main__":
    sys.exit(main())
