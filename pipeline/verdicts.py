"""How one estimate becomes a verdict, and how verdicts combine (docs/claims.md).

Verdicts:

- **reproduced**: the 95% CI lies entirely on the side the paper claims (and, where the paper
  states a magnitude, does not exclude it);
- **not reproduced**: the CI lies entirely on the other side, or excludes the claimed magnitude
  on the small side;
- **no difference**: the CI lies inside the metric's equivalence margin (+-m): whatever the
  sign, the difference is too small to matter (a tie, where the paper claims a gap);
- **inconclusive**: none of these; the seeds cannot decide, and the report says about how many
  would (from the CI's width, which shrinks as 1 / sqrt(seeds));
- **untestable**: the test cannot mean what the paper means: the game fails the premise the
  paper's experiments assume, or no run of any compared sampler ever succeeds;
- **not run**: the results do not exist yet.

Monte Carlo CIs are judged widened by their bands (:func:`outer_bounds`), so no verdict rests on
the luck of one draw; one that the plain CI would have decided otherwise is inconclusive and
marked *borderline*. CIs of success rates are exact (no draw at all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.compare import Estimate

REPRODUCED, NOT_REPRODUCED, NO_DIFFERENCE = "reproduced", "not reproduced", "no difference"
INCONCLUSIVE, UNTESTABLE, NOT_RUN = "inconclusive", "untestable", "not run"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NO_DIFFERENCE, INCONCLUSIVE, UNTESTABLE, NOT_RUN)
FAILED = (NOT_REPRODUCED, NO_DIFFERENCE)
MAX_SEEDS_SAID = 100_000


@dataclass(frozen=True)
class Judgement:
    verdict: str
    reason: str  # a short phrase: "CI above 0", "inside ±0.05", "excludes +0.15"
    borderline: bool = False
    seeds_needed: int | None = None  # inconclusive: seeds per group that would likely decide

    def text(self) -> str:
        extra = []
        if self.borderline:
            extra.append("borderline: within Monte Carlo error of the threshold")
        if self.verdict == INCONCLUSIVE:
            if self.seeds_needed is None:
                extra.append("no number of seeds decides a zero estimate")
            elif self.seeds_needed > MAX_SEEDS_SAID:
                extra.append(f"more than {MAX_SEEDS_SAID:,} seeds would be needed")
            else:
                extra.append(f"about {self.seeds_needed:,} seeds would decide it")
        return self.reason + "".join(f"; {e}" for e in extra)


def _seeds_to_reach(estimate: Estimate, distance: float) -> float:
    """Seeds for the CI's half-width to shrink below ``distance`` (half-width ~ 1 / sqrt(n))."""
    half = (estimate.high - estimate.low) / 2
    return math.inf if distance <= 0 else estimate.n * (half / distance) ** 2


def seeds_needed(estimate: Estimate, thresholds: list[float], margin: float | None) -> int | None:
    """About how many seeds (per group) would put the CI clear of the nearest deciding
    threshold, or inside the margin, assuming the estimate stays where it is."""
    value = estimate.value
    options = [_seeds_to_reach(estimate, abs(value - t)) for t in thresholds if value != t]
    if margin is not None and abs(value) < margin:
        options.append(_seeds_to_reach(estimate, margin - abs(value)))
    finite = [o for o in options if math.isfinite(o)]
    return math.ceil(max(min(finite), estimate.n + 1)) if finite else None


def _decide_difference(low: float, high: float, higher: bool, margin, magnitude) -> tuple[str, str]:
    if higher and high < 0 or not higher and low > 0:
        return NOT_REPRODUCED, f"CI {'below' if higher else 'above'} 0"
    if margin is not None and -margin < low and high < margin:
        return NO_DIFFERENCE, f"inside ±{_short(margin)}"
    if magnitude is not None and (higher and high < magnitude or not higher and low > magnitude):
        return NOT_REPRODUCED, f"excludes the claimed {magnitude:+g}"
    if higher and low > 0 or not higher and high < 0:
        return REPRODUCED, f"CI {'above' if higher else 'below'} 0"
    return INCONCLUSIVE, "CI contains 0"


def outer_bounds(estimate: Estimate) -> tuple[float, float]:
    """The CI widened by its Monte Carlo bands (the CI itself when exact): a verdict decided on
    these holds for any draw, so a bound within Monte Carlo error of a threshold cannot decide."""
    if estimate.bands is None:
        return estimate.low, estimate.high
    return estimate.bands[0][0], estimate.bands[1][1]


def judge_difference(estimate: Estimate, higher: bool, margin: float | None = None, magnitude: float | None = None) -> Judgement:
    """A difference claimed above 0 (``higher``) or below it, with an optional equivalence
    ``margin`` (>0, the metric's units) and claimed ``magnitude`` (signed as the direction).
    Decided on the CI widened by its Monte Carlo bands; where the plain CI would decide
    otherwise the verdict is inconclusive and marked borderline."""
    verdict, reason = _decide_difference(*outer_bounds(estimate), higher, margin, magnitude)
    plain, _ = _decide_difference(estimate.low, estimate.high, higher, margin, magnitude)
    borderline = plain != verdict
    if verdict != INCONCLUSIVE:
        return Judgement(verdict, reason, borderline)
    thresholds = [0.0] + ([magnitude] if magnitude is not None else [])
    return Judgement(INCONCLUSIVE, reason, borderline, seeds_needed(estimate, thresholds, margin))


def _decide_threshold(low: float, high: float, bound: float, above: bool) -> tuple[str, str]:
    if above and low >= bound or not above and high <= bound:
        return REPRODUCED, f"CI {'at or above' if above else 'at or below'} {bound:g}"
    if above and high < bound or not above and low > bound:
        return NOT_REPRODUCED, f"CI {'below' if above else 'above'} {bound:g}"
    return INCONCLUSIVE, f"CI contains {bound:g}"


def judge_threshold(estimate: Estimate, bound: float, above: bool) -> Judgement:
    """A mean claimed at least (``above``) or at most ``bound``; touching it counts. Decided as
    :func:`judge_difference` is, on the CI widened by its Monte Carlo bands."""
    verdict, reason = _decide_threshold(*outer_bounds(estimate), bound, above)
    plain, _ = _decide_threshold(estimate.low, estimate.high, bound, above)
    seeds = seeds_needed(estimate, [bound], None) if verdict == INCONCLUSIVE else None
    return Judgement(verdict, reason, plain != verdict, seeds)


def _short(x: float) -> str:
    return f"{x:.2g}" if x < 0.1 else f"{x:.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- combining


def all_of(verdicts: list[str]) -> str:
    """Every part must hold: one failure decides (not reproduced before no difference);
    untestable parts are set aside (all of them: untestable); missing data otherwise leaves it
    open."""
    for failed in FAILED:
        if failed in verdicts:
            return failed
    testable = [v for v in verdicts if v != UNTESTABLE]
    if not testable:
        return UNTESTABLE
    if NOT_RUN in testable:
        return NOT_RUN
    return REPRODUCED if all(v == REPRODUCED for v in testable) else INCONCLUSIVE


def majority_of(verdicts: list[str]) -> str:
    """More than half of the testable parts decide, either way; any missing part leaves it open."""
    testable = [v for v in verdicts if v != UNTESTABLE]
    if not testable:
        return UNTESTABLE
    if NOT_RUN in testable:
        return NOT_RUN
    if 2 * testable.count(REPRODUCED) > len(testable):
        return REPRODUCED
    failures = [v for v in testable if v in FAILED]
    if 2 * len(failures) > len(testable):
        return NO_DIFFERENCE if all(v == NO_DIFFERENCE for v in failures) else NOT_REPRODUCED
    return INCONCLUSIVE


COMBINE = {"all": all_of, "majority": majority_of}
