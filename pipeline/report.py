"""The paper's claims (specs/claims.yaml) + per-seed tables -> REPORT.md, a verdict per claim.

    python -m pipeline.report --specs SPECS --scale SCALE --out-root OUT --out REPORT.md

Verdicts are computed from 95% bootstrap CIs (pipeline/compare.py), never typed by hand, so a
rebuild after more seeds updates every verdict. A claim is tested on the figure as printed and,
separately, on every study setting that covers it. A table that does not exist yet makes its
scope "not run": the report can be built at any time and never asks for training. Every
generator is seeded from names, so the report is byte-identical on rebuild.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from maprops.io import write_text_atomic
from maprops.specs.claims import SHADOW, SHADOW_SUFFIX, Claim, ClaimsSpec, CompareRule
from maprops.specs.errors import SpecError, SpecErrors
from pipeline.aggregate import inputs_summary
from pipeline.compare import Estimate, difference_ci, mean_ci, named_rng
from pipeline.expand import Plan
from pipeline.study_table import SAMPLER_NAMES
from pipeline.verdicts import (
    COMBINE,
    INCONCLUSIVE,
    NOT_RUN,
    REPRODUCED,
    UNTESTABLE,
    VERDICTS,
    Judgement,
    all_of,
    judge_difference,
    judge_threshold,
)

PRINTED = "printed settings"
STATISTICS = {
    "final": "final value (last evaluation)",
    "mean": "mean over evaluations",
    "first": "first evaluation",
    "every": "value at every evaluation",
}
SUCCESS = "success_rate"  # the metric whose claims need the Appendix E premise
PREMISE_TABLE = "maprops premise, the table at the end"
HOLDS = "holds"


# --------------------------------------------------------------------------- per-seed data


@dataclass(frozen=True)
class ScopeSpec:
    """Where one scope of a claim reads: the figure as printed, or one study setting."""

    name: str  # PRINTED or the study setting's label
    study: str | None
    path: str  # the per-seed table (first, final, mean); ``steps_path`` holds every evaluation
    figure: str  # the figure drawn from the same results (PNG)
    games: tuple[str, ...]

    @property
    def steps_path(self) -> str:
        return self.path.replace(".seeds.csv", ".steps.csv")


def scope_specs(plan: Plan, claim: Claim) -> list[ScopeSpec]:
    """The printed figure, then every setting of every study of the claim's figure that covers
    at least one of the claim's panels (evaluated on those panels only)."""
    library = plan.library
    games = claim.games(library.figures[claim.figure])
    scopes = [ScopeSpec(PRINTED, None, plan.aggregated_path(claim.figure, ".seeds.csv"), plan.published_png(claim.figure), games)]
    for study_name, study in library.studies.items():
        covered = tuple(g for g in games if study.panels is None or g in study.panels)
        if study.figure == claim.figure and covered:
            path, figure = plan.study_path(study_name, ".seeds.csv"), plan.study_path(study_name, ".png")
            scopes += [ScopeSpec(study.setting_label(s), study_name, path, figure, covered) for s in study.settings()]
    return scopes


def tables_read(plan: Plan, claims: ClaimsSpec) -> list[str]:
    """Every per-seed table the claims read (the report rule's inputs): the per-seed summaries,
    and every evaluation's values for claims judged at every evaluation."""
    paths = set()
    for claim in claims.claims:
        for scope in scope_specs(plan, claim):
            paths.add(scope.steps_path if claim.statistic == "every" else scope.path)
    return sorted(paths)


def read_tables(paths: list[str]) -> dict[str, pd.DataFrame | None]:
    """Each table, or None where it does not exist yet."""
    return {path: pd.read_csv(path) if Path(path).is_file() else None for path in paths}


def scope_rows(table: pd.DataFrame | None, scope: ScopeSpec) -> pd.DataFrame | None:
    if table is None or scope.study is None:
        return table
    return table[table["setting"] == scope.name]


def seed_values(rows: pd.DataFrame | None, panel: str, sampler: str, metric: str, statistic: str) -> pd.Series | None:
    """One curve's per-seed statistic indexed by seed (``every``: by seed and step), or None if
    the curve is not there."""
    if rows is None:
        return None
    hit = rows[(rows["panel"] == panel) & (rows["sampler"] == sampler) & (rows["metric"] == metric)]
    if hit.empty:
        return None
    if statistic == "every":
        return hit.set_index(["seed", "step"])["value"].sort_index()
    return hit.set_index("seed")[statistic].sort_index()


def read_premise(plan: Plan) -> dict[str, str]:
    """``game/variant`` -> the premise verdict of ``maprops premise``'s table, where it exists."""
    path = Path(premise_path(plan))
    if not path.is_file():
        return {}
    table = pd.read_csv(path)
    return {f"{r.game}/{r.variant}": r.premise for r in table.drop_duplicates(["game", "variant"]).itertuples()}


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Outcome:
    """One comparison (or threshold) in one panel: its estimate (for ``every``, the one at the
    deciding evaluation) and its judgement."""

    label: str
    estimate: Estimate | None
    seeds: str
    judgement: Judgement
    difference: bool  # printed with a sign
    detail: str = ""  # ``every``: at how many evaluations it holds

    @property
    def verdict(self) -> str:
        return self.judgement.verdict


@dataclass(frozen=True)
class PanelResult:
    title: str
    outcomes: tuple[Outcome, ...]
    verdict: str
    untestable: str = ""  # why the panel cannot test the claim (its outcomes are still shown)


@dataclass(frozen=True)
class ScopeResult:
    spec: ScopeSpec
    panels: tuple[PanelResult, ...]
    verdict: str


def name(sampler: str) -> str:
    return SAMPLER_NAMES.get(sampler, sampler)


def not_run(label: str, difference: bool) -> Outcome:
    return Outcome(label, None, "", Judgement(NOT_RUN, "no results yet"), difference)


def per_evaluation(values: pd.Series, judge) -> tuple[Estimate, Judgement, str]:
    """``every``: judge each evaluation's values (indexed by seed and step); the comparison
    holds only where every evaluation's does. Returns the deciding evaluation's estimate and
    judgement (the first that fails, else the last) and a summary."""
    steps = sorted(values.index.get_level_values("step").unique())
    judged = [(step, *judge(values.xs(step, level="step"), step)) for step in steps]
    verdict = all_of([j.verdict for _, _, j in judged])
    held = sum(j.verdict == REPRODUCED for _, _, j in judged)
    deciding = next(((s, e, j) for s, e, j in judged if j.verdict == verdict), judged[-1])
    step, estimate, judgement = deciding
    detail = f"holds at {held} of {len(judged)} evaluations; step {step}: {judgement.reason}"
    borderline = any(j.borderline for _, _, j in judged if j.verdict == verdict)
    return estimate, Judgement(verdict, detail, borderline, judgement.seeds_needed), detail


def compare_outcome(
    rows, rule: CompareRule, against: str, panel: str, metric: str, claim: Claim, claims: ClaimsSpec, rng
) -> Outcome:
    """``rule.sampler - against``: two-sample for separate runs, paired by seed for the shadow."""
    shadow = against == SHADOW
    label = f"{name(rule.sampler)} − " + ("its shadow on-policy buffer" if shadow else name(against))
    base_metric = metric + SHADOW_SUFFIX if shadow else metric
    a = seed_values(rows, panel, rule.sampler, metric, claim.statistic)
    b = seed_values(rows, panel, rule.sampler if shadow else against, base_metric, claim.statistic)
    if a is None or b is None:
        return not_run(label, True)
    margin_spec = claims.margin(metric)

    def judge(va: pd.Series, vb: pd.Series, *names) -> tuple[Estimate, Judgement]:
        margin = None if margin_spec is None else margin_spec.of(float(vb.mean()))
        decides = (0.0, *(() if margin is None else (-margin, margin)), *(() if claim.magnitude is None else (claim.magnitude,)))
        if shadow:
            estimate = mean_ci((va - vb).dropna().to_numpy(), rng(*names), thresholds=decides)
        else:
            estimate = difference_ci(va.to_numpy(), vb.to_numpy(), rng(*names), thresholds=decides)
        return estimate, judge_difference(estimate, rule.direction == "higher", margin, claim.magnitude)

    seeds = f"{len(a.index.unique(0))} paired seeds" if shadow else f"{len(a.index.unique(0))} vs {len(b.index.unique(0))} seeds"
    if claim.statistic == "every":
        estimate, judgement, detail = per_evaluation(a, lambda va, step: judge(va, b.xs(step, level="step"), step))
        return Outcome(label, estimate, seeds, judgement, True, detail)
    estimate, judgement = judge(a, b)
    return Outcome(label, estimate, seeds, judgement, True)


def threshold_outcome(rows, rule, sampler: str, panel: str, metric: str, statistic: str, rng) -> Outcome:
    above = rule.at_least is not None
    bound = rule.at_least if above else rule.at_most
    label = f"{name(sampler)} {'≥' if above else '≤'} {bound:g}"
    values = seed_values(rows, panel, sampler, metric, statistic)
    if values is None:
        return not_run(label, False)
    if statistic == "every":
        estimate, judgement, detail = per_evaluation(
            values, lambda v, step: (e := mean_ci(v.to_numpy(), rng(step)), judge_threshold(e, bound, above))
        )
        return Outcome(label, estimate, f"{len(values.index.unique(0))} seeds", judgement, False, detail)
    estimate = mean_ci(values.to_numpy(), rng(), thresholds=(bound,))
    return Outcome(label, estimate, f"{len(values)} seeds", judge_threshold(estimate, bound, above), False)


def untestable_reason(claim: Claim, rows, key: str, metric: str, premise: dict[str, str]) -> str:
    """Why a panel cannot test a success-rate claim (docs/claims.md#untestable), or "": the
    game fails (or does not show) the Appendix E premise the paper's runs assume, or no seed of
    any sampler the claim compares ever succeeds."""
    if metric != SUCCESS:
        return ""
    verdict = premise.get(key)
    if verdict is not None and verdict != HOLDS:
        said = "fails" if verdict == "FAILS" else f"is not shown to hold ({verdict})"
        return f"the Appendix E premise {said} for {key} ({PREMISE_TABLE})"
    rule = claim.rule
    samplers = [rule.sampler, *(s for s in rule.against if s != SHADOW)] if isinstance(rule, CompareRule) else list(rule.samplers)
    values = [seed_values(rows, key, s, metric, claim.statistic) for s in samplers]
    if all(v is not None for v in values) and all(float(v.abs().max()) == 0.0 for v in values):
        return f"no seed of {', '.join(map(name, samplers))} ever succeeds"
    return ""


def panel_result(
    claim: Claim, rows, scope: ScopeSpec, panel, metric: str, claims: ClaimsSpec, premise: dict[str, str], seed: int = 0
) -> PanelResult:
    key = f"{panel.game}/{panel.variant}"
    rule = claim.rule

    def rng(*names):  # not named by scope: the same data gives the same CI in every scope
        return named_rng(claim.id, key, *names, seed=seed)

    if isinstance(rule, CompareRule):
        outcomes = [
            compare_outcome(rows, rule, b, key, metric, claim, claims, lambda *n, b=b: rng(rule.sampler, b, *n))
            for b in rule.against
        ]
    else:
        outcomes = [
            threshold_outcome(rows, rule, s, key, metric, claim.statistic, lambda *n, s=s: rng(s, *n)) for s in rule.samplers
        ]
    verdict = all_of([o.verdict for o in outcomes])
    reason = untestable_reason(claim, rows, key, metric, premise)
    if reason and verdict != NOT_RUN:
        reason += f"; the estimate alone: {verdict}"
    return PanelResult(panel.title, tuple(outcomes), UNTESTABLE if reason else verdict, reason)


def evaluate(
    plan: Plan,
    claim: Claim,
    tables: dict[str, pd.DataFrame | None],
    premise: dict[str, str] | None = None,
    seed: int = 0,
    printed_only: bool = False,
) -> list[ScopeResult]:
    """Every scope of a claim (``printed_only``: the printed figure's), with a verdict per panel
    and per scope; ``seed`` seeds every Monte Carlo bootstrap (the report uses 0)."""
    figure = plan.library.figures[claim.figure]
    panels = {p.game: p for p in figure.panels}
    metric = claim.metric_of(figure)
    claims = plan.library.claims
    premise = read_premise(plan) if premise is None else premise
    results = []
    for scope in scope_specs(plan, claim)[: 1 if printed_only else None]:
        rows = scope_rows(tables[scope.steps_path if claim.statistic == "every" else scope.path], scope)
        done = tuple(panel_result(claim, rows, scope, panels[g], metric, claims, premise, seed) for g in scope.games)
        results.append(ScopeResult(scope, done, COMBINE[claim.holds_in]([p.verdict for p in done])))
    return results


# --------------------------------------------------------------------------- Markdown


def number(estimate: Estimate, signed: bool) -> str:
    """2 decimals; 3 when every number of the estimate is below 0.1 in magnitude (small
    sampling errors would otherwise print as 0.00)."""
    small = max(abs(estimate.value), abs(estimate.low), abs(estimate.high)) < 0.1
    return estimate.format(digits=3 if small else 2, signed=signed)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [row(header), "|" + "---|" * len(header), *(row(r) for r in rows)]


def rule_words(claim: Claim, plan: Plan) -> str:
    figure = plan.library.figures[claim.figure]
    metric, statistic = claim.metric_of(figure), STATISTICS[claim.statistic]
    where = "every panel" if claim.holds_in == "all" else "a majority of the panels"
    rule = claim.rule
    at = " (at every evaluation)" if claim.statistic == "every" else ""
    if isinstance(rule, CompareRule):
        others = ", ".join("its own shadow on-policy buffer (paired by seed)" if b == SHADOW else name(b) for b in rule.against)
        side = "below" if rule.direction == "lower" else "above"
        minus = "minus" if len(rule.against) == 1 else "minus each of"
        test = f"{name(rule.sampler)} {minus} {others}, on each seed's {statistic} of {metric}: the 95% CI of the difference lies entirely {side} 0{at}"
        if claim.magnitude is not None:
            test += f" and does not exclude the paper's {claim.magnitude:+g}"
        margin = plan.library.claims.margin(metric)
        if margin is not None:
            test += f"; inside {margin.describe()} it is no difference"
    else:
        bound = f"at least {rule.at_least:g}" if rule.at_least is not None else f"at most {rule.at_most:g}"
        test = f"{', '.join(map(name, rule.samplers))}: mean over seeds of each seed's {statistic} of {metric} is {bound}, with its whole 95% CI{at}"
    return f"{test}, in {where} of figure {claim.figure} ({', '.join(claim.games(figure))})."


def outcome_text(outcome: Outcome, own_verdict: bool) -> str:
    """``label: estimate, seeds (why)``, with the comparison's verdict where a panel has several."""
    if outcome.estimate is None:
        return f"{outcome.label}: {NOT_RUN}"
    verdict = f"{outcome.verdict}: " if own_verdict else ""
    at = "deciding evaluation " if outcome.detail else ""
    return f"{outcome.label}: {at}{number(outcome.estimate, outcome.difference)}, {outcome.seeds} ({verdict}{outcome.judgement.text()})"


def scope_section(claim: Claim, result: ScopeResult) -> list[str]:
    scope = result.spec
    heading = f"### {scope.name}" if scope.study is None else f"### study {scope.study}: {scope.name}"
    header = ["panel", "ours (mean [95% CI], seeds, why)", "verdict"]
    rows = []
    for panel in result.panels:
        ours = "<br>".join(outcome_text(o, len(panel.outcomes) > 1) for o in panel.outcomes)
        verdict = panel.verdict + (f": {panel.untestable}" if panel.untestable else "")
        rows.append([panel.title, ours, verdict])
    path = scope.steps_path if claim.statistic == "every" else scope.path
    data = f"Data: {path} (per-seed values), {scope.figure} (figure)."
    return [heading, "", f"Verdict: **{result.verdict}**", "", *table(header, rows), "", data, ""]


def claim_section(claim: Claim, results: list[ScopeResult], plan: Plan) -> list[str]:
    lines = [f"## {claim.id}", "", f"Where: {claim.where}.", "", f"> {claim.paper}", "", f"Test: {rule_words(claim, plan)}", ""]
    if claim.replication:
        lines += [f"Replication on fresh seeds: study {claim.replication}.", ""]
    for result in results:
        lines += scope_section(claim, result)
    return lines


def why(result: ScopeResult) -> str:
    """One line: what decided the scope's verdict (the outcomes that carry it, by panel)."""
    if result.verdict == NOT_RUN:
        return "results not built yet"
    if result.verdict == UNTESTABLE:
        reasons = dict.fromkeys(p.untestable for p in result.panels if p.untestable)
        return "; ".join(reasons)
    groups: dict[str, list[str]] = {}
    for panel in result.panels:
        if panel.verdict != result.verdict and result.verdict != INCONCLUSIVE:
            continue
        for outcome in panel.outcomes:
            if outcome.verdict == panel.verdict and outcome.estimate is not None:
                reason = outcome.detail.split(";")[0] if outcome.detail else outcome.judgement.reason
                groups.setdefault(f"{outcome.label}: {reason}", []).append(panel.title)
    if not groups:
        return ""
    total = len(result.panels)
    parts = [f"{what} ({len(titles)} of {total} panels)" if total > 1 else what for what, titles in groups.items()]
    shown = "; ".join(parts[:2]) + ("; ..." if len(parts) > 2 else "")
    if any(o.judgement.borderline for p in result.panels for o in p.outcomes):
        shown += " (borderline)"
    return shown


def studies_shown(results: dict[str, list[ScopeResult]], claims: ClaimsSpec) -> list[str]:
    replications = {c.replication for c in claims.claims}
    return [
        s for s in dict.fromkeys(r.spec.study for rs in results.values() for r in rs if r.spec.study) if s not in replications
    ]


def study_cell(results: list[ScopeResult], study: str, plan: Plan) -> str:
    verdicts = {r.spec.name: r.verdict for r in results if r.spec.study == study}
    if not verdicts:
        return "—"
    labels = [plan.library.studies[study].setting_label(s) for s in plan.library.studies[study].settings()]
    return "; ".join(f"{i}: {verdicts[label]}" for i, label in enumerate(labels, 1) if label in verdicts)


def replication_cell(claim: Claim, results: list[ScopeResult]) -> str:
    if claim.replication is None:
        return "—"
    done = [r for r in results if r.spec.study == claim.replication]
    return "; ".join(f"**{r.verdict}** ({r.spec.name}): {why(r)}" for r in done) or "—"


def ours_in_brief(result: ScopeResult) -> str:
    """The printed scope's numbers in one cell: the estimate where the claim is one comparison in
    one panel, else how many panels each verdict has."""
    outcomes = [o for p in result.panels for o in p.outcomes]
    if len(outcomes) == 1 and outcomes[0].estimate is not None and not outcomes[0].detail:
        return f"{outcomes[0].label}: {number(outcomes[0].estimate, outcomes[0].difference)}, {outcomes[0].seeds}"
    verdicts = [p.verdict for p in result.panels]
    counts = [f"{verdicts.count(v)} {v}" for v in VERDICTS if v in verdicts]
    return f"{len(verdicts)} panel{'s' if len(verdicts) > 1 else ''}: " + ", ".join(counts)


def summary(claims: ClaimsSpec, results: dict[str, list[ScopeResult]], plan: Plan) -> list[str]:
    studies = studies_shown(results, claims)
    header = [
        "claim",
        "paper",
        "where",
        "ours (printed settings)",
        f"verdict, {PRINTED}",
        "why",
        "replication on fresh seeds",
        "studies",
    ]
    rows = []
    for claim in claims.claims:
        printed = next(r for r in results[claim.id] if r.spec.study is None)
        rows.append(
            [
                f"[{claim.id}](#{claim.id})",
                claim.paper,
                claim.where,
                ours_in_brief(printed),
                f"**{printed.verdict}**",
                why(printed),
                replication_cell(claim, results[claim.id]),
                "<br>".join(f"{s}: {c}" for s in studies if (c := study_cell(results[claim.id], s, plan)) != "—") or "—",
            ]
        )
    lines = table(header, rows) + [""]
    for study in studies:
        spec = plan.library.studies[study]
        settings = "; ".join(f"{i} = {spec.setting_label(s)}" for i, s in enumerate(spec.settings(), 1))
        lines += [f"Settings of study {study} ({spec.title}): {settings}.", ""]
    return lines


def rests_on(paths: list[str], published: str = "") -> str:
    """The line the report opens with: which commits and engines trained the results its tables
    rest on, and how many (from each table's inputs record), and when it was published."""
    records = [p.replace(".seeds.csv", ".inputs.json").replace(".steps.csv", ".inputs.json") for p in paths if Path(p).is_file()]
    summaries = [inputs_summary(r) for r in records if Path(r).is_file()]
    if not summaries:
        return "Rests on no results yet: every claim below is not run."
    commits = sorted({c[:12] for s in summaries for c in s["commits"]})
    engines = sorted({e for s in summaries for e in s["engines"]})
    files, runs = sum(s["result_files"] for s in summaries), sum(s["seed_runs"] for s in summaries)
    when = f"; {published}" if published else ""
    return (
        f"Rests on {len(summaries)} per-seed tables of {len(paths)} the claims read: {files} result files, {runs} seed "
        f"runs, trained at commit{'s' * (len(commits) > 1)} {', '.join(commits)} by engine{'s' * (len(engines) > 1)} "
        f"{', '.join(engines)}{when}."
    )


def introduction(plan: Plan, stamp: str) -> list[str]:
    caps = plan.library.scale(plan.scale).model_dump(exclude_none=True)
    scale = ", ".join(f"{k} {v}" for k, v in caps.items()) or "no caps: the paper's seeds and budgets"
    return [
        f"# Claims report, scale {plan.scale}",
        "",
        stamp,
        "",
        f"Each claim of the paper listed in specs/claims.yaml, tested on this scale's per-seed results "
        f"(scale {plan.scale}: {scale}). A claim is tested on its figure as the paper prints it "
        '("printed settings"), on fresh seeds where it names a replication, and on every setting of each '
        "study that varies that figure. Per panel, each comparison is **reproduced** when the 95% bootstrap CI "
        "of our estimate lies entirely on the side the paper claims (and does not exclude a magnitude the paper "
        "states), **not reproduced** when it lies on the other side or excludes that magnitude, **no difference** "
        "when it lies inside the metric's equivalence margin, **inconclusive** otherwise (with about how many "
        "seeds would decide it), **untestable** when the game fails the Appendix E premise or no compared run ever "
        "succeeds, and **not run** when the results do not exist yet. Differences between samplers are two-sample "
        "(separate runs); a sampler against its own shadow on-policy buffer is paired by seed. Success-rate CIs "
        "are exact bootstrap CIs; others are Monte Carlo (50,000 resamples), and a verdict within Monte Carlo "
        "error of its threshold is marked borderline. Numbers have 2 decimals, 3 when every number of an estimate "
        "is below 0.1 in magnitude. See docs/claims.md for the rules.",
        "",
    ]


# --------------------------------------------------------------------------- the premise


PREMISE_TITLE = "Premise under uniform random policies (Appendix E)"


def premise_path(plan: Plan) -> str:
    """``maprops premise``'s table for this scale (pipeline/rules/premise.smk builds it)."""
    return f"{plan.out}/{plan.scale}/premise.csv"


def sig(x: float, signed: bool = False) -> str:
    """3 significant digits, as ``maprops premise`` prints (event rates span 0.001 to 10)."""
    if x == float("inf"):
        return "inf"
    text = f"{x:+.3g}" if signed else f"{x:.3g}"
    return "0" if text in ("+0", "-0") else text


def interval(r, column: str, low: str, high: str, signed: bool = False) -> str:
    return f"{sig(r[column], signed)} [{sig(r[low], signed)}, {sig(r[high], signed)}]"


def premise_row(game: pd.DataFrame) -> list[str]:
    """One (game, variant): its agents' rows of the premise table."""
    first = game.iloc[0]
    matrix = pd.notna(first["p_optimal"])
    gradients = []
    for _, r in game.iterrows():
        sampled = interval(r, "gradient", "gradient_low", "gradient_high", signed=True)
        if matrix:
            gradients.append(
                f"agent {r['agent']} ({r['cooperative']}): exact {sig(r['exact_gradient'], True)}, sampled {sampled}"
            )
        else:
            gradients.append(f"agent {r['agent']}: {sampled} ({r['agent_verdict']})")
    if matrix:
        joint = f"P(optimal) {sig(first['p_optimal'])}; sampled {interval(first, 'joint_per_episode', 'joint_low', 'joint_high')}"
        cooperative = "its part of an optimal joint action"
    else:
        joint = interval(first, "joint_per_episode", "joint_low", "joint_high")
        cooperative = first["cooperative"]
    has_penalties = pd.notna(first["penalties_per_episode"])
    penalties = interval(first, "penalties_per_episode", "penalties_low", "penalties_high") if has_penalties else "—"
    ratio = f"{sig(first['ratio'])}x" if has_penalties else "—"
    return [
        f"{first['game']}/{first['variant']}",
        cooperative,
        joint,
        penalties,
        ratio,
        "<br>".join(gradients),
        f"**{first['premise']}**",
    ]


def premise_section(plan: Plan) -> list[str]:
    """The premise table, or "not run" when ``maprops premise`` has not written it yet."""
    path = premise_path(plan)
    lines = [
        f"## {PREMISE_TITLE}",
        "",
        "The paper rescales some games' rewards so that, with every agent playing uniformly at random "
        "(the policies at initialisation), each agent's expected policy gradient encourages cooperation. "
        "`maprops premise` plays each game and variant with uniform random policies and reports the "
        "cooperative reward events and the penalized lone attempts per episode, and each agent's gradient "
        "of its expected discounted return with respect to a logit bias on its cooperative action "
        "(REINFORCE over episodes; matrix games also exactly). The premise **holds** when every agent's "
        "gradient is positive with its whole 95% CI (matrix games: the exact gradient), **FAILS** when "
        "some agent's lies below 0 (or an exact gradient is 0), and is **inconclusive** otherwise. "
        "CIs: normal approximation over episodes. See docs/premise.md.",
        "",
    ]
    if not Path(path).is_file():
        return lines + [f"Premise: **{NOT_RUN}** ({path} does not exist yet; `snakemake {path}` builds it).", ""]
    data = pd.read_csv(path)
    header = [
        "game/variant",
        "cooperative action",
        "joint rewards / episode",
        "penalties / episode",
        "penalties per joint reward",
        "gradient on the cooperative action (mean [95% CI])",
        "premise",
    ]
    games = [premise_row(game) for _, game in data.groupby(["game", "variant"], sort=False)]
    first = data.iloc[0]
    where = f"Data: {path} ({first['episodes']} episodes per game and variant, seed {first['seed']}, gamma {first['gamma']:g})."
    return lines + table(header, games) + ["", where, ""]


def render(plan: Plan, claims: ClaimsSpec, published: str = "") -> str:
    """The whole report as Markdown; ``published`` says when it was published into the record."""
    lines = introduction(plan, rests_on(tables_read(plan, claims), published))
    if not claims.claims:
        return "\n".join(lines + ["No claims: the spec folder has no claims.yaml, or it lists none.", "", *premise_section(plan)])
    tables = read_tables(tables_read(plan, claims))
    premise = read_premise(plan)
    results = {claim.id: evaluate(plan, claim, tables, premise) for claim in claims.claims}
    lines += summary(claims, results, plan)
    for claim in claims.claims:
        lines += claim_section(claim, results[claim.id], plan)
    return "\n".join(lines + premise_section(plan))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", required=True, help="spec folder (holds claims.yaml)")
    parser.add_argument("--scale", required=True)
    parser.add_argument("--out-root", required=True, help="the spec folder's output tree, e.g. results")
    parser.add_argument("--out", required=True, help="the report to write")
    parser.add_argument("--published", default="", help="when the tables were published (the record's report)")
    args = parser.parse_args(argv)
    try:
        plan = Plan(args.specs, args.scale, out=args.out_root)
        text = render(plan, plan.library.claims, args.published)
    except (SpecError, SpecErrors, KeyError, OSError, ValueError) as err:
        print(f"report: {err}", file=sys.stderr)
        return 1
    write_text_atomic(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
