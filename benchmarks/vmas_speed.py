"""Per-seed environment-step time: one batched VMAS environment vs one PettingZoo instance per seed.

Steps the game cores the engine trains with, S seeds x 1 environment, uniform random actions,
automatic resets included (each core's own per-seed seeding), and prints the time of one
environment step per seed for S = 1, 10, 100:

- ``vmas dispersion``: the shipped VMAS task (specs/games/dispersion.yaml), one VMAS
  environment of S entries (maprops/games/vmas_task.py);
- ``vmas simple_spread``: VMAS's own Simple Spread with 2 agents, 25-step episodes, the same
  task as the next row, on the same core;
- ``pettingzoo simple_spread``: the shipped PettingZoo task (specs/games/simple_spread.yaml,
  mpe2), one instance per seed stepped in a loop (maprops/games/pettingzoo_task.py).

Only the game's step is timed (no acting, no PPO): what batching the simulator saves. Setup and
the first reset are not timed; best of ``--repeats``. One torch thread, as in training.

    python -m benchmarks.vmas_speed [--steps 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from maprops.games import make_game
from maprops.games.vmas_task import VmasGame
from maprops.specs import SpecLibrary

SPECS = Path(__file__).resolve().parents[1] / "specs"
BLOCKS = (1, 10, 100)


def games() -> dict:
    """Name -> a factory of a fresh core."""
    library = SpecLibrary(SPECS)
    return {
        "vmas dispersion": lambda: make_game(library.games["dispersion"].to_config()),
        "vmas simple_spread": lambda: VmasGame(
            scenario="simple_spread",
            kwargs={"n_agents": 2},
            max_episode_steps=25,
            success={"team_return_at_least": -10.0},
        ),
        "pettingzoo simple_spread": lambda: make_game(library.games["simple_spread"].to_config()),
    }


def seconds_per_seed_step(make, seeds: int, steps: int, repeats: int) -> float:
    best = float("inf")
    for r in range(repeats):
        game = make()
        gen = torch.Generator().manual_seed(r)
        game.reset((seeds, 1), torch.rand(seeds, 1, 1, generator=gen, dtype=torch.float64))
        k = game.n_actions[0]
        work = [
            (
                torch.randint(0, k, (seeds, 1, game.n_agents), generator=gen),
                torch.rand(seeds, 1, 1, generator=gen, dtype=torch.float64),
            )
            for _ in range(steps)
        ]
        start = time.perf_counter()
        for actions, u in work:
            game.step(actions, u)
        best = min(best, (time.perf_counter() - start) / steps / seeds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed steps per run (several episodes: resets included)")
    parser.add_argument("--repeats", type=int, default=3, help="take the best of this many runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    factories = games()
    print("microseconds per environment step per seed (S seeds x 1 environment)")
    print(f"| {'game core':<26} | " + " | ".join(f"S = {s:>3}" for s in BLOCKS) + " |")
    print(f"|{'-' * 28}|" + "|".join("-" * 9 for _ in BLOCKS) + "|")
    for name, make in factories.items():
        cells = [seconds_per_seed_step(make, s, args.steps, args.repeats) * 1e6 for s in BLOCKS]
        print(f"| {name:<26} | " + " | ".join(f"{c:7.1f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
