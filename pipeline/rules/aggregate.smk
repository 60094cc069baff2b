# Aggregation: every seed block of a figure -> one tidy CSV of mean and 95% bootstrap CI.
import json


rule aggregate:
    input:
        blocks=lambda wc: plan(wc.scale).figure_inputs(wc.figure),
        script=PIPELINE / "aggregate.py",
    output:
        csv="results/{scale}/aggregated/{figure}.csv",
        inputs="results/{scale}/aggregated/{figure}.inputs.json",
    params:
        manifest=lambda wc: json.dumps(plan(wc.scale).manifest(wc.figure), sort_keys=True),
    shell:
        "{PYTHON} {input.script} --manifest-json {params.manifest:q} --out {output.csv} --inputs-out {output.inputs}"
