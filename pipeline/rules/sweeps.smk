# Sweeps: paper Table 1 per game. Every setting trains through the same train rule (runs are
# shared by hash); its curves are aggregated, then scored, and the best setting is marked.


rule sweep_curves:
    input:
        blocks=lambda wc: plan(wc.scale).sweep_inputs(wc.sweep),
        manifest=f"{OUT}/{{scale}}/manifests/sweep/{{sweep}}.json",
        script=PIPELINE / "aggregate.py",
    output:
        f"{OUT}/{{scale}}/sweeps/{{sweep}}_curves.csv",
    log:
        f"{OUT}/{{scale}}/logs/sweep_curves/{{sweep}}.log",
    shell:
        "{PYTHON:q} -m pipeline.aggregate --manifest {input.manifest:q} --out {output:q} > {log:q} 2>&1"


checkpoint sweep:
    """Every setting's final score and, per sampler, the best one (a checkpoint: figure panels
    that name the sweep are resolved from this table)."""
    input:
        curves=f"{OUT}/{{scale}}/sweeps/{{sweep}}_curves.csv",
        script=PIPELINE / "sweep.py",
    output:
        f"{OUT}/{{scale}}/sweeps/{{sweep}}.csv",
    params:
        settings=lambda wc: json.dumps(plan(wc.scale).sweep_settings(wc.sweep), sort_keys=True),
    log:
        f"{OUT}/{{scale}}/logs/sweep/{{sweep}}.log",
    shell:
        "{PYTHON:q} -m pipeline.sweep --curves {input.curves:q} --settings-json {params.settings:q} --out {output:q} > {log:q} 2>&1"
