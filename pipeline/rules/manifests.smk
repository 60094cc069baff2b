# Manifests: what an aggregation reads (which result files make each curve, with which seeds and
# metrics), one JSON file per figure, study, sweep and calibration:
# {OUT}/{scale}/manifests/<kind>/<name>.json, from pipeline/expand.py (Plan.manifest,
# study_manifest, sweep_manifest, calibration_manifest).
#
# The content is the rule's param, so Snakemake rewrites the file when it changes (its "params
# changed" rerun trigger), which in turn reruns the aggregation that reads it. A file rather than
# a command-line argument of the aggregation: fig11's manifest is 35 KB, and Linux caps one
# argument at 128 KiB. Here it reaches the writer on standard input from printf, a shell builtin,
# so no argument of an executed program holds it (Snakemake itself runs a command longer than
# 64 KiB from a script file).

MANIFESTS = {
    "figure": lambda scale_plan, name: scale_plan.manifest(name),
    "study": lambda scale_plan, name: scale_plan.study_manifest(name),
    "sweep": lambda scale_plan, name: scale_plan.sweep_manifest(name),
    "calibration": lambda scale_plan, name: scale_plan.calibration_manifest(name),
}


def manifest_figure(wc):
    """The figure whose panels a manifest covers (a study's is its base figure), or None (a
    sweep or a calibration); a name of the wrong kind is refused here, before anything runs."""
    library = plan(wc.scale).library
    names = {
        "figure": library.figures,
        "study": library.studies,
        "sweep": library.sweeps,
        "calibration": library.calibrations,
    }[wc.kind]
    if wc.name not in names:
        raise ValueError(f"{wc.name!r} is not a {wc.kind}; known: {', '.join(names)}")
    if wc.kind in ("sweep", "calibration"):
        return None
    return wc.name if wc.kind == "figure" else library.study(wc.name).figure


def manifest_sweeps(wc):
    """The sweep tables whose best settings a manifest's cells take (a panel naming a sweep):
    inputs, so that Snakemake finishes those checkpoints before it computes the param."""
    figure = manifest_figure(wc)
    if figure is None:
        return []
    panels = plan(wc.scale).library.figure(figure).panels
    return sorted({f"{OUT}/{wc.scale}/sweeps/{p.sweep}.csv" for p in panels if p.sweep is not None})


rule manifest:
    input:
        sweeps=manifest_sweeps,
    output:
        f"{OUT}/{{scale}}/manifests/{{kind}}/{{name}}.json",
    params:
        manifest=lambda wc: json.dumps(MANIFESTS[wc.kind](plan(wc.scale), wc.name), indent=1, sort_keys=True),
    log:
        f"{OUT}/{{scale}}/logs/manifest/{{kind}}/{{name}}.log",
    wildcard_constraints:
        kind="|".join(MANIFESTS),
        name=one_of([*DEFAULT_PLAN.figures, *DEFAULT_PLAN.studies, *DEFAULT_PLAN.sweeps, *DEFAULT_PLAN.calibrations]),
    localrule: True
    shell:
        "printf '%s\\n' {params.manifest:q} | {PYTHON:q} -m pipeline.atomic write {output:q} - > {log:q} 2>&1"
