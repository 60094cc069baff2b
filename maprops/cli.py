"""The ``maprops`` command: ``validate`` spec files, ``train`` a block of seeds, ``show`` a result's
provenance, ``plan`` a target's train jobs and wall time, ``verify`` the record against this
checkout, ``publish`` a build into the record, ``gradient`` a matrix game's exact (and a batch's)
policy gradients at uniform policies, ``premise`` whether each game's expected gradient at uniform
random policies encourages cooperation (the paper's Appendix E premise)."""

from __future__ import annotations

import argparse
import os
import sys

DESCRIPTION = (
    "maprops: reproduce MA-PROPS (Corrado & Hanna) from YAML specs. Check specs (validate), train a block of "
    "seeds (train), see where a result came from (show), forecast a target's cost (plan), compare the record "
    "with this checkout (verify), copy a build into the record (publish), and look at a game's policy gradients "
    "(gradient) or the Appendix E premise (premise)."
)


def main(argv: list[str] | None = None) -> int:
    """The ``maprops`` command. A reader that stops early (``maprops plan fig5 | head``) closes
    the pipe: that ends the command quietly, as it does for any Unix filter, not with a traceback."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        # Python's documented recipe (signal module, "Note on SIGPIPE"): point stdout at
        # /dev/null so the interpreter's own flush at exit cannot raise again; status 1.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str] | None) -> int:
    import maprops

    parser = argparse.ArgumentParser(prog="maprops", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"maprops {maprops.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_validate = sub.add_parser("validate", help="check spec files; print FILE:LINE: field: message")
    p_validate.add_argument("paths", nargs="*", help="spec files or folders (default: specs/)")

    p_train = sub.add_parser("train", help="train a block of seeds of one run spec")
    p_train.add_argument("--run-spec", required=True, help="run spec JSON file, or the JSON itself")
    p_train.add_argument("--seeds", required=True, help="seed range LO-HI (inclusive) or a list 1,2,5")
    p_train.add_argument("--out", required=True, help="output CSV (written atomically)")
    p_train.add_argument("--checkpoint", help="snapshot file for resuming a killed job (default: OUT with suffix .ckpt)")
    p_train.add_argument(
        "--checkpoint-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="snapshot after a target update at most this often (default 60; 0: after every update)",
    )
    p_train.add_argument("--log", help="write progress and errors to this file (a failure's last lines also to stderr)")

    p_show = sub.add_parser("show", help="print where a result came from (run spec, versions, seeds, wall time)")
    p_show.add_argument("result", help="a seed-block result CSV")

    p_plan = sub.add_parser("plan", help="list a target's train jobs with estimated minutes; forecast the wall time on N cores")
    p_plan.add_argument(
        "target", help="figure, study, sweep or calibration name (fig5), or a file Snakemake builds (paper_figs/fig5.pdf)"
    )
    p_plan.add_argument(
        "--cores", type=int, default=2, help="train jobs at once (default 2); sizes seed_block: auto as snakemake would"
    )
    p_plan.add_argument("--scale", help="a scale of specs/scales.yaml (default: the target path's, else full)")
    p_plan.add_argument("--specs", default="specs", help="spec folder (default: specs/)")

    p_verify = sub.add_parser(
        "verify",
        help="retrain recorded results at this checkout and compare every per-seed value with record/ (exit 1 on a difference)",
    )
    p_verify.add_argument("names", nargs="*", metavar="NAME", help="recorded figures, studies, calibrations (default: all)")
    p_verify.add_argument("--scale", help="only entries of this scale (default: every recorded scale)")
    p_verify.add_argument(
        "--cells", help="K evenly spaced cells per entry, or GAME/SAMPLER patterns (nonconflict_19/*,gridworld/ma_props)"
    )
    p_verify.add_argument("--seeds", help="the first K seeds of each cell, or a range LO-HI (default: all)")
    p_verify.add_argument("--sample", help="a drift-guard sample file (.ci/drift_guard.yaml): entries, cells and seeds")
    p_verify.add_argument("--jobs", type=int, help="train processes at once (default: the CPUs available)")
    p_verify.add_argument("-n", "--dry-run", action="store_true", help="list the cells and their estimated cost; train nothing")
    p_verify.add_argument("--specs", default="specs", help="spec folder (default: specs/)")
    p_verify.add_argument("--record", default="record", help="record folder (default: record/)")

    p_publish = sub.add_parser(
        "publish", help="copy built figures, studies, calibrations into record/ and render record/REPORT.md"
    )
    p_publish.add_argument("names", nargs="*", metavar="NAME", help="figures, studies, calibrations, or premise")
    p_publish.add_argument("--scale", default="full", help="the scale to publish from (default full)")
    p_publish.add_argument("--all", action="store_true", help="publish again every entry record/index.json lists")
    p_publish.add_argument(
        "--withdraw", action="store_true", help="take the named entries out of the record instead (until they are rebuilt)"
    )
    p_publish.add_argument("--specs", default="specs", help="spec folder (default: specs/)")
    p_publish.add_argument("--results", default="results", help="the build tree (default: results/)")
    p_publish.add_argument("--record", default="record", help="record folder (default: record/)")

    p_gradient = sub.add_parser(
        "gradient",
        help="each agent's exact expected policy gradient at uniform policies in a matrix game, and a batch's estimate",
    )
    p_gradient.add_argument("game", help="a matrix game of specs/games (nonconflict_19, climbing, fig1, ...)")
    p_gradient.add_argument("--variant", default="original", help="reward variant (default original; e.g. modified)")
    p_gradient.add_argument("--batch", help="joint actions, agent 1's : agent 2's, actions A, B, C... (e.g. A,B,A,B:B,A,B,A)")
    p_gradient.add_argument("--specs", help="spec folder (default: specs/, else the checkout's)")

    p_premise = sub.add_parser(
        "premise",
        help="under uniform random policies: joint-reward and penalty events per episode, and each agent's "
        "expected policy gradient on its cooperative action, with 95%% CIs (docs/premise.md)",
    )
    p_premise.add_argument("games", nargs="*", metavar="GAME", help="games of specs/games (default: every game)")
    p_premise.add_argument("--variant", help="only this reward variant (default: every variant of each game)")
    p_premise.add_argument("--episodes", type=int, default=20000, help="episodes per game and variant (default 20000)")
    p_premise.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p_premise.add_argument("--specs", help="spec folder (default: specs/, else the checkout's)")
    p_premise.add_argument("--csv", help="also write one row per (game, variant, agent) to this CSV (atomically)")

    args = parser.parse_args(argv)
    if args.command == "validate":
        from maprops.specs.validate import validate_main

        return validate_main(args.paths or ["specs"])
    if args.command == "train":
        from maprops.train_cli import train_main

        return train_main(args.run_spec, args.seeds, args.out, args.checkpoint, args.checkpoint_every, args.log)
    if args.command == "show":
        return show_main(args.result)
    if args.command == "plan":
        return plan_main(args.target, args.cores, args.scale, args.specs)
    if args.command in ("verify", "publish"):
        return record_main(args)
    if args.command == "gradient":
        from maprops.gradient import gradient_main

        return gradient_main(args.game, args.variant, args.batch, args.specs)
    if args.command == "premise":
        return premise_command(args)
    return 2


def plan_main(target: str, cores: int, scale: str | None, specs: str) -> int:
    """The forecast lives with the pipeline (``pipeline/plan.py``, a package installed beside
    ``maprops``); imported only here, so the library itself never needs the pipeline (nor
    Snakemake)."""
    try:
        from pipeline.plan import plan_main as run
    except ImportError as err:
        return pipeline_missing("plan", err)
    return run(target, cores, scale, specs)


def pipeline_missing(command: str, err: ImportError) -> int:
    """The one answer of the commands that live with the pipeline package when it is absent."""
    print(f"maprops {command}: needs the pipeline package (pip install -e . in the repository): {err}", file=sys.stderr)
    return 2


def premise_command(args) -> int:
    """``premise``: the check is the library's (``maprops/premise.py``); its lines and table live
    with the pipeline (``pipeline/premise_table.py``), whose report reads them, like ``plan``."""
    try:
        from pipeline.premise_table import premise_main
    except ImportError as err:
        return pipeline_missing("premise", err)
    return premise_main(args.games, args.variant, args.episodes, args.seed, args.specs, args.csv)


def record_main(args) -> int:
    """``verify`` and ``publish`` live with the pipeline (``pipeline/verify.py``,
    ``pipeline/record.py``), like ``plan``."""
    try:
        from pipeline.record import publish_main
        from pipeline.verify import default_jobs, verify_main
    except ImportError as err:
        return pipeline_missing(args.command, err)
    if args.command == "publish":
        return publish_main(args.names, args.scale, args.all, args.specs, args.results, args.record, args.withdraw)
    jobs = args.jobs or default_jobs()
    return verify_main(args.names, args.scale, args.cells, args.seeds, args.sample, jobs, args.specs, args.record, args.dry_run)


def show_main(path: str) -> int:
    import json

    from maprops.provenance import read_provenance

    try:
        record = read_provenance(path)
    except (OSError, ValueError) as err:
        print(f"maprops show: {err}", file=sys.stderr)
        return 2
    spec = record.pop("run_spec")
    for key, value in record.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, version in value.items():
                print(f"  {name}: {version}")
        else:
            print(f"{key}: {json.dumps(value) if isinstance(value, list) else value}")
    print("run_spec:")
    print(json.dumps(spec, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
