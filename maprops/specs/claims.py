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


class Claim(Frozen):
    """One statement of the paper about one figure. ``statistic`` picks each seed's number:
    its ``first`` or ``final`` evaluation, or its ``mean`` over evaluations. ``holds_in``: the
    claim must hold in ``all`` panels, or in a ``majority`` of them. ``paper_effect`` (a single
    comparison only) is the paper's reported difference, reported against our CI."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    where: str
    paper: str
    figure: str
    panels: tuple[str, ...] | None = Field(default=None, min_length=1, description="game names; default: every panel")
    metric: str | None = Field(default=None, description="default: the figure's metric")
    statistic: Literal["final", "mean", "first"]
    holds_in: Literal["all", "majority"] = "all"
    rule: Rule
    paper_effect: float | None = None  # after ``rule``: its check reads the rule

    @field_validator("paper_effect")
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
    claims: tuple[Claim, ...] = ()


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
    return errors + _rule_errors(claim.rule, figure, metric)


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
