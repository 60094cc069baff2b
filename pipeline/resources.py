"""Cluster resources of a train job (one seed block of one run), derived from its run spec.

The train rule asks these functions for its ``runtime`` (minutes) and ``mem_mb``; on a SLURM
cluster they become ``sbatch -t`` and ``--mem`` (``profiles/slurm``). Locally they are only
scheduling hints: ``snakemake --cores 2`` neither limits nor checks them.

Runtime model (seconds, before the safety factor), for ``S`` seeds trained in lock-step::

    STARTUP_S                                     interpreter, torch import, spec parsing
  + S * total_steps * STEP_S[kind]                 acting, stepping game and shadow buffer, PPO updates
  + total_steps * n / m * (BLOCK_S[kind] + S * SEED_S[kind])
                                                   PROPS / MA-PROPS only: a behavior update every m
                                                   steps on the buffer collected so far (n =
                                                   ppo.batch_size), about n^2 / m per target update;
                                                   a block-wide part (Python, kernel launches) plus
                                                   a per-seed part (the batched arithmetic)
  + S * evaluations * EVAL_S[kind]                 target evaluation + sampling error of both buffers
                                                   (for BoulderPush and LBF: two maximum-likelihood fits)

The constants are per game kind, fitted to train logs of this repository's runs on one core of
the 2-core development machine, with other jobs beside them (``results/*/logs/train/*.log``,
``docs/findings.md``):

- matrix 2x2, n = 20, 160 steps: PROPS 18-21 s at 5 seeds, 121 s at 100 seeds (fig5 reduced, fig11).
- GridWorld, n = 256, 25,600 steps: PROPS 3263 s and MA-PROPS 2366 s at 5 seeds; MA-PROPS at
  100 seeds ran 22 of 100 target updates in 1389 s (a stopped full-scale job).
- BoulderPush, n = 4096, 98,304 steps: PROPS 4098 s, MA-PROPS 2454 s at 5 seeds; a probe of the
  first update put 100 seeds at about 12x the cost of 5.
- LBF, n = 2048, 98,304 steps: PROPS 1084 s, MA-PROPS 2102 s at 5 seeds (the block/seed split
  is taken from BoulderPush's).
- EVAL_S from the fixed-target runs of fig4 (10 seeds, 17 checkpoints: BoulderPush 73-106 s,
  LBF 48-200 s, GridWorld 1.3-10 s, matrix about 1 s).

It is multiplied by SAFETY (2) and by the attempt (Snakemake's retries get
twice, three times... the time), then rounded up to whole minutes, at least MIN_MINUTES.
Game kinds not listed here get the costliest constants. When new measurements disagree, change
the constants here: nothing else depends on them, and no run is retrained for it (resources are
not part of a run's identity).

Memory: BASE_MB (interpreter + torch, about 300 MB resident in practice) plus the buffers, which
grow with seeds x samples held at once (one PPO batch n; a fixed-target run holds all total_steps
samples): observations for both the sampler's and the shadow buffer, their copies for behavior and
PPO minibatches, network activations. BYTES_PER_SAMPLE is about 8 copies of a joint observation
(2 agents x obs_dim floats) plus 2 KB, per seed: obs_dim is 1 (matrix), 18 (GridWorld), 9 (LBF),
166 (BoulderPush).
"""

from __future__ import annotations

import json
import math

STARTUP_S = 30.0
SAFETY = 2.0
MIN_MINUTES = 5
BASE_MB = 1024
PACK_UP_TO_MINUTES = 60  # train jobs this short share cluster submissions (group "trainjobs")

STEP_S = {"matrix": 2e-4, "gridworld": 2e-4, "boulderpush": 8e-4, "lbf": 1e-3}
BLOCK_S = {"matrix": 5e-3, "gridworld": 4.7e-4, "boulderpush": 5e-6, "lbf": 5e-6}
SEED_S = {"matrix": 3.5e-4, "gridworld": 9e-6, "boulderpush": 1.5e-6, "lbf": 1.5e-6}
EVAL_S = {"matrix": 0.005, "gridworld": 0.02, "boulderpush": 0.7, "lbf": 1.0}
BYTES_PER_SAMPLE = {"matrix": 2_200, "gridworld": 3_200, "boulderpush": 12_700, "lbf": 2_700}


def _constant(table: dict[str, float], kind: str) -> float:
    return table.get(kind, max(table.values()))


def _spec(spec_json: str | dict) -> dict:
    return json.loads(spec_json) if isinstance(spec_json, str) else spec_json


def train_seconds(spec_json: str | dict, n_seeds: int) -> float:
    """The model's estimate (no safety factor) of one block of ``n_seeds`` seeds, in seconds."""
    spec = _spec(spec_json)
    kind = spec["game"]["kind"]
    steps = spec["total_steps"]
    n = spec["ppo"]["batch_size"]
    behavior = 0.0
    if spec["sampler"]["kind"] != "on_policy":
        per_unit = _constant(BLOCK_S, kind) + n_seeds * _constant(SEED_S, kind)
        behavior = steps * n / spec["sampler"]["batch_size"] * per_unit
    eval_every = spec.get("eval_every", 1)
    if spec.get("fixed_target"):
        evaluations = steps // eval_every + 1
    else:
        evaluations = (steps // n) // eval_every + 1
    return STARTUP_S + behavior + n_seeds * (steps * _constant(STEP_S, kind) + evaluations * _constant(EVAL_S, kind))


def train_runtime_minutes(spec_json: str | dict, n_seeds: int, attempt: int = 1) -> int:
    """Wall-time request of one train job in minutes (``sbatch -t``)."""
    minutes = math.ceil(SAFETY * train_seconds(spec_json, n_seeds) / 60)
    return max(MIN_MINUTES, minutes) * max(1, attempt)


def train_mem_mb(spec_json: str | dict, n_seeds: int, attempt: int = 1) -> int:
    """Memory request of one train job in MB (``sbatch --mem``)."""
    spec = _spec(spec_json)
    kind = spec["game"]["kind"]
    held = spec["total_steps"] if spec.get("fixed_target") else spec["ppo"]["batch_size"]
    buffers = SAFETY * n_seeds * held * _constant(BYTES_PER_SAMPLE, kind) / 1e6
    return (BASE_MB + math.ceil(buffers)) * max(1, attempt)


def train_group(spec_json: str | dict, n_seeds: int) -> str | None:
    """The train job's Snakemake group: short jobs join ``trainjobs`` (the SLURM profile packs
    ``group-components`` of them per submission); long ones (BoulderPush / LBF with PROPS or
    MA-PROPS) are submitted alone, so packing never serializes hours of work behind each other."""
    return "trainjobs" if train_runtime_minutes(spec_json, n_seeds) <= PACK_UP_TO_MINUTES else None
