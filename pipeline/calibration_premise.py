"""The premise check (docs/premise.md) of every candidate of a calibration: under uniform random
policies, does each agent's expected gradient on its cooperative action encourage it?

It reads no training result at all: the candidate's game settings, played by uniform random
agents, decide it. The calibration table (pipeline/calibration.py) requires "holds" of a chosen
candidate when its criterion says ``premise: holds``.

    python -m pipeline.calibration_premise --specs DIR --spec-json '{...}' --episodes N --out NAME.premise.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys

from maprops.io import write_text_atomic
from maprops.premise import estimate
from maprops.specs import SpecLibrary
from pipeline.premise_table import line

SEED = 0  # the premise command's default stream


def candidate_game(spec, settings: dict):
    """The game spec with a candidate's settings in place of its own (validated as a spec file)."""
    return type(spec).model_validate({**spec.model_dump(), **settings})


def premise_table(library: SpecLibrary, table_spec: dict, episodes: int) -> str:
    game = library.games[table_spec["game"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["order", "candidate", "verdict", "line"])
    for i, candidate in enumerate(table_spec["candidates"]):
        result = estimate(
            candidate_game(game, candidate["settings"]), table_spec["variant"], episodes, SEED, library.table2.gamma
        )
        writer.writerow([i, candidate["label"], result.verdict, line(result)])
        print(f"candidate {i} ({candidate['label']}): {line(result)}", flush=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", required=True)
    parser.add_argument("--spec-json", required=True, help="pipeline/expand.py: Plan.calibration_table_spec")
    parser.add_argument("--episodes", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    table = premise_table(SpecLibrary(args.specs), json.loads(args.spec_json), args.episodes)
    write_text_atomic(args.out, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
