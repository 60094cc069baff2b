"""Where the PROPS / MA-PROPS cost goes, and how close the behavior update runs to this
machine's matrix-multiply rate.

With the paper's m = 1 the behavior policy is reset and retrained after *every* environment
step, on everything collected since the last target update: up to 16 epochs x 8 minibatch
steps each, until the KL cut-off stops it. One such minibatch step is the unit of cost. This
script times one minibatch step (forward, hand-written backward, per-seed gradient clipping,
per-seed Adam) for a block of S seeds at a given buffer size, counts its floating-point work,
and prints GFLOP/s beside the single-thread matmul rate measured in the same run. It also
times the Adam step alone; the rest of a step is the two batched MLP passes and the gathers.

    python -m benchmarks.behavior_update [--seeds 100] [--buffer 2048]

Shapes (the games' specs): LBF 5x5/2 players: obs 9 per agent, 6 actions; BoulderPush 5x5,
sight 4: obs 166 per agent, 4 actions; GridWorld 3x3: obs 18, 4 actions.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from maprops.config import sampler_config
from maprops.policies import Actors, init_params
from maprops.rng import SeedStreams
from maprops.samplers.base import BehaviorData
from maprops.samplers.ma_props import MaPropsSampler
from maprops.samplers.props import PropsSampler

GAMES = {"lbf": (9, 6), "boulderpush": (166, 4), "gridworld": (18, 4)}  # obs dim, actions per agent
N_AGENTS = 2


def best_of(fn, repeats: int = 5, inner: int = 20) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def matmul_gflops(n: int = 512) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / best_of(lambda: torch.mm(a, b)) / 1e9


def mlp_flops(sizes: tuple[int, ...], rows: int) -> float:
    """Forward + backward of a dense MLP: 2 flops per MAC forward, 4 backward (input and weight grads)."""
    macs = sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))
    return 6.0 * macs * rows


def sampler_for(kind: str, obs_dim: int, k: int, seeds: int, rng: SeedStreams):
    config = sampler_config(kind, epochs=1, minibatches=8, target_kl=None)
    if kind == "ma_props":
        sampler = MaPropsSampler(config, obs_dim, (k,) * N_AGENTS, rng)
        return sampler, sampler.mlp.sizes, seeds
    actors = Actors(obs_dim, k, N_AGENTS, (64, 64))
    return PropsSampler(config, actors, init_params(actors.mlp, rng, 1, N_AGENTS, 0.01), rng), actors.mlp.sizes, seeds * N_AGENTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--buffer", type=int, default=2048, help="samples in the buffer (minibatch = buffer // 8)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    peak = matmul_gflops()
    print(f"single-thread matmul (512x512 fp32): {peak:.1f} GFLOP/s")
    s, m, batch = args.seeds, args.buffer, args.buffer // 8
    rng = SeedStreams(range(s))
    for game, (obs_dim, k) in GAMES.items():
        gen = torch.Generator().manual_seed(0)
        data = BehaviorData(
            obs=torch.rand(s, m, N_AGENTS, obs_dim, generator=gen),
            actions=torch.randint(0, k, (s, m, N_AGENTS), generator=gen),
            target_log_probs=torch.full((s, m, N_AGENTS, k), -math.log(k)),
        )
        for kind in ("props", "ma_props"):
            sampler, sizes, rows = sampler_for(kind, obs_dim, k, s, rng)
            target = sampler.params.clone() if kind == "props" else None
            per_update = best_of(
                lambda sampler=sampler, target=target, data=data: sampler.update(target, data, (0,)), repeats=3, inner=2
            )
            per_step = per_update / 8
            everyone = torch.ones(s, dtype=torch.bool)
            clip_adam = best_of(lambda sampler=sampler, everyone=everyone: sampler.optimizer.step(mask=everyone))
            flops = mlp_flops(sizes, rows * batch)
            print(
                f"{game:12s} {kind:9s} S={s} minibatch={batch}: {per_step * 1e3:7.2f} ms/step, "
                f"{flops / per_step / 1e9:6.2f} GFLOP/s = {100 * flops / per_step / 1e9 / peak:4.1f}% of matmul; "
                f"Adam step alone {clip_adam * 1e3:.2f} ms ({100 * clip_adam / per_step:.0f}%)"
            )


if __name__ == "__main__":
    main()
