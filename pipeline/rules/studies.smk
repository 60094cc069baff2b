# Sensitivity studies (specs/studies/): a base figure's cells under every setting of the axes.
# Every setting's runs go through the same train rule, so a run shared with a figure or with
# another study is trained once; then the usual aggregation, a figure with a row per setting,
# and a table of final values and sampler differences.


rule study_aggregate:
    input:
        blocks=lambda wc: plan(wc.scale).study_inputs(wc.study),
        manifest=f"{OUT}/{{scale}}/manifests/study/{{study}}.json",
        script=PIPELINE / "aggregate.py",
    output:
        csv=f"{OUT}/{{scale}}/studies/{{study}}.csv",
        seeds=f"{OUT}/{{scale}}/studies/{{study}}.seeds.csv",
        steps=f"{OUT}/{{scale}}/studies/{{study}}.steps.csv",
        inputs=f"{OUT}/{{scale}}/studies/{{study}}.inputs.json",
    log:
        f"{OUT}/{{scale}}/logs/study_aggregate/{{study}}.log",
    shell:
        "{PYTHON:q} -m pipeline.aggregate --manifest {input.manifest:q} --out {output.csv:q}"
        " --seeds-out {output.seeds:q} --steps-out {output.steps:q} --inputs-out {output.inputs:q} > {log:q} 2>&1"


def study_figure(wc):
    """The base figure spec of a study: its metric and axis label."""
    library = plan(wc.scale).library
    return library.figure(library.study(wc.study).figure)


rule study_figure:
    input:
        csv=f"{OUT}/{{scale}}/studies/{{study}}.csv",
        inputs=f"{OUT}/{{scale}}/studies/{{study}}.inputs.json",
        script=PIPELINE / "plot.py",
        style=PIPELINE / "plot_style.py",
    output:
        pdf=f"{OUT}/{{scale}}/studies/{{study}}.pdf",
        png=f"{OUT}/{{scale}}/studies/{{study}}.png",
    params:
        metric=lambda wc: study_figure(wc).metric,
        title=lambda wc: plan(wc.scale).library.study(wc.study).title,
        ylabel=lambda wc: study_figure(wc).ylabel,
        labels=lambda wc: json.dumps(
            plan(wc.scale).plot_labels(study_figure(wc).figure, study=wc.study), sort_keys=True
        ),
    log:
        f"{OUT}/{{scale}}/logs/study_figure/{{study}}.log",
    shell:
        "{PYTHON:q} -m pipeline.plot --aggregated {input.csv:q} --metric {params.metric:q}"
        " --title {params.title:q} --ylabel {params.ylabel:q} --inputs {input.inputs:q}"
        " --labels-json {params.labels:q} --pdf {output.pdf:q} --png {output.png:q} > {log:q} 2>&1"


rule study_table:
    """Final values and sampler differences per setting; asks for the figure too, so the
    study's Markdown target builds everything a reader of it wants."""
    input:
        seeds=f"{OUT}/{{scale}}/studies/{{study}}.seeds.csv",
        png=f"{OUT}/{{scale}}/studies/{{study}}.png",
        script=PIPELINE / "study_table.py",
    output:
        f"{OUT}/{{scale}}/studies/{{study}}.md",
    params:
        settings=lambda wc: json.dumps(plan(wc.scale).study_settings(wc.study), sort_keys=True),
        metric=lambda wc: study_figure(wc).metric,
        title=lambda wc: plan(wc.scale).library.study(wc.study).title,
        labels=lambda wc: json.dumps(plan(wc.scale).sampler_labels(study_figure(wc).figure), sort_keys=True),
    log:
        f"{OUT}/{{scale}}/logs/study_table/{{study}}.log",
    shell:
        "{PYTHON:q} -m pipeline.study_table --seeds {input.seeds:q} --settings-json {params.settings:q}"
        " --metric {params.metric:q} --title {params.title:q} --sampler-labels-json {params.labels:q}"
        " --out {output:q} > {log:q} 2>&1"
