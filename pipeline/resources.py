"""Cluster resources of a train job (one seed block of one run), derived from its run spec.

The train rule asks these functions for its ``runtime`` (minutes) and ``mem_mb``; on a SLURM
cluster they become ``sbatch -t`` and ``--mem`` (``profiles/slurm``). Locally they are only
scheduling hints: ``snakemake --cores 2`` neither limits nor checks them.

Runtime model (seconds, before the safety factor), for ``S`` seeds trained in lock-step::

    STARTUP_S                                     interpreter, torch import, spec parsing
  + steps * (STEP_BLOCK_S + S * step_s[kind])     acting, stepping the game and the shadow buffer,
                                                   PPO updates: a block-wide part (Python, kernel
                                                   launches) and a per-seed part
  + steps / m * update_cost[sampler]           PROPS / MA-PROPS only: a behavior update every m
      * (UPDATE_BLOCK_S                            steps (16 epochs x 8 minibatches) on ``buffer``
         + S * (update_seed_s[kind]                samples, their mean over the run's updates
                + buffer * update_sample_s[kind])) (:func:`mean_behavior_buffer`: about n - m with
                                                   the default ring buffer, n / 2 with the batch
                                                   one; a fixed-target run's one buffer grows to
                                                   total_steps: total_steps / 2)
  + evaluations * S * (eval_s[kind] + error_s[kind])
                                                   target evaluation (episodes) and the sampling error
                                                   of both buffers (BoulderPush, LBF: two
                                                   maximum-likelihood fits); a fixed-target run
                                                   evaluates once and measures errors per checkpoint

The per-kind constants (lower case above) live in each game kind's registry entry
(``GameCost`` in maprops/kinds/<kind>.py; the package kinds scale theirs to each task's agents
and joint actions, ``GameCost.for_agents``) and each sampler's (``update_cost``), fitted to the measured train jobs in
``pipeline/cost_measurements.csv`` (tests/test_resources.py holds every row within a factor 2,
or above it where the KL cut-off cut the behavior update short), and, for the behavior update of
BoulderPush and LBF (whose full runs are days of CPU), to timings of single behavior updates on
buffers of 16-2048 samples with 5 and 20 seeds and no cut-off: BoulderPush MA-PROPS 0.06-0.58 s
(5 seeds) and 0.2-2.5 s (20 seeds), LBF 0.05-0.16 s and 0.07-0.65 s (buffers up to 1024), PROPS
1.1-2x MA-PROPS. The model assumes the update runs its 16 epochs: the cut-off 6 of Table 1 stops
it rarely when the behavior learning rate is 0.03 (BoulderPush, LBF, the 2x2 games); with 0.3
(GridWorld, Climbing, Penalty) or the cut-off 0.03 runs can be much cheaper, so the estimate is
an upper bound there.

With ``sampler.history_batches: b`` > 1 (beyond the paper; maprops/history.py) the buffer also
holds up to b - 1 kept batches: ``kept`` below is their mean number over the run's target updates
(0 with b = 1). Each behavior update's buffer grows by ``kept * n``, and the target update, which
learns from all of the buffer, by the same factor: it is the PPO_SHARE of ``step_s`` that grows,
so ``step_s`` becomes ``step_s * (1 + PPO_SHARE * kept)``.

It is multiplied by SAFETY (2) and by the attempt (Snakemake's retries get
twice, three times... the time), then rounded up to whole minutes, at least MIN_MINUTES.
When new measurements disagree, change the rows of the table and the constants in the
registry entries: nothing else depends on them, and no run is
retrained for it (resources are not part of a run's identity), though ``seed_block: auto`` may
then choose other blocks.

Memory: BASE_MB (interpreter + torch, about 300 MB resident in practice) plus the buffers, which
grow with seeds x samples held at once (one PPO batch n, b of them with ``history_batches: b``; a
fixed-target run holds all total_steps samples): observations for both the sampler's and the
shadow buffer, their copies for behavior and PPO minibatches, network activations.
``bytes_per_sample`` is about 8 copies of a joint observation (2 agents x obs_dim floats) plus
2 KB, per seed: obs_dim is 1 (matrix), 18 (GridWorld), 9 (LBF), 166 (BoulderPush), 12 (Simple
Spread). A core that holds live environment objects (LBF, PettingZoo tasks) also holds one per
seed for training, one for the shadow buffer and one per evaluation episode:
``bytes_per_instance`` each (an mpe2 task about 2 MB, its off-screen render surface; an LBF env
about 6 KB, left out).
"""

from __future__ import annotations

import json
import math

from maprops.kinds import game_kind, sampler_kind

STARTUP_S = 5.0
SAFETY = 2.0
MIN_MINUTES = 5
BASE_MB = 1024
PACK_UP_TO_MINUTES = 60  # train jobs this short share cluster submissions (group "trainjobs")

STEP_BLOCK_S = 1e-3
UPDATE_BLOCK_S = 0.03
# Fraction of step_s spent in the target (PPO) update, which history_batches scales (kept_batches).
# Measured: GridWorld on-policy, 12 updates of n = 256, b = 4 against b = 1 (mean 2.5 kept batches)
# took 1.3x the CPU time with 5 seeds and 1.55x with 20, i.e. 0.13-0.22; rounded up.
PPO_SHARE = 0.25


def kept_batches(spec: dict) -> float:
    """Mean number of earlier target batches the buffer holds, over the run's target updates:
    ``min(k, b - 1)`` at update k (0 with the paper's b = 1 and in fixed-target runs)."""
    batches = spec["sampler"].get("history_batches", 1)
    updates = spec["total_steps"] // spec["ppo"]["batch_size"]
    if batches == 1 or spec.get("fixed_target") or updates == 0:
        return 0.0
    return sum(min(k, batches - 1) for k in range(updates)) / updates


def mean_behavior_buffer(spec: dict) -> float:
    """Mean number of samples a behavior update trains on, over the run's updates.

    ``behavior_buffer: ring`` (maprops.history.BehaviorWindow): the newest ``min(g, C - m)``
    steps after the run's g-th step, C the ring's capacity (b x n; a fixed-target run: all its
    steps). ``batch``: the steps since the last target update, n / 2 on average, plus the kept
    batches (``kept_batches``). A spec that does not name it predates it: ``batch``."""
    steps, n = spec["total_steps"], spec["ppo"]["batch_size"]
    sampler = spec["sampler"]
    if sampler.get("behavior_buffer", "batch") != "ring":
        return (steps if spec.get("fixed_target") else n) / 2 + kept_batches(spec) * n
    capacity = steps if spec.get("fixed_target") else sampler.get("history_batches", 1) * n
    window = max(1, capacity - sampler["batch_size"])
    if steps <= window:
        return (steps + 1) / 2
    return (window * (window + 1) / 2 + (steps - window) * window) / steps


def _spec(spec_json: str | dict) -> dict:
    return json.loads(spec_json) if isinstance(spec_json, str) else spec_json


def train_seconds(spec_json: str | dict, n_seeds: int) -> float:
    """The model's estimate (no safety factor) of one block of ``n_seeds`` seeds, in seconds."""
    spec = _spec(spec_json)
    cost = game_kind(spec["game"]["kind"]).cost_of(spec["game"])
    steps = spec["total_steps"]
    n = spec["ppo"]["batch_size"]
    fixed = bool(spec.get("fixed_target"))
    kept = kept_batches(spec)
    seconds = STARTUP_S + steps * (STEP_BLOCK_S + n_seeds * cost.step_s * (1 + PPO_SHARE * kept))
    update_cost = sampler_kind(spec["sampler"]["kind"]).update_cost
    if update_cost is not None:
        buffer = mean_behavior_buffer(spec)
        per_update = UPDATE_BLOCK_S + n_seeds * (cost.update_seed_s + buffer * cost.update_sample_s)
        seconds += steps / spec["sampler"]["batch_size"] * update_cost * per_update
    eval_every = spec.get("eval_every", 1)
    if fixed:  # one evaluation of the fixed target; the errors at every checkpoint
        checkpoints = steps // eval_every + 1
        seconds += n_seeds * (cost.eval_s + checkpoints * cost.error_s)
    else:
        evaluations = (steps // n) // eval_every + 1
        seconds += evaluations * n_seeds * (cost.eval_s + cost.error_s)
    return seconds


def train_runtime_minutes(spec_json: str | dict, n_seeds: int, attempt: int = 1) -> int:
    """Wall-time request of one train job in minutes (``sbatch -t``)."""
    minutes = math.ceil(SAFETY * train_seconds(spec_json, n_seeds) / 60)
    return max(MIN_MINUTES, minutes) * max(1, attempt)


def train_mem_mb(spec_json: str | dict, n_seeds: int, attempt: int = 1) -> int:
    """Memory request of one train job in MB (``sbatch --mem``)."""
    spec = _spec(spec_json)
    cost = game_kind(spec["game"]["kind"]).cost_of(spec["game"])
    batches = spec["sampler"].get("history_batches", 1)
    held = spec["total_steps"] if spec.get("fixed_target") else batches * spec["ppo"]["batch_size"]
    buffers = SAFETY * n_seeds * held * cost.bytes_per_sample / 1e6
    # live environment objects (cores built on a package): training, shadow and one per evaluation episode
    instances = SAFETY * n_seeds * (2 + spec.get("eval_episodes", 100)) * cost.bytes_per_instance / 1e6
    return (BASE_MB + math.ceil(buffers + instances)) * max(1, attempt)


def train_group(spec_json: str | dict, n_seeds: int) -> str | None:
    """The train job's Snakemake group: short jobs join ``trainjobs`` (the SLURM profile packs
    ``group-components`` of them per submission); long ones (BoulderPush / LBF with PROPS or
    MA-PROPS) are submitted alone, so packing never serializes hours of work behind each other."""
    return "trainjobs" if train_runtime_minutes(spec_json, n_seeds) <= PACK_UP_TO_MINUTES else None


# -- seed_block: auto ----------------------------------------------------------------------------
# A job may be up to JOB_SLACK x (the build's train work / its cores) long: longest-first list
# scheduling then ends within (1 + JOB_SLACK) x that ideal, and cells split less often (fewer
# blocks, less start-up work, and more results reused when the core count changes a little).
# A run several specs train takes the largest of their builds' limits (pipeline/expand.py,
# Plan.job_limits), so a small spec sharing a big figure's run may get longer jobs than its own
# share, and the big figure's files never depend on it.
JOB_SLACK = 2.0
SPLIT_FLOOR_S = 600.0  # never split a cell into jobs shorter than this (see auto_block)
MAX_JOB_S = 10 * 3600.0  # never choose a job longer than this: SAFETY x 10 h stays under a 24 h partition limit


def block_ladder(seeds: int) -> list[int]:
    """The block sizes ``auto`` may choose for ``seeds`` seeds: every divisor of the seed count,
    largest first (100 -> 100, 50, 25, 20, 10, 5, 4, 2, 1). Divisors give equal blocks, and a
    fixed, coarse ladder means a range of core counts gives the same blocks, hence the same
    result files (resuming on another machine usually retrains nothing)."""
    return [b for b in range(seeds, 0, -1) if seeds % b == 0]


def auto_block(spec_json: str | dict, seeds: int, limit_s: float) -> int:
    """The largest block on :func:`block_ladder` whose estimated job (:func:`train_seconds`) is
    at most ``min(max(limit_s, SPLIT_FLOOR_S), MAX_JOB_S)``; 1 if even a single seed is longer.

    ``limit_s`` is JOB_SLACK x the build's train work / its cores (pipeline/expand.py). The floor
    keeps cheap cells whole: below ten minutes a job is shorter than a cluster's scheduling
    latency, and every extra block pays the start-up and per-block costs again. The ceiling keeps
    every job's request (``train_runtime_minutes``, SAFETY x the estimate) within the 24 hours
    most partitions allow, however few cores the build has; on few cores that costs nothing, as
    the jobs queue behind each other anyway."""
    limit = min(max(limit_s, SPLIT_FLOOR_S), MAX_JOB_S)
    for block in block_ladder(seeds):
        if train_seconds(spec_json, block) <= limit:
            return block
    return 1
