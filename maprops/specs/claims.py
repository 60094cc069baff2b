"""The paper's claims as data (``specs/claims.yaml``), checked against the figure specs.

A claim says which figure's per-seed values to compare and how; the verdict is then computed,
never typed. Writing claims down before the numbers exist keeps the reading of the paper
honest: a claim cannot be re-worded after seeing a result without a visible edit. Cross-checks
(figure, panels, samplers, metric) fail at load time with ``FILE:LINE``, so a typo never shows
up as a silent "not run".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from maprops.results import ERROR_KINDS, error_columns
from maprops.spec_types import Frozen
from maprops.specs.errors import SpecError, SpecErrors
from maprops.specs.figures import SamplerKind
from maprops.specs.load import field_error, load_file

CLAIMS_FILE = "claims.yaml"
SHADOW = "shadow"
SHADOW_SUFFIX = "_on_policy"
# Sampling errors (exact TV / KL columns and the figures' generic names) come with the value of a
# shadow on-policy buffer filled from the same target policies (``<metric>_on_policy``).
SHADOWED_METRICS = frozenset(c for kind in (*ERROR_KINDS, "sampling_error") for c in error_columns(kind)[:2])


def has_shadow(metric: str) -> bool:
    return metric in SHADOWED_METRICS


class CompareRule(Frozen):
    """``sampler`` minus each of ``against`` (samplers trained separately, or ``shadow``: the
    sampler's own shadow on-policy buffer, same run and seed) moves in ``direction``."""

    kind: Literal["compare"]
    sampler: SamplerKind
    against: tuple[SamplerKind | Literal["shadow"], ...] = Field(min_length=1)
    direction: Literal["higher", "lower"]

    @field_validator("against", mode="before")
    @classmethod
    def _one_or_many(cls, against):
        return [against] if isinstance(against, str) else against

    @field_validator("against")
    @classmethod
    def _distinct(cls, against, info: ValidationInfo):
        if info.data.get("sampler") in against:
            raise ValueError(f"{info.data['sampler']!r} is compared against itself")
        return _once_each(against)


class ThresholdRule(Frozen):
    """Each of ``samplers`` reaches ``at_least`` (or stays ``at_most``) the given value."""

    kind: Literal["threshold"]
    samplers: tuple[SamplerKind, ...] = Field(min_length=1)
    at_least: float | None = None
    at_most: float | None = Field(default=None, validate_default=True)

    @field_validator("samplers")
    @classmethod
    def _distinct(cls, samplers):
        return _once_each(samplers)

    @field_validator("at_most")
    @classmethod
    def _one_bound(cls, at_most, info: ValidationInfo):
        if (info.data.get("at_least") is None) == (at_most is None):
            raise ValueError("give exactly one of 'at_least' and 'at_most'")
        return at_most


def _once_each(names: tuple) -> tuple:
    """Field validators report at the field's line (a model validator would report at the rule's)."""
    if len(set(names)) != len(names):
        raise ValueError("names the same thing twice")
    return names


Rule = Annotated[CompareRule | ThresholdRule, Field(discriminator="kind")]


class Margin(Frozen):
    """An equivalence margin: differences inside +-margin are too small to matter, so a CI
    entirely inside it says "no difference". ``absolute`` in the metric's units, or ``relative``
    to the mean of what the sampler is compared against (sampling errors span orders of
    magnitude across games). Exactly one of the two."""

    absolute: float | None = Field(default=None, gt=0)
    relative: float | None = Field(default=None, gt=0, lt=1, validate_default=True)

    @field_validator("relative")
    @classmethod
    def _one_kind(cls, relative, info: ValidationInfo):
        if (info.data.get("absolute") is None) == (relative is None):
            raise ValueError("give exactly one of 'absolute' and 'relative'")
        return relative

    def of(self, baseline: float) -> float:
        """The margin in the metric's units for a comparison against ``baseline`` (a mean)."""
        return self.absolute if self.absolute is not None else self.relative * abs(baseline)

    def describe(self) -> str:
        return f"±{self.absolute:g}" if self.absolute is not None else f"±{self.relative:.0%} of the baseline"


class Claim(Frozen):
    """One statement of the paper about one figure. ``statistic`` picks each seed's number:
    its ``first`` or ``final`` evaluation, its ``mean`` over evaluations, or ``every``: the
    comparison is made at every evaluation and must hold at each. ``holds_in``: the claim must
    hold in ``all`` panels, or in a ``majority`` of them. ``magnitude`` (a single comparison
    only) is the effect the paper states ("by 15 percentage points"): a CI that excludes it on
    the small side does not reproduce the claim. ``replication`` names a study of the same
    figure on fresh seeds, shown beside the original."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    where: str
    paper: str
    figure: str
    panels: tuple[str, ...] | None = Field(default=None, min_length=1, description="game names; default: every panel")
    metric: str | None = Field(default=None, description="default: the figure's metric")
    statistic: Literal["final", "mean", "first", "every"]
    holds_in: Literal["all", "majority"] = "all"
    rule: Rule
    magnitude: float | None = None  # after ``rule``: its check reads the rule
    replication: str | None = Field(default=None, description="a study of this claim's figure on other seeds")

    @field_validator("magnitude")
    @classmethod
    def _effect_is_one_difference(cls, effect, info: ValidationInfo):
        rule = info.data.get("rule")
        if effect is None or rule is None:  # no rule: its own error is reported
            return effect
        if not isinstance(rule, CompareRule) or len(rule.against) != 1:
            raise ValueError("needs a compare rule with a single 'against'")
        if (effect > 0) != (rule.direction == "higher"):
            raise ValueError(f"{effect:g} contradicts direction {rule.direction!r}")
        return effect

    def games(self, figure) -> tuple[str, ...]:
        """The claim's panels by game name, in the claim's order (default: the figure's)."""
        return self.panels if self.panels is not None else tuple(p.game for p in figure.panels)

    def metric_of(self, figure) -> str:
        return self.metric or figure.metric


class ClaimsSpec(Frozen):
    """``margins``: per metric (a figure's metric name), the equivalence margin of every
    comparison on it; a metric without one never gets the verdict "no difference"."""

    margins: dict[str, Margin] = {}
    claims: tuple[Claim, ...] = ()

    def margin(self, metric: str) -> Margin | None:
        """The margin of ``metric``, also for its shadow buffer's column (``<metric>_on_policy``)."""
        return self.margins.get(metric.removesuffix(SHADOW_SUFFIX))


def load_claims(root: str | Path, library) -> ClaimsSpec:
    """``root/claims.yaml`` validated and cross-checked against ``library`` (a SpecLibrary);
    an empty spec if the file does not exist. Raises :class:`SpecErrors`."""
    path = Path(root) / CLAIMS_FILE
    if not path.is_file():
        return ClaimsSpec()
    spec, lines = load_file(path, ClaimsSpec)
    errors: list[SpecError] = []
    seen: set[str] = set()
    for i, claim in enumerate(spec.claims):
        for at, message in _claim_errors(claim, library, seen):
            errors.append(field_error(path, lines, _written(lines, ("claims", i, *at)), message))
        seen.add(claim.id)
    if errors:
        raise SpecErrors(errors)
    return spec


def _written(lines: dict, at: tuple) -> tuple:
    """``at`` without a trailing list index the file does not have (``against: props`` is
    read as a one-item list)."""
    return at[:-1] if at not in lines and isinstance(at[-1], int) else at


def _claim_errors(claim: Claim, library, seen: set[str]) -> list[tuple[tuple, str]]:
    """(path in the claim, message) for every reference the claim gets wrong."""
    if claim.id in seen:
        return [(("id",), f"claim id {claim.id!r} is used twice")]
    figure = library.figures.get(claim.figure)
    if figure is None:
        return [(("figure",), f"unknown figure {claim.figure!r}; known: {', '.join(library.figures)}")]
    games = [p.game for p in figure.panels]
    errors = [
        (("panels", j), f"figure {figure.figure!r} has no panel of game {game!r}; its games: {', '.join(games)}")
        for j, game in enumerate(claim.panels or ())
        if game not in games
    ]
    if claim.panels is not None and len(set(claim.panels)) != len(claim.panels):
        errors.append((("panels",), "a game is listed twice"))
    metrics = [figure.metric, *([figure.metric + SHADOW_SUFFIX] if has_shadow(figure.metric) else [])]
    metric = claim.metric_of(figure)
    if metric not in metrics:
        errors.append((("metric",), f"figure {figure.figure!r} records {', '.join(metrics)}, not {metric!r}"))
    if claim.replication is not None:
        errors += _replication_errors(claim, library)
    return errors + _rule_errors(claim.rule, figure, metric)


def _replication_errors(claim: Claim, library) -> list[tuple[tuple, str]]:
    """A replication must be a study of the claim's figure, on seeds the figure does not train."""
    study = library.studies.get(claim.replication)
    if study is None:
        return [(("replication",), f"unknown study {claim.replication!r}; known: {', '.join(library.studies)}")]
    if study.figure != claim.figure:
        return [(("replication",), f"study {study.study!r} varies figure {study.figure!r}, not {claim.figure!r}")]
    from maprops.specs.figures import SeedRange

    ours, theirs = SeedRange.of(library.figures[claim.figure].seeds), study.seeds
    if theirs is None or theirs.start < ours.start + ours.count and ours.start < theirs.start + theirs.count:
        return [(("replication",), f"study {study.study!r} must train seeds the figure does not ({ours.label()})")]
    return []


def _rule_errors(rule, figure, metric: str) -> list[tuple[tuple, str]]:
    trained = f"figure {figure.figure!r} trains {', '.join(figure.samplers)}"
    if isinstance(rule, ThresholdRule):
        named = [(("rule", "samplers", j), s) for j, s in enumerate(rule.samplers)]
    else:
        named = [(("rule", "sampler"), rule.sampler)]
        named += [(("rule", "against", j), s) for j, s in enumerate(rule.against) if s != SHADOW]
    errors = [(at, f"{trained}, not {sampler!r}") for at, sampler in named if sampler not in figure.samplers]
    if isinstance(rule, CompareRule) and SHADOW in rule.against and not has_shadow(metric):
        j = rule.against.index(SHADOW)
        errors.append((("rule", "against", j), f"metric {metric!r} has no shadow on-policy buffer (only sampling errors do)"))
    return errors
