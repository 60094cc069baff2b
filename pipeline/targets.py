"""What the Snakefile says about the targets on the command line before any job runs.

- A target that names no figure, study, sweep, calibration or scale (``paper_figs/fig99.pdf``)
  is answered with the valid names, and the closest one, instead of Snakemake's bare
  "MissingRuleException".
- A build whose train jobs are forecast to take more than an hour says so first: CPU-hours and
  the wall time on the cores it has (the list-scheduling forecast of ``maprops plan``), so a
  full-scale target is never started by accident.
"""

from __future__ import annotations

import difflib
import re

from pipeline.plan import forecast_seconds, hours
from pipeline.resources import train_seconds

# paper_figs/NAME.ext, and results/<scale>/<folder>/NAME.ext for the folders named after a spec
BUILT = re.compile(
    r"^(?:(?P<tree>.+)/)?(?P<scale>[^/]+)/(?P<folder>figures|aggregated|studies|sweeps|calibrations)/(?P<file>[^/]+)$"
)
KINDS = {"figures": "figure", "aggregated": "figure", "studies": "study", "sweeps": "sweep", "calibrations": "calibration"}
FORECAST_WORTH_SAYING_S = 3600.0


def command_line_targets(argv: list[str]) -> list[str]:
    """The targets on Snakemake's command line. The Snakefile is read before Snakemake hands
    its targets to the workflow, so they are read with Snakemake's own argument parser; anything
    it cannot parse (a job launched by an executor, the API) gives no targets to check."""
    try:
        from snakemake.cli import get_argument_parser

        args, _ = get_argument_parser().parse_known_args(argv)
    except (SystemExit, Exception):  # the check is a courtesy: never the reason a build fails
        return []
    return list(getattr(args, "targets", None) or [])


def suggestion(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else "."


def target_problem(target: str, plan, out: str) -> str | None:
    """Why ``target`` names nothing this workflow builds, or None (also for targets it does not
    recognise as figure paths: rule names, runs, logs; Snakemake judges those)."""
    names = {
        "figure": plan.figures,
        "study": plan.studies,
        "sweep": plan.sweeps,
        "calibration": plan.calibrations,
    }
    if target.startswith("paper_figs/"):
        name = target.removeprefix("paper_figs/").split(".")[0]
        if name in plan.figures or name.startswith("table") or name == "REPORT":
            return None
        return f"{target}: no figure {name!r}{suggestion(name, plan.figures)} Figures: {', '.join(plan.figures)}"
    match = BUILT.match(target)
    if not match or (match["tree"] or "") != out:
        return None
    scales = plan.library.scales
    if match["scale"] not in scales:
        scale = match["scale"]
        return f"{target}: no scale {scale!r}{suggestion(scale, list(scales))} Scales (specs/scales.yaml): {', '.join(scales)}"
    kind = KINDS[match["folder"]]
    name = match["file"].split(".")[0].removesuffix("_curves")
    if name in names[kind]:
        return None
    return f"{target}: no {kind} {name!r}{suggestion(name, names[kind])} Known: {', '.join(names[kind]) or 'none'}"


def forecast_lines(train_jobs: list[tuple[str, int]], cores: int) -> list[str]:
    """What to say before a build whose train jobs (``(run spec JSON, seeds)``) are forecast
    to take more than an hour on ``cores``; nothing for a shorter one."""
    seconds = [train_seconds(spec, seeds) for spec, seeds in train_jobs]
    wall = forecast_seconds(seconds, cores) if seconds else 0.0
    if wall <= FORECAST_WORTH_SAYING_S:
        return []
    return [
        f"Forecast: {len(seconds)} train jobs, {sum(seconds) / 3600:.1f} CPU-hours, about {hours(wall)} on {cores} cores "
        "(the cost model of pipeline/resources.py; `maprops plan TARGET --cores N` lists the jobs).",
        "Train jobs snapshot their seed block every minute: a killed build resumes where it stopped "
        "(run the same command again; after a hard kill, `snakemake --unlock` first).",
    ]
