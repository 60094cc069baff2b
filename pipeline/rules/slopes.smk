# Slopes (figures with fit_slope: true): each curve's least-squares log-log slope with a 95%
# bootstrap CI over seeds, read from the same files and steps as the aggregation. A rule of its
# own rather than a fourth output of `aggregate`: a new output there would make every other
# figure's aggregate look incomplete, and rebuild it.
rule slopes:
    input:
        blocks=lambda wc: plan(wc.scale).figure_inputs(wc.figure),
        manifest=f"{OUT}/{{scale}}/manifests/figure/{{figure}}.json",
        script=PIPELINE / "slopes.py",
        reader=PIPELINE / "aggregate.py",
    output:
        f"{OUT}/{{scale}}/aggregated/{{figure}}.slopes.csv",
    log:
        f"{OUT}/{{scale}}/logs/slopes/{{figure}}.log",
    wildcard_constraints:
        figure=one_of(DEFAULT_PLAN.slope_figures),
    shell:
        "{PYTHON:q} -m pipeline.slopes --manifest {input.manifest:q} --out {output:q} > {log:q} 2>&1"
