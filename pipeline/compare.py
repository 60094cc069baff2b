"""Per-seed summaries -> means and differences with 95% bootstrap CIs.

The inputs are the per-seed tables that ``pipeline/aggregate.py --seeds-out`` writes: one row
per (setting, panel, sampler, metric, seed) with the seed's ``first`` and ``final`` evaluation
and its ``mean`` over evaluations. Two kinds of difference:

- between samplers (``a - b``): their runs are separate, so the two groups of seeds are
  resampled independently (a two-sample percentile bootstrap of the difference of means);
- a sampler against its own shadow on-policy buffer (``metric - metric_on_policy``): both come
  from the same run and seed, so the per-seed differences are resampled (paired).

Every generator is seeded from the names of what it compares (as the curves' bootstrap is), so
a table is byte-identical on every rebuild and independent of what else is in it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from pipeline.aggregate import CI_PERCENTILES, seed_mean

RESAMPLES = 10000


@dataclass(frozen=True)
class Estimate:
    """A mean (or difference of means) over seeds with its 95% bootstrap CI."""

    value: float
    low: float
    high: float
    n: int  # seeds (for a difference of two groups: the smaller group)

    def format(self, digits: int = 2, signed: bool = False) -> str:
        sign = "+" if signed else ""
        return f"{self.value:{sign}.{digits}f} [{self.low:{sign}.{digits}f}, {self.high:{sign}.{digits}f}]"


def named_rng(*names: object, seed: int = 0) -> np.random.Generator:
    """A generator determined by ``seed`` and ``names`` only (sha256, not Python's salted hash)."""
    key = json.dumps([str(n) for n in names]).encode()
    return np.random.default_rng([seed, int.from_bytes(hashlib.sha256(key).digest()[:8], "little")])


def _resampled_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    draws = rng.integers(0, len(values), size=(resamples, len(values)))
    return seed_mean(values[draws][..., None])[:, 0]


def mean_ci(values, rng: np.random.Generator, resamples: int = RESAMPLES) -> Estimate:
    """Mean over seeds and its percentile bootstrap CI (also for paired per-seed differences)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        raise ValueError("no seeds to estimate from")
    low, high = np.percentile(_resampled_means(values, rng, resamples), CI_PERCENTILES)
    return Estimate(float(seed_mean(values[:, None])[0]), float(low), float(high), len(values))


def difference_ci(a, b, rng: np.random.Generator, resamples: int = RESAMPLES) -> Estimate:
    """``mean(a) - mean(b)`` for two independent groups of seeds, each resampled on its own."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("no seeds to estimate from")
    diffs = _resampled_means(a, rng, resamples) - _resampled_means(b, rng, resamples)
    low, high = np.percentile(diffs, CI_PERCENTILES)
    value = float(seed_mean(a[:, None])[0] - seed_mean(b[:, None])[0])
    return Estimate(value, float(low), float(high), min(len(a), len(b)))
