"""How much does training a block of seeds in one process save, per seed?

Times training iterations (one target update of n = 20 steps, with a behavior update after
every step) of MAPPO + MA-PROPS on 2x2 game 19 (modified), for a block of S = 1 and S = 64
seeds, and prints the per-seed speedup. Setup (network initialization) is not timed; the
first iteration is run untimed too, then the mean of the next ``--iterations`` is reported,
best of ``--repeats``. One torch thread, as in training.

    python -m benchmarks.seed_batching [--iterations 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import torch

from maprops.config import MatrixGameConfig, RunSpec, ppo_config, sampler_config
from maprops.train import Trainer

GAME_19_MODIFIED = [[[5, 5], [1, 3]], [[3, 1], [2, 2]]]


def one_iteration_spec() -> RunSpec:
    return RunSpec(
        game=MatrixGameConfig(name="nonconflict_19", variant="modified", payoffs=GAME_19_MODIFIED, optimal=((0, 0),)),
        algorithm="mappo",
        sampler=sampler_config("ma_props", learning_rate=0.03, batch_size=1),
        ppo=ppo_config(batch_size=20, learning_rate=0.1),
        total_steps=20 * 100,
        eval_episodes=100,
    )


def seconds_per_iteration(block: int, iterations: int, repeats: int) -> float:
    spec = one_iteration_spec()
    best = float("inf")
    for r in range(repeats):
        trainer = Trainer(spec, list(range(r * block, (r + 1) * block)))
        trainer.run_iteration()
        start = time.perf_counter()
        for _ in range(iterations):
            trainer.run_iteration()
        best = min(best, (time.perf_counter() - start) / iterations)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations per run")
    parser.add_argument("--repeats", type=int, default=3, help="take the best of this many runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seconds_per_iteration(4, 1, 1)  # warm up allocator and kernels
    t1 = seconds_per_iteration(1, args.iterations, args.repeats)
    t64 = seconds_per_iteration(64, args.iterations, args.repeats)
    print(f"S=1 : {t1 * 1e3:9.1f} ms per iteration, {t1 * 1e3:8.2f} ms per seed")
    print(f"S=64: {t64 * 1e3:9.1f} ms per iteration, {t64 / 64 * 1e3:8.2f} ms per seed")
    print(f"per_seed_speedup_S64_vs_S1 = {t1 * 64 / t64:.1f}")


if __name__ == "__main__":
    main()
