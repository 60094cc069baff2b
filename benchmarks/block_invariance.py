"""Is a seed's training bit for bit the same alone and inside a block? A diagnostic, not a test.

The registry tests check the contract on result columns after two smoke-scale target updates;
a last-bit difference can take several updates to reach the columns. This trains each chosen
(game, sampler) cell of the shipped specs at smoke scale for ``--iterations`` target updates,
once for seed ``--seed`` alone and once inside the block ``0 .. --block - 1``, side by side, and
prints after every update the largest difference of that seed's actor parameters and (where
the sampler has them) behavior parameters. Zeros all the way down mean the seed never noticed
its block. ``--threads 2`` shows why training runs one thread: with two MKL threads a seed's
batched matrix products (MKL's SGEMM_BATCH) differ in the last bits with its block.

    python -m benchmarks.block_invariance [--cells gridworld:ma_props,climbing/modified:props]
                                          [--iterations 8] [--seed 3] [--block 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import os

import torch

from maprops.specs import SpecLibrary
from maprops.specs.figures import FigureSpec, Panel
from maprops.train import Trainer

DEFAULT_CELLS = "gridworld:ma_props,gridworld:props,nonconflict_01:ma_props,climbing/modified:ma_props"


def smoke_cell(library: SpecLibrary, cell: str, iterations: int):
    """``game[/variant]:sampler`` -> its smoke-scale run spec, cut to ``iterations`` target updates."""
    where, sampler = cell.split(":")
    game, _, variant = where.partition("/")
    variant = variant or "original"
    shown = [p for f in library.figures.values() for p in f.panels if (p.game, p.variant) == (game, variant)]
    # a shipped figure's panel carries its overrides (e.g. the continuous task's behavior settings)
    panel = shown[0] if shown else Panel(game=game, title=game, variant=variant)
    figure = FigureSpec(
        figure="block_invariance", title="block invariance", algorithm="mappo", metric="success_rate",
        ylabel="Success rate", samplers=(sampler,), seeds=2, panels=(panel,),
    )  # fmt: skip
    run = library.run_spec(figure, panel, sampler, library.scale("smoke"))
    return run.model_copy(update={"total_steps": run.ppo.batch_size * iterations, "eval_every": min(4, iterations)})


def seed_rows(tensor: torch.Tensor, seeds: int, index: int) -> torch.Tensor:
    return tensor.reshape(seeds, -1)[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default=DEFAULT_CELLS)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--block", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch/MKL threads (training uses 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    library = SpecLibrary("specs")
    print(
        f"MKL_CBWR={os.environ.get('MKL_CBWR')}, {args.threads} thread(s); seed {args.seed} alone vs in seeds 0-{args.block - 1}"
    )
    for cell in args.cells.split(","):
        run = smoke_cell(library, cell, args.iterations)
        alone, block = Trainer(run, [args.seed]), Trainer(run, list(range(args.block)))
        diffs = []
        for _ in range(args.iterations):
            alone.run_iteration()
            block.run_iteration()
            actor = (
                (seed_rows(alone.learner.actor_params, 1, 0) - seed_rows(block.learner.actor_params, args.block, args.seed))
                .abs()
                .max()
            )
            behavior = float("nan")
            if hasattr(alone.sampler, "params"):
                a, b = alone.sampler.params, block.sampler.params
                behavior = float((seed_rows(a, 1, 0) - seed_rows(b, args.block, args.seed)).abs().max())
            diffs.append(f"{float(actor):.1e}/{behavior:.1e}")
        print(f"{cell:28s} actor/behavior max |diff| per update: {' '.join(diffs)}")


if __name__ == "__main__":
    main()
