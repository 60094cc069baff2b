# Shared set-up of the workflow (included first by the Snakefile): configuration, the plan of
# what each scale builds, the checks made before any job, and the helpers the rules call.
#
# `pipeline` is a package of this project (installed with `pip install -e .`, like `maprops`)
# whose scripts the rules run as modules, `python -m pipeline.aggregate ...`. Snakemake puts the
# Snakefile's folder first on the import path while it reads the workflow, so the imports below
# take the pipeline beside it; a job's `python -m` takes the one in its working directory (that
# folder, unless `--directory` says otherwise), else the installed one.

import json
import re
import sys
from pathlib import Path

from pipeline.expand import Plan
from pipeline.outputs import (
    SHIPPED_OWNER,
    OutputCollision,
    UnwritableTree,
    check_output_tree,
    check_writable,
    claim_output_tree,
    output_tree,
    owner,
)
from pipeline.targets import command_line_targets, forecast_lines, target_problem
from snakemake.logging import logger

SPECS = str(Path(config.get("specs", Path(workflow.basedir) / "specs")).resolve())
SCALE = config.get("scale", "full")
OUT = str(config.get("results") or output_tree(SPECS, workflow.basedir)).rstrip("/")
OWNER = owner(SPECS, workflow.basedir)
IS_SHIPPED_SPECS = OWNER == SHIPPED_OWNER
PYTHON = sys.executable
# The scripts a rule runs are also its inputs (`script=PIPELINE / "aggregate.py"`): editing one
# reruns the rules that run it and no other (Snakemake's own code tracking sees only the command
# text). The figure rules also list plot_style.py; other modules the scripts import are not
# tracked, nor is atomic.py (a write or a copy: its output does not depend on its code).
PIPELINE = Path(workflow.basedir) / "pipeline"
_plans = {}


def build_cores():
    """How many train jobs run at once, which sizes `seed_block: auto` (pipeline/expand.py):
    `--config cores=N` if given; else `--jobs` if given (profiles/slurm sets `jobs: 100`: on a
    cluster that is the parallelism, while its `cores: 1` only serves group arithmetic); else
    `--cores`. Read at parse time, when Snakemake does not yet say which executor runs the jobs,
    and the same for a dry run (-n) and the real run, so both show the same blocks. Changing it
    may change the seed blocks, hence the result files (then the new blocks are trained; a
    seed's numbers do not depend on its block)."""
    if "cores" in config:
        cores = int(config["cores"])
        if cores < 1:
            raise ValueError(f"--config cores={config['cores']}: must be a positive integer")
        return cores
    for value in (workflow.resource_settings.nodes, workflow.resource_settings.cores):
        if isinstance(value, int) and value >= 1:
            return value
    return 1  # neither given (`--cores all` resolves to a number before this)


def refuse(message):
    """A mistake on the command line (an unknown scale, a bad --config value): one line on
    stderr and exit status 1, not a traceback."""
    print(f"snakemake: {message}", file=sys.stderr)
    sys.exit(1)


try:
    CORES = build_cores()
except ValueError as err:
    refuse(err)

# The output tree: this spec folder's own (pipeline/outputs.py), and writable.
try:
    check_output_tree(OUT, OWNER)
    check_writable(OUT)
except (OutputCollision, UnwritableTree) as err:
    refuse(err)


onstart:
    claim_output_tree(OUT, OWNER)
    # Say what a long build costs before its first job: on the console and in Snakemake's log.
    _train = [(plan(j.wildcards.scale).runs[j.wildcards.run_id], int(j.wildcards.hi) - int(j.wildcards.lo) + 1)
              for j in workflow.dag.needrun_jobs() if j.rule.name == "train"]
    for _line in forecast_lines(_train, CORES):
        logger.warning(_line)


def plan(scale):
    """The expanded specs for one scale, built once per Snakemake process."""
    if scale not in _plans:
        _plans[scale] = Plan(SPECS, scale, best_setting=lambda sweep, sampler: best_setting(scale, sweep, sampler), out=OUT, cores=CORES)
    return _plans[scale]


def best_setting(scale, sweep, sampler):
    """A finished sweep's best Table 1 setting for a sampler. ``checkpoints.sweep.get`` makes
    Snakemake run the sweep first when a figure panel names it."""
    import pandas as pd

    table = pd.read_csv(checkpoints.sweep.get(scale=scale, sweep=sweep).output[0])
    row = table[(table["sampler"] == sampler) & table["best"]].iloc[0]
    return {k: row[k].item() for k in ("learning_rate", "batch_size", "target_kl", "clip_coef")}


try:
    DEFAULT_PLAN = plan(SCALE)
except KeyError as err:  # an unknown --config scale
    refuse(err.args[0])

# A target naming no figure, study, sweep, calibration or scale gets the valid names (and the
# closest one), not a bare MissingRuleException (pipeline/targets.py).
for _target in command_line_targets(sys.argv[1:]):
    if (_problem := target_problem(_target, DEFAULT_PLAN, OUT)) is not None:
        refuse(_problem)


def one_of(names):
    """A wildcard pattern matching exactly these names: a target naming an unknown figure,
    study, sweep or scale then has no rule to make it (Snakemake's one-line refusal) instead of
    failing inside an input function with a traceback."""
    return "|".join(re.escape(name) for name in names)


wildcard_constraints:
    scale=one_of(DEFAULT_PLAN.library.scales),
    run_id=r"[0-9a-f]{16}",
    lo=r"\d+",
    hi=r"\d+",
    figure=one_of(DEFAULT_PLAN.figures),
    study=one_of(DEFAULT_PLAN.studies),
    sweep=one_of(DEFAULT_PLAN.sweeps),
