# Calibrations (specs/calibrations/): a game's open settings chosen by a declared protocol that
# reads on-policy results only (docs/assumptions.md#calibration). Every candidate is one on-policy
# run trained by the train rule (shared by hash: the candidate equal to the game as written is
# the figure's own on-policy run); its per-seed values are aggregated as a study's are, then
# pipeline/calibration.py writes the table, one row per candidate, the chosen one marked.


rule calibration_aggregate:
    input:
        blocks=lambda wc: plan(wc.scale).calibration_inputs(wc.calibration),
        manifest=f"{OUT}/{{scale}}/manifests/calibration/{{calibration}}.json",
        script=PIPELINE / "aggregate.py",
    output:
        csv=f"{OUT}/{{scale}}/calibrations/{{calibration}}.curves.csv",
        seeds=f"{OUT}/{{scale}}/calibrations/{{calibration}}.seeds.csv",
        inputs=f"{OUT}/{{scale}}/calibrations/{{calibration}}.inputs.json",
    log:
        f"{OUT}/{{scale}}/logs/calibration_aggregate/{{calibration}}.log",
    wildcard_constraints:
        calibration=one_of(DEFAULT_PLAN.calibrations),
    shell:
        "{PYTHON:q} -m pipeline.aggregate --manifest {input.manifest:q} --out {output.csv:q}"
        " --seeds-out {output.seeds:q} --inputs-out {output.inputs:q} > {log:q} 2>&1"


rule calibration_premise:
    """Each candidate's premise check under uniform random policies (no training result read);
    episodes as the premise target's (pipeline/rules/premise.smk)."""
    input:
        script=PIPELINE / "calibration_premise.py",
    output:
        f"{OUT}/{{scale}}/calibrations/{{calibration}}.premise.csv",
    params:
        spec=lambda wc: json.dumps(plan(wc.scale).calibration_table_spec(wc.calibration), sort_keys=True),
        episodes=lambda wc: PREMISE_EPISODES.get(wc.scale, PREMISE_EPISODES_DEFAULT),
    log:
        f"{OUT}/{{scale}}/logs/calibration_premise/{{calibration}}.log",
    wildcard_constraints:
        calibration=one_of(DEFAULT_PLAN.calibrations),
    shell:
        "{PYTHON:q} -m pipeline.calibration_premise --specs {SPECS:q} --spec-json {params.spec:q}"
        " --episodes {params.episodes:q} --out {output:q} > {log:q} 2>&1"


rule calibration:
    """The table: per candidate its settings, on-policy final value with a 95% bootstrap CI,
    its premise verdict, whether it meets the criterion; the first that does is chosen."""
    input:
        seeds=f"{OUT}/{{scale}}/calibrations/{{calibration}}.seeds.csv",
        premise=f"{OUT}/{{scale}}/calibrations/{{calibration}}.premise.csv",
        script=PIPELINE / "calibration.py",
    output:
        md=f"{OUT}/{{scale}}/calibrations/{{calibration}}.md",
        csv=f"{OUT}/{{scale}}/calibrations/{{calibration}}.csv",
    params:
        spec=lambda wc: json.dumps(plan(wc.scale).calibration_table_spec(wc.calibration), sort_keys=True),
    log:
        f"{OUT}/{{scale}}/logs/calibration/{{calibration}}.log",
    wildcard_constraints:
        calibration=one_of(DEFAULT_PLAN.calibrations),
    shell:
        "{PYTHON:q} -m pipeline.calibration --seeds {input.seeds:q} --spec-json {params.spec:q}"
        " --premise {input.premise:q} --md {output.md:q} --csv {output.csv:q} > {log:q} 2>&1"


rule calibrations:
    """Every calibration's table at the configured scale (`--config scale=...`)."""
    input:
        [plan(SCALE).calibration_path(name, ".md") for name in plan(SCALE).calibrations],
