# The claims report: specs/claims.yaml + per-seed tables -> {OUT}/{scale}/REPORT.md.
#
# By default (`--config report=available`) the report reads only the per-seed tables already on
# disk, so asking for it never starts training: a missing table shows as "not run". With
# `--config report=complete` every table the claims read is an input, so Snakemake builds them
# (and trains what they need) first. The same holds for the Appendix E premise table
# ({OUT}/{scale}/premise.csv, pipeline/rules/premise.smk), which the report renders at its end.
# Include after figures.smk (paper_report uses shipped_only).

REPORT_MODES = ("available", "complete")


def report_tables(wc):
    """The per-seed tables the claims read: those on disk, or all of them (report=complete)."""
    from pipeline.report import tables_read

    mode = config.get("report", "available")
    if mode not in REPORT_MODES:
        raise ValueError(f"--config report={mode}: expected one of {', '.join(REPORT_MODES)}")
    scale_plan = plan(wc.scale)
    tables = tables_read(scale_plan, scale_plan.library.claims)
    return tables if mode == "complete" else [t for t in tables if Path(t).is_file()]


def report_premise(wc):
    """The premise table (pipeline/rules/premise.smk): if on disk, or always (report=complete)."""
    from pipeline.report import premise_path

    path = premise_path(plan(wc.scale))
    return [path] if config.get("report", "available") == "complete" or Path(path).is_file() else []


rule report:
    input:
        claims=[p for p in [Path(SPECS) / "claims.yaml"] if p.is_file()],
        tables=report_tables,
        premise=report_premise,
        script=PIPELINE / "report.py",
    output:
        f"{OUT}/{{scale}}/REPORT.md",
    log:
        f"{OUT}/{{scale}}/logs/report.log",
    shell:
        "{PYTHON:q} -m pipeline.report --specs {SPECS:q} --scale {wildcards.scale:q}"
        " --out-root {OUT:q} --out {output:q} > {log:q} 2>&1"


rule paper_report:
    """Publish the full-scale claims report into paper_figs/."""
    input:
        shipped_only("results/full/REPORT.md"),
    output:
        "paper_figs/REPORT.md",
    log:
        "results/full/logs/paper_report.log",
    localrule: True
    shell:
        "{PYTHON:q} -m pipeline.atomic copy {input:q} {output:q} > {log:q} 2>&1"
