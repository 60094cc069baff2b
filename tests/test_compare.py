"""The report's CIs: exact for lattice data (success rates), Monte Carlo with a band elsewhere,
and the same verdicts whatever the random seed."""

import numpy as np
import pytest

from pipeline.compare import difference_ci, lattice, mean_ci, named_rng

RNG = np.random.default_rng(7)


def large_mc(statistic, resamples=400_000):
    """A brute-force percentile bootstrap with many resamples, for reference."""
    stats = statistic(np.random.default_rng(123), resamples)
    return np.percentile(stats, [2.5, 97.5])


def resampled_means(values, rng, resamples):
    return values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(1)


@pytest.mark.parametrize("n, scale", [(20, 1), (100, 100), (20, 800)])
def test_the_exact_bootstrap_matches_a_brute_force_one(n, scale):
    a = RNG.integers(0, scale + 1, n) / scale
    b = RNG.integers(0, scale + 1, n) / scale
    assert lattice(a, b) is not None and scale % lattice(a, b) == 0
    one = mean_ci(a, named_rng("a"))
    two = difference_ci(a, b, named_rng("a", "b"))
    assert one.exact and two.exact
    ref_one = large_mc(lambda rng, r: resampled_means(a, rng, r))
    ref_two = large_mc(lambda rng, r: resampled_means(a, rng, r) - resampled_means(b, rng, r))
    step = 1.0 / (scale * n)  # one lattice step of the bootstrap distribution
    assert np.allclose([one.low, one.high], ref_one, atol=2 * step + 1e-3)
    assert np.allclose([two.low, two.high], ref_two, atol=2 * step + 1e-3)


def test_exact_cis_do_not_depend_on_the_generator():
    a, b = (RNG.random(100) < 0.8).astype(float), (RNG.random(100) < 0.7).astype(float)
    cis = {(e.low, e.high) for seed in range(10) for e in [difference_ci(a, b, np.random.default_rng(seed))]}
    assert len(cis) == 1


def test_continuous_data_get_a_monte_carlo_ci_with_a_band_around_each_bound():
    values = RNG.normal(0.2, 0.1, 50)
    assert lattice(values) is None
    estimate = mean_ci(values, named_rng("x"))
    assert not estimate.exact
    (low_lo, low_hi), (high_lo, high_hi) = estimate.bands
    assert low_lo <= estimate.low <= low_hi < estimate.value < high_lo <= estimate.high <= high_hi
    assert low_hi - low_lo < 0.01  # 50,000 resamples: the band is narrow
    assert estimate.near("low", estimate.low) and not estimate.near("low", estimate.value)
    seeds = [mean_ci(values, np.random.default_rng(s)) for s in range(10)]
    assert max(e.low for e in seeds) - min(e.low for e in seeds) < 0.002  # stable at the printed precision


def test_unequal_groups_fall_back_to_monte_carlo():
    a, b = (RNG.random(20) < 0.5).astype(float), (RNG.random(30) < 0.5).astype(float)
    assert not difference_ci(a, b, named_rng("u")).exact
