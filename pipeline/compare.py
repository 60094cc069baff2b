"""Per-seed summaries -> means and differences with 95% bootstrap CIs that do not move with a
random draw.

The inputs are the per-seed tables that ``pipeline/aggregate.py --seeds-out`` writes: one row
per (setting, panel, sampler, metric, seed) with the seed's ``first`` and ``final`` evaluation
and its ``mean`` over evaluations. Two kinds of difference:

- between samplers (``a - b``): their runs are separate, so the two groups of seeds are
  resampled independently (a two-sample percentile bootstrap of the difference of means);
- a sampler against its own shadow on-policy buffer (``metric - metric_on_policy``): both come
  from the same run and seed, so the per-seed differences are resampled (paired).

The CI is the percentile bootstrap's, computed one of two ways:

- **exact** where every value lies on a lattice ``k / L`` (a success rate over 100 evaluation
  episodes is a multiple of 1/100): the bootstrap distribution of a mean of n draws is then the
  n-fold convolution of the values' frequencies, computed with the FFT, and the CI is read off it
  with no random numbers at all. Neither numpy nor scipy computes exact bootstrap distributions
  (``scipy.stats.bootstrap`` resamples), hence the code below;
- **Monte Carlo** otherwise (sampling errors are continuous), with up to 50,000 resamples from
  a generator seeded by the names of what is compared, so a table is byte-identical on rebuild.
  Each bound carries its Monte Carlo uncertainty (the spread of the order statistics around the
  percentile, :attr:`Estimate.bands`): a verdict whose threshold lies inside it is *borderline*,
  i.e. another random draw could have decided it the other way. Given the ``thresholds`` a
  verdict will compare the bounds with, resampling stops early (in steps of 5,000) once no
  threshold lies within any bound's band: more resamples would not change what the CI decides.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from pipeline.aggregate import CI_PERCENTILES, seed_mean

RESAMPLES = 50000
MAX_LATTICE = 10**4  # a lattice finer than 1/10,000 is treated as continuous
MAX_SUPPORT = 2**21  # largest convolution support computed exactly (about 0.1 s)
MC_BAND_Z = 3.0  # a bound's Monte Carlo band: +- 3 standard errors of its order statistic
STOP_BAND_Z = 6.0  # resampling may stop early once every threshold is this far from the bounds
MIN_RESAMPLES = 10000
CHUNK = 5000  # resamples drawn at once (memory: CHUNK x seeds)


@dataclass(frozen=True)
class Estimate:
    """A mean (or difference of means) over seeds with its 95% bootstrap CI. ``bands`` is the
    Monte Carlo uncertainty of (low, high): ``((low_min, low_max), (high_min, high_max))``, or
    None for an exact CI."""

    value: float
    low: float
    high: float
    n: int  # seeds (for a difference of two groups: the smaller group)
    bands: tuple[tuple[float, float], tuple[float, float]] | None = None

    @property
    def exact(self) -> bool:
        return self.bands is None

    def format(self, digits: int = 2, signed: bool = False) -> str:
        sign = "+" if signed else ""
        return f"{self.value:{sign}.{digits}f} [{self.low:{sign}.{digits}f}, {self.high:{sign}.{digits}f}]"

    def near(self, bound: str, threshold: float) -> bool:
        """Whether ``threshold`` lies within the Monte Carlo band of the ``low`` or ``high``
        bound: another draw could put the bound on its other side."""
        if self.bands is None:
            return False
        lo, hi = self.bands[0 if bound == "low" else 1]
        return lo <= threshold <= hi


def named_rng(*names: object, seed: int = 0) -> np.random.Generator:
    """A generator determined by ``seed`` and ``names`` only (sha256, not Python's salted hash)."""
    key = json.dumps([str(n) for n in names]).encode()
    return np.random.default_rng([seed, int.from_bytes(hashlib.sha256(key).digest()[:8], "little")])


# --------------------------------------------------------------------------- exact (lattice data)


def lattice(*groups: np.ndarray) -> int | None:
    """The smallest L such that every value is an integer multiple of 1/L (within float
    rounding), if L <= MAX_LATTICE; else None."""
    common = 1
    for values in groups:
        for v in np.unique(values):
            denominator = Fraction(float(v)).limit_denominator(MAX_LATTICE).denominator
            if abs(float(v) * denominator - round(float(v) * denominator)) > 1e-6:
                return None
            common = math.lcm(common, denominator)
            if common > MAX_LATTICE:
                return None
    return common


def sum_distribution(values: np.ndarray, scale: int) -> tuple[int, np.ndarray]:
    """The bootstrap distribution of the sum of ``len(values)`` draws with replacement, as
    (offset, pmf) over the integers ``offset + i`` in units of ``1/scale``."""
    ticks = np.rint(np.asarray(values) * scale).astype(np.int64)
    low = int(ticks.min())
    pmf = np.bincount(ticks - low).astype(np.float64) / len(ticks)
    n = len(ticks)
    size = n * (len(pmf) - 1) + 1
    spectrum = np.fft.rfft(pmf, _fft_size(size)) ** n
    out = np.clip(np.fft.irfft(spectrum, _fft_size(size))[:size], 0.0, None)
    return n * low, out / out.sum()


def _fft_size(size: int) -> int:
    return 1 << max(1, (size - 1).bit_length())


def _quantiles(offset: int, pmf: np.ndarray, unit: float) -> tuple[float, float]:
    """The CI percentiles of a lattice distribution: the smallest value whose CDF reaches each."""
    cdf = np.cumsum(pmf)
    return tuple(float((offset + int(np.searchsorted(cdf, q / 100 - 1e-12))) * unit) for q in CI_PERCENTILES)


def exact_mean_ci(values: np.ndarray, scale: int) -> tuple[float, float] | None:
    n = len(values)
    if n * (np.ptp(np.rint(values * scale)) + 1) > MAX_SUPPORT:
        return None
    offset, pmf = sum_distribution(values, scale)
    return _quantiles(offset, pmf, 1.0 / (scale * n))


def exact_difference_ci(a: np.ndarray, b: np.ndarray, scale: int) -> tuple[float, float] | None:
    """Two independent groups of equal size n: mean(a*) - mean(b*) = (S_a - S_b) / n."""
    n = len(a)
    spread = np.ptp(np.rint(a * scale)) + np.ptp(np.rint(b * scale)) + 2
    if len(b) != n or n * spread > MAX_SUPPORT:
        return None
    offset_a, pmf_a = sum_distribution(a, scale)
    offset_b, pmf_b = sum_distribution(b, scale)
    size = len(pmf_a) + len(pmf_b) - 1
    fft = _fft_size(size)
    pmf = np.clip(np.fft.irfft(np.fft.rfft(pmf_a, fft) * np.fft.rfft(pmf_b[::-1], fft), fft)[:size], 0.0, None)
    offset = offset_a - (offset_b + len(pmf_b) - 1)
    return _quantiles(offset, pmf / pmf.sum(), 1.0 / (scale * n))


# --------------------------------------------------------------------------- Monte Carlo


def _resampled_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    parts = []
    for start in range(0, resamples, CHUNK):
        draws = rng.integers(0, len(values), size=(min(CHUNK, resamples - start), len(values)))
        parts.append(seed_mean(values[draws][..., None])[:, 0])
    return np.concatenate(parts)


def _monte_carlo_ci(draw, resamples: int, thresholds: tuple[float, ...]) -> tuple[float, float, tuple]:
    """Percentile CI of ``draw(k)`` (k resampled statistics at a time), drawing CHUNK at a time
    up to ``resamples``; from MIN_RESAMPLES on it stops once no threshold lies within either
    bound's wide band (STOP_BAND_Z standard errors: an early stop that another draw would not
    make is then a one-in-millions event, which the seed-stability test of the record checks)."""
    stats = np.zeros(0)
    while len(stats) < resamples:
        stats = np.concatenate([stats, draw(min(CHUNK, resamples - len(stats)))])
        if thresholds and len(stats) >= MIN_RESAMPLES and len(stats) < resamples:
            *_, wide = _percentile_ci(stats, STOP_BAND_Z)
            if not any(lo <= t <= hi for lo, hi in wide for t in thresholds):
                break
    return _percentile_ci(stats)


def _percentile_ci(stats: np.ndarray, z: float = MC_BAND_Z) -> tuple[float, float, tuple]:
    """Percentile CI of resampled statistics and each bound's Monte Carlo band: the order
    statistics ``z`` binomial standard errors either side of the percentile's rank."""
    stats = np.sort(stats)
    b = len(stats)
    low, high = np.percentile(stats, CI_PERCENTILES)
    bands = []
    for q in CI_PERCENTILES:
        rank, spread = q / 100 * (b - 1), z * math.sqrt(b * q / 100 * (1 - q / 100))
        bands.append((float(stats[max(0, math.floor(rank - spread))]), float(stats[min(b - 1, math.ceil(rank + spread))])))
    return float(low), float(high), tuple(bands)


# --------------------------------------------------------------------------- the estimates


def mean_ci(values, rng: np.random.Generator, resamples: int = RESAMPLES, thresholds: tuple[float, ...] = ()) -> Estimate:
    """Mean over seeds and its percentile bootstrap CI (also for paired per-seed differences):
    exact for lattice data, else Monte Carlo with ``rng`` (``thresholds``: see the module)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        raise ValueError("no seeds to estimate from")
    mean = float(seed_mean(values[:, None])[0])
    scale = lattice(values)
    exact = exact_mean_ci(values, scale) if scale else None
    if exact is not None:
        return Estimate(mean, *exact, len(values))
    low, high, bands = _monte_carlo_ci(lambda k: _resampled_means(values, rng, k), resamples, thresholds)
    return Estimate(mean, low, high, len(values), bands)


def difference_ci(a, b, rng: np.random.Generator, resamples: int = RESAMPLES, thresholds: tuple[float, ...] = ()) -> Estimate:
    """``mean(a) - mean(b)`` for two independent groups of seeds, each resampled on its own:
    exact for lattice data of equal group sizes, else Monte Carlo with ``rng``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("no seeds to estimate from")
    value = float(seed_mean(a[:, None])[0] - seed_mean(b[:, None])[0])
    scale = lattice(a, b)
    exact = exact_difference_ci(a, b, scale) if scale else None
    if exact is not None:
        return Estimate(value, *exact, min(len(a), len(b)))
    low, high, bands = _monte_carlo_ci(lambda k: _resampled_means(a, rng, k) - _resampled_means(b, rng, k), resamples, thresholds)
    return Estimate(value, low, high, min(len(a), len(b)), bands)
