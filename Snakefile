# maprops: every paper figure is a target built from the YAML specs.
#
#   snakemake --cores 2 paper_figs/fig11.pdf                       # full scale
#   snakemake --cores 2 --config scale=smoke                       # every figure, smoke scale
#   snakemake --cores 2 results/smoke/figures/fig5_matrix.pdf      # one figure, smoke scale
#   snakemake --cores 2 results/full/sweeps/sweep_nonconflict_19.csv  # Table 1 sweep of one game
#   snakemake --cores 2 results/smoke/premise.csv                  # App. E premise at uniform policies
#
# Config: `scale` (a name in specs/scales.yaml; default full) picks what `all` builds; `specs`
# (default: the specs/ folder beside this file) lets a researcher point at their own specs;
# `results` names that folder's output tree (default below); `cores` sizes `seed_block: auto`
# (default: see build_cores below). Any scale can be built by naming its files; each scale has
# its own tree.
#
# Output trees: runs are content-addressed (results/<scale>/runs/<hash>/) and shared by every
# spec folder; everything named after a figure, study or sweep goes to the spec folder's own
# tree: results/ for the shipped specs, results/<folder name>-<hash of its path>/ for any other.
# Two spec folders therefore never write the same file, and a tree that another folder's specs
# built is refused (pipeline/outputs.py).

# Layout (a table of contents): pipeline/rules/common.smk reads the configuration, plans each
# scale and checks targets and the output tree; the rules are one file per stage in
# pipeline/rules/; `all` is below. Every rule that runs a command has a log under
# <output tree>/<scale>/logs/ (results/logs/ for the tables). The record (record/) is never a
# build output: `maprops publish` copies finished builds into it (record/README.md).

include: "pipeline/rules/common.smk"


rule all:
    input:
        [plan(SCALE).figure_path(f, "pdf") for f in plan(SCALE).figures]
        + [plan(SCALE).study_path(s, ".md") for s in plan(SCALE).studies]
        if SCALE != "full" or not IS_SHIPPED_SPECS
        else [f"paper_figs/{f}.pdf" for f in plan("full").figures]
        + [plan("full").study_path(s, ".md") for s in plan("full").studies]
        + ["paper_figs/table1.md"],
    # The claims report is not part of `all`: it reads what exists (run it after a build, or
    # with --config report=complete to build everything it reads first).


include: "pipeline/rules/train.smk"
include: "pipeline/rules/manifests.smk"
include: "pipeline/rules/aggregate.smk"
include: "pipeline/rules/slopes.smk"
include: "pipeline/rules/figures.smk"
include: "pipeline/rules/report.smk"
include: "pipeline/rules/tables.smk"
include: "pipeline/rules/sweeps.smk"
include: "pipeline/rules/studies.smk"
include: "pipeline/rules/premise.smk"
include: "pipeline/rules/calibrations.smk"
