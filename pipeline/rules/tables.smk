# Tables: the paper's Tables 1-3 rendered from specs/hyperparams (Markdown + LaTeX).

TABLES = ["table1", "table2", "table3"]


rule tables:
    input:
        specs=sorted((Path(SPECS) / "hyperparams").glob("*.yaml")),
        script=PIPELINE / "tables.py",
    output:
        expand("paper_figs/{table}.{ext}", table=TABLES, ext=["md", "tex"]),
    log:
        "results/logs/tables.log",
    localrule: True
    shell:
        "{PYTHON:q} -m pipeline.tables --specs {SPECS:q} --out-dir paper_figs > {log:q} 2>&1"
