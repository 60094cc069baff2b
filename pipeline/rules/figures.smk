# Figures: aggregated CSV -> PDF + PNG. Editing pipeline/plot.py reruns only this rule.


def figure_slopes(wc):
    """A fit_slope figure's slopes table (the plot finds its path in the labels), else nothing."""
    labels = plan(wc.scale).plot_labels(wc.figure)
    return [labels["slopes"]] if "slopes" in labels else []


rule figure:
    input:
        csv=f"{OUT}/{{scale}}/aggregated/{{figure}}.csv",
        inputs=f"{OUT}/{{scale}}/aggregated/{{figure}}.inputs.json",
        slopes=figure_slopes,
        script=PIPELINE / "plot.py",
        style=PIPELINE / "plot_style.py",
    output:
        pdf=f"{OUT}/{{scale}}/figures/{{figure}}.pdf",
        png=f"{OUT}/{{scale}}/figures/{{figure}}.png",
    params:
        metric=lambda wc: plan(wc.scale).library.figure(wc.figure).metric,
        title=lambda wc: plan(wc.scale).library.figure(wc.figure).title,
        ylabel=lambda wc: plan(wc.scale).library.figure(wc.figure).ylabel,
        labels=lambda wc: json.dumps(plan(wc.scale).plot_labels(wc.figure), sort_keys=True),
    log:
        f"{OUT}/{{scale}}/logs/figure/{{figure}}.log",
    shell:
        "{PYTHON:q} -m pipeline.plot --aggregated {input.csv:q} --metric {params.metric:q}"
        " --title {params.title:q} --ylabel {params.ylabel:q} --inputs {input.inputs:q}"
        " --labels-json {params.labels:q} --pdf {output.pdf:q} --png {output.png:q} > {log:q} 2>&1"


def shipped_only(path):
    """paper_figs/ holds the shipped specs' figures only: another spec folder's figure of the
    same name must not replace them."""

    def inputs(wc):
        if not IS_SHIPPED_SPECS:
            raise ValueError(
                f"paper_figs/ holds the figures of the shipped specs/; these specs ({SPECS}) build "
                f"into {OUT}/: ask for {OUT}/full/... instead"
            )
        return path.format(**dict(wc.items()))

    return inputs


rule paper_figure:
    """Publish a full-scale figure into paper_figs/."""
    input:
        pdf=shipped_only("results/full/figures/{figure}.pdf"),
        png=shipped_only("results/full/figures/{figure}.png"),
        inputs=shipped_only("results/full/aggregated/{figure}.inputs.json"),
    output:
        pdf="paper_figs/{figure}.pdf",
        png="paper_figs/{figure}.png",
        inputs="paper_figs/{figure}.inputs.json",
    log:
        "results/full/logs/paper_figure/{figure}.log",
    localrule: True
    shell:
        "{PYTHON:q} -m pipeline.atomic copy {input.pdf:q} {output.pdf:q} {input.png:q} {output.png:q}"
        " {input.inputs:q} {output.inputs:q} > {log:q} 2>&1"
