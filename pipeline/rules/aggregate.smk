# Aggregation: every seed block of a figure -> one tidy CSV of mean and 95% bootstrap CI per
# curve, each seed's first/final/mean value per curve (what claims compare), and a record of the
# result files that fed them. The manifest (pipeline/rules/manifests.smk) says which files make
# each curve.


rule aggregate:
    input:
        blocks=lambda wc: plan(wc.scale).figure_inputs(wc.figure),
        manifest=f"{OUT}/{{scale}}/manifests/figure/{{figure}}.json",
        script=PIPELINE / "aggregate.py",
    output:
        csv=f"{OUT}/{{scale}}/aggregated/{{figure}}.csv",
        seeds=f"{OUT}/{{scale}}/aggregated/{{figure}}.seeds.csv",
        steps=f"{OUT}/{{scale}}/aggregated/{{figure}}.steps.csv",
        inputs=f"{OUT}/{{scale}}/aggregated/{{figure}}.inputs.json",
    log:
        f"{OUT}/{{scale}}/logs/aggregate/{{figure}}.log",
    shell:
        "{PYTHON:q} -m pipeline.aggregate --manifest {input.manifest:q} --out {output.csv:q}"
        " --seeds-out {output.seeds:q} --steps-out {output.steps:q} --inputs-out {output.inputs:q} > {log:q} 2>&1"
