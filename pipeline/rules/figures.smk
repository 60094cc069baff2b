# Figures: aggregated CSV -> PDF + PNG. Editing pipeline/plot.py reruns only this rule.


rule figure:
    input:
        csv="results/{scale}/aggregated/{figure}.csv",
        inputs="results/{scale}/aggregated/{figure}.inputs.json",
        script=PIPELINE / "plot.py",
    output:
        pdf="results/{scale}/figures/{figure}.pdf",
        png="results/{scale}/figures/{figure}.png",
    params:
        metric=lambda wc: plan(wc.scale).library.figure(wc.figure).metric,
        title=lambda wc: plan(wc.scale).library.figure(wc.figure).title,
        ylabel=lambda wc: plan(wc.scale).library.figure(wc.figure).ylabel,
    shell:
        "{PYTHON} {input.script} --aggregated {input.csv} --metric {params.metric}"
        " --title {params.title:q} --ylabel {params.ylabel:q} --inputs {input.inputs}"
        " --pdf {output.pdf} --png {output.png}"


rule paper_figure:
    """Publish a full-scale figure into paper_figs/."""
    input:
        pdf="results/full/figures/{figure}.pdf",
        png="results/full/figures/{figure}.png",
        inputs="results/full/aggregated/{figure}.inputs.json",
    output:
        pdf="paper_figs/{figure}.pdf",
        png="paper_figs/{figure}.png",
        inputs="paper_figs/{figure}.inputs.json",
    localrule: True
    run:
        import shutil
        from maprops.io import atomic_path

        for src, dst in ((input.pdf, output.pdf), (input.png, output.png), (input.inputs, output.inputs)):
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
