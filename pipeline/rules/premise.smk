# The Appendix E premise: under uniform random policies, does each agent's expected policy gradient
# favour its cooperative action? `maprops premise` on every game spec and variant ->
# {OUT}/{scale}/premise.csv, one row per (game, variant, agent); the claims report renders it
# (docs/premise.md). Not part of `all`: the report reads it when it exists (report=available) or
# asks for it (report=complete).

# Episodes per game and variant, by scale (a scale not listed here gets the default). A setting
# of this rule, not of specs/scales.yaml: the scales cap training budgets, this is not one. At the
# default an LBF variant (the slow one: the real package, stepped per episode) takes about 2 CPU-minutes.
PREMISE_EPISODES = {"smoke": 200}
PREMISE_EPISODES_DEFAULT = 20000


rule premise:
    input:
        games=sorted((Path(SPECS) / "games").glob("*.yaml")),
        table2=Path(SPECS) / "hyperparams" / "table2.yaml",
    output:
        f"{OUT}/{{scale}}/premise.csv",
    params:
        episodes=lambda wc: PREMISE_EPISODES.get(wc.scale, PREMISE_EPISODES_DEFAULT),
    log:
        f"{OUT}/{{scale}}/logs/premise.log",
    threads: 1
    shell:
        "{PYTHON:q} -m maprops.cli premise --specs {SPECS:q} --episodes {params.episodes:q} --seed 0"
        " --csv {output:q} > {log:q} 2>&1"
