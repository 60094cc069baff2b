"""Render the paper's hyperparameter tables (Appendix G, Tables 1-3) from specs/hyperparams.

    python -m pipeline.tables --specs specs --out-dir paper_figs

writes ``table1.md``/``.tex`` (the behavior sweep grid and the fixed behavior settings),
``table2.md``/``.tex`` (MAPPO/IPPO settings shared by every run) and ``table3.md``/``.tex``
(per-game-family values), each atomically. The tables are rendered from the same validated
specs the runs are resolved from, so a table can never disagree with what was trained.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maprops.io import write_text_atomic
from maprops.specs import SpecLibrary
from maprops.specs.errors import SpecErrors

REPO = Path(__file__).resolve().parents[1]

LABELS = {
    "learning_rate": "Behavior learning rate",
    "batch_size": "Behavior batch size $m$",
    "target_kl": "Behavior KL cut-off $\\delta$",
    "clip_coef": "Clip coefficient $\\epsilon$",
    "epochs": "Update epochs",
    "minibatches": "Minibatches per epoch",
    "max_grad_norm": "Max gradient norm",
    "adam_eps": "Adam $\\epsilon$",
    "hidden_sizes": "Hidden layers",
    "behavior_buffer": "Behavior buffer",
    "gamma": "Discount $\\gamma$",
    "gae_lambda": "GAE $\\lambda$",
    "normalize_advantages": "Advantage normalization",
    "clip_value_loss": "Clipped value loss",
    "ent_coef": "Entropy coefficient",
    "vf_coef": "Value coefficient",
    "anneal_lr": "Linear learning-rate annealing",
    "eval_episodes": "Evaluation episodes",
    "ppo_batch_size": "PPO batch size $n$",
    "ppo_learning_rate": "PPO learning rate",
    "behavior_learning_rate": "Behavior learning rate",
    "behavior_batch_size": "Behavior batch size $m$",
}


def show(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (tuple, list)):
        return ", ".join(show(v) for v in value)
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def tables(library: SpecLibrary) -> dict[str, tuple[str, list[str], list[list[str]]]]:
    """name -> (caption, header, rows), every cell already a string."""
    sweep = [[LABELS[k], show(v)] for k, v in library.table1.model_dump().items()]
    fixed = [[LABELS[k], show(v)] for k, v in library.behavior.model_dump().items() if k not in type(library.table1).model_fields]
    table3_fields = list(next(iter(library.table3.rows.values())).model_dump())
    return {
        "table1": (
            "PROPS / MA-PROPS behavior settings: the sweep grid (values) and the fixed settings.",
            ["Setting", "Values"],
            sweep + fixed,
        ),
        "table2": (
            "MAPPO / IPPO hyperparameters shared by every run.",
            ["Setting", "Value"],
            [[LABELS[k], show(v)] for k, v in library.table2.model_dump().items()],
        ),
        "table3": (
            "Tuned hyperparameters per game family.",
            ["Game family", *(LABELS[f] for f in table3_fields)],
            [[name, *(show(v) for v in row.model_dump().values())] for name, row in library.table3.rows.items()],
        ),
    }


def markdown(caption: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"| {' | '.join(header)} |", "|" + "---|" * len(header)]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return f"{caption}\n\n" + "\n".join(lines).replace("$", "") + "\n"


def latex(caption: str, header: list[str], rows: list[list[str]]) -> str:
    def escape(cell: str) -> str:
        return cell if "$" in cell else cell.replace("_", "\\_")

    body = [" & ".join(escape(c) for c in header) + " \\\\", "\\midrule"]
    body += [" & ".join(escape(c) for c in row) + " \\\\" for row in rows]
    return (
        "\\begin{table}[t]\n\\centering\n"
        f"\\begin{{tabular}}{{l{'l' * (len(header) - 1)}}}\n\\toprule\n"
        + "\n".join(body)
        + f"\n\\bottomrule\n\\end{{tabular}}\n\\caption{{{caption}}}\n\\end{{table}}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", default=str(REPO / "specs"))
    parser.add_argument("--out-dir", default=str(REPO / "paper_figs"))
    args = parser.parse_args(argv)
    try:
        library = SpecLibrary(args.specs)
    except SpecErrors as err:
        print(err, file=sys.stderr)
        return 1
    out = Path(args.out_dir)
    for name, table in tables(library).items():
        for ext, render in (("md", markdown), ("tex", latex)):
            write_text_atomic(out / f"{name}.{ext}", render(*table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
