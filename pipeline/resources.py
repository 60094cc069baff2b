"""Cluster resources of a train job (one seed block of one run), derived from its run spec.

The train rule asks these functions for its ``runtime`` (minutes) and ``mem_mb``; on a SLURM
cluster they become ``sbatch -t`` and ``--mem`` (``profiles/slurm``). Locally they are only
scheduling hints: ``snakemake --cores 2`` neither limits nor checks them.

Runtime model (seconds, before the safety factor), for ``S`` seeds trained in lock-step::

    STARTUP_S                                     interpreter, torch import, spec parsing
  + S * total_steps * STEP_S[kind]                 acting, stepping game and shadow buffer, PPO updates
  + S * total_steps * BEHAVIOR_S[kind] * n / m     PROPS / MA-PROPS only: a behavior update every m
                                                   steps on the buffer collected so far (n = ppo.batch_size),
                                                   i.e. about S * n^2 / m per target update
  + S * evaluations * EVAL_S[kind]                 target evaluation + sampling error of both buffers
                                                   (for BoulderPush and LBF: two maximum-likelihood fits)

The constants are per game kind and calibrated at the paper's settings (Tables 2-3) on one core
of the development machine (``results/*/logs/train/*.log`` print "trained N seeds ... in Xs"):

- matrix, 100 seeds, 160 steps, n = 20: on-policy 1.8-3.5 s, MA-PROPS 33-71 s, PROPS 61-121 s
  (``docs/findings.md``); BEHAVIOR_S from PROPS's slowest run. At n = 20 the cost is really the
  fixed number of behavior gradient steps per update, so the ``* n`` term overestimates larger n.
- GridWorld, 100 seeds, 25,600 steps, n = 256: PROPS about 15 minutes.
- BoulderPush, 5 seeds, 98,304 steps, n = 4096: PROPS about 4 CPU-hours.
- LBF: no full PROPS measurement yet; assumed as costly per step as BoulderPush (``specs/scales.yaml``:
  "BoulderPush and LBF with PROPS / MA-PROPS cost 1-2 CPU-hours per seed").
- EVAL_S from the fixed-target runs of fig4 (10 seeds, 17 checkpoints: BoulderPush 73-106 s,
  LBF 48-200 s, GridWorld 1.3-10 s, matrix about 1 s).

The estimate is linear in seeds, an upper bound: seeds are batched, so a block of 100 costs less
than 20 blocks of 5. It is multiplied by SAFETY (2) and by the attempt (Snakemake's retries get
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

STEP_S = {"matrix": 2e-4, "gridworld": 2e-4, "boulderpush": 3e-4, "lbf": 5e-4}
BEHAVIOR_S = {"matrix": 3.8e-4, "gridworld": 1.4e-6, "boulderpush": 7.2e-6, "lbf": 1.45e-5}
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
    per_step = _constant(STEP_S, kind)
    if spec["sampler"]["kind"] != "on_policy":
        per_step += _constant(BEHAVIOR_S, kind) * n / spec["sampler"]["batch_size"]
    eval_every = spec.get("eval_every", 1)
    if spec.get("fixed_target"):
        evaluations = steps // eval_every + 1
    else:
        evaluations = (steps // n) // eval_every + 1
    return STARTUP_S + n_seeds * (steps * per_step + evaluations * _constant(EVAL_S, kind))


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
