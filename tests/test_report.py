"""Claims report: verdict rules on synthetic per-seed tables, claims.yaml errors with FILE:LINE,
"not run" for missing results, and a byte-identical report on rebuild."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maprops.specs import SpecErrors, SpecLibrary
from maprops.specs.claims import Claim, ClaimsSpec, load_claims
from pipeline.compare import Estimate
from pipeline.expand import Plan
from pipeline.report import evaluate, main, read_tables, render, tables_read
from pipeline.verdicts import (
    INCONCLUSIVE,
    NO_DIFFERENCE,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    UNTESTABLE,
    all_of,
    judge_difference,
    judge_threshold,
    majority_of,
)

SPECS = Path(__file__).resolve().parents[1] / "specs"
SEEDS = 10


@pytest.fixture(scope="module")
def library():
    return SpecLibrary(SPECS)


@pytest.fixture
def plan(tmp_path):
    return Plan(SPECS, "smoke", out=str(tmp_path / "out"))


def noisy(mean: float, spread: float = 0.01, seed: int = 0) -> np.ndarray:
    return mean + spread * np.random.default_rng(seed).standard_normal(SEEDS)


def seed_rows(figure, curves: dict) -> list[dict]:
    """{(game, sampler, metric): per-seed values} -> rows of a per-seed table (first = final = mean)."""
    panels = {p.game: (i, p) for i, p in enumerate(figure.panels)}
    rows = []
    for (game, sampler, metric), values in curves.items():
        i, panel = panels[game]
        for seed, value in enumerate(values):
            labels = {"panel_index": i, "panel": f"{game}/{panel.variant}", "panel_title": panel.title}
            rows.append(
                {**labels, "sampler": sampler, "metric": metric, "seed": seed, "first": value, "final": value, "mean": value}
            )
    return rows


def write_figure(plan: Plan, figure: str, curves: dict) -> None:
    path = Path(plan.aggregated_path(figure, ".seeds.csv"))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(seed_rows(plan.library.figures[figure], curves)).to_csv(path, index=False)


def write_study(plan: Plan, study: str, settings: dict) -> None:
    """{setting label: curves} -> the study's per-seed table (a leading setting column)."""
    figure = plan.library.figures[plan.library.studies[study].figure]
    rows = [{"setting": label, **r} for label, curves in settings.items() for r in seed_rows(figure, curves)]
    path = Path(plan.study_path(study, ".seeds.csv"))
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)


def claim(**fields) -> Claim:
    return Claim.model_validate({"id": "c", "where": "§0", "paper": "p", "statistic": "final", **fields})


def verdicts(plan: Plan, c: Claim) -> dict[str, tuple[str, list[str]]]:
    """scope name -> (scope verdict, panel verdicts)."""
    results = evaluate(plan, c, read_tables(tables_read(plan, ClaimsSpec(claims=(c,)))))
    return {r.spec.name: (r.verdict, [p.verdict for p in r.panels]) for r in results}


GAIN = {
    "figure": "fig5",
    "panels": ["gridworld"],
    "rule": {"kind": "compare", "sampler": "ma_props", "against": "on_policy", "direction": "higher"},
}


@pytest.mark.parametrize(
    "ma_props, on_policy, expected",
    [(0.9, 0.5, REPRODUCED), (0.5, 0.9, NOT_REPRODUCED), (0.7, 0.7, NO_DIFFERENCE)],
)
def test_compare_verdict_follows_the_difference_ci(plan, ma_props, on_policy, expected):
    write_figure(
        plan,
        "fig5",
        {
            ("gridworld", "ma_props", "success_rate"): noisy(ma_props, seed=1),
            ("gridworld", "on_policy", "success_rate"): noisy(on_policy, seed=2),
        },
    )
    assert verdicts(plan, claim(**GAIN))["printed settings"] == (expected, [expected])


def test_several_comparisons_in_a_panel_must_all_hold(plan):
    rule = {"kind": "compare", "sampler": "ma_props", "against": ["on_policy", "props"], "direction": "higher"}
    curves = {("gridworld", "ma_props", "success_rate"): noisy(0.9), ("gridworld", "on_policy", "success_rate"): noisy(0.5)}
    write_figure(plan, "fig5", curves | {("gridworld", "props", "success_rate"): noisy(0.9, seed=3)})
    assert verdicts(plan, claim(**{**GAIN, "rule": rule}))["printed settings"][0] == NO_DIFFERENCE  # ties PROPS
    write_figure(plan, "fig5", curves | {("gridworld", "props", "success_rate"): noisy(0.95, seed=3)})
    assert verdicts(plan, claim(**{**GAIN, "rule": rule}))["printed settings"][0] == NOT_REPRODUCED


@pytest.mark.parametrize(
    "values, expected",
    [([1.0] * SEEDS, REPRODUCED), ([0.5] * SEEDS, NOT_REPRODUCED), ([1.0] * (SEEDS - 1) + [0.9], INCONCLUSIVE)],
)
def test_threshold_verdict(plan, values, expected):
    write_figure(plan, "fig11", {("nonconflict_01", "ma_props", "success_rate"): values})
    rule = {"kind": "threshold", "samplers": ["ma_props"], "at_least": 0.99}
    assert verdicts(plan, claim(figure="fig11", panels=["nonconflict_01"], rule=rule))["printed settings"][0] == expected


def test_threshold_bounds_are_inclusive_and_at_most_mirrors_at_least():
    exact = Estimate(0.99, 0.99, 1.0, 10)
    assert judge_threshold(exact, 0.99, above=True).verdict == REPRODUCED
    assert judge_threshold(Estimate(0.99, 0.98, 1.0, 10), 0.99, above=True).verdict == INCONCLUSIVE
    assert judge_threshold(Estimate(0.2, 0.1, 0.3, 10), 0.3, above=False).verdict == REPRODUCED
    assert judge_threshold(Estimate(0.5, 0.4, 0.6, 10), 0.3, above=False).verdict == NOT_REPRODUCED


@pytest.mark.parametrize(
    "estimate, margin, magnitude, expected, reason",
    [
        ((0.30, 0.20, 0.40), None, None, REPRODUCED, "CI above 0"),
        ((-0.30, -0.55, -0.05), 0.05, 0.15, NOT_REPRODUCED, "CI below 0"),  # the wrong side
        ((0.05, 0.02, 0.08), None, 0.15, NOT_REPRODUCED, "excludes the claimed +0.15"),  # too small
        ((0.20, 0.10, 0.30), 0.05, 0.15, REPRODUCED, "CI above 0"),  # contains the magnitude
        ((0.00, -0.045, 0.047), 0.05, None, NO_DIFFERENCE, "inside ±0.05"),  # a tie
        ((0.02, 0.01, 0.03), 0.05, None, NO_DIFFERENCE, "inside ±0.05"),  # significant, but negligible
        ((0.05, -0.05, 0.15), 0.05, None, INCONCLUSIVE, "CI contains 0"),
    ],
)
def test_difference_verdicts_test_direction_margin_and_magnitude(estimate, margin, magnitude, expected, reason):
    judged = judge_difference(Estimate(*estimate, 20), True, margin, magnitude)
    assert (judged.verdict, judged.reason) == (expected, reason)
    lower = judge_difference(Estimate(-estimate[0], -estimate[2], -estimate[1], 20), False, margin, magnitude and -magnitude)
    assert lower.verdict == expected  # direction "lower" mirrors "higher"


def test_an_inconclusive_verdict_says_how_many_seeds_would_decide():
    judged = judge_difference(Estimate(0.05, -0.05, 0.15, 20), True)
    assert judged.verdict == INCONCLUSIVE and judged.seeds_needed == 80  # half-width 0.1 -> 0.05: 4x the seeds
    assert "about 80 seeds would decide it" in judged.text()
    tie = judge_difference(Estimate(0.0, -0.1, 0.1, 20), True, margin=0.05)
    assert tie.seeds_needed == 80  # equivalence: half-width below the margin


def test_a_bound_within_monte_carlo_error_of_its_threshold_is_borderline():
    near = Estimate(0.1, 0.0005, 0.2, 20, bands=((-0.001, 0.002), (0.19, 0.21)))
    judged = judge_difference(near, True)  # the CI says above 0, another draw might not: not decided
    assert judged.borderline and judged.verdict == INCONCLUSIVE and "borderline" in judged.text()
    clear = Estimate(0.1, 0.05, 0.2, 20, bands=((0.049, 0.051), (0.19, 0.21)))
    assert not judge_difference(clear, True).borderline
    assert not judge_difference(Estimate(0.1, 0.0, 0.2, 20), True).borderline  # exact CIs never are


def test_shadow_comparison_is_paired_by_seed(plan):
    """Seeds differ wildly from each other, but each seed's MA-PROPS error is 0.12 below its own
    shadow buffer's (more than the 10% margin): only a paired comparison sees it."""
    base = np.random.default_rng(0).uniform(0.1, 0.9, SEEDS)
    write_figure(
        plan,
        "fig10",
        {
            ("gridworld", "ma_props", "joint_sampling_error"): base,
            ("gridworld", "ma_props", "joint_sampling_error_on_policy"): base + 0.12,
        },
    )
    c = claim(
        figure="fig10",
        panels=["gridworld"],
        statistic="mean",
        rule={"kind": "compare", "sampler": "ma_props", "against": "shadow", "direction": "lower"},
    )
    assert verdicts(plan, c)["printed settings"] == (REPRODUCED, [REPRODUCED])


def test_holds_in_all_and_majority(plan):
    up, down = (noisy(0.9), noisy(0.5, seed=1)), (noisy(0.5), noisy(0.9, seed=1))
    games = ["nonconflict_19", "nonconflict_20", "nonconflict_21"]
    curves = {}
    for game, (ma, on) in zip(games, (up, up, down)):
        curves |= {(game, "ma_props", "success_rate"): ma, (game, "on_policy", "success_rate"): on}
    write_figure(plan, "fig11", curves)
    rule = {"kind": "compare", "sampler": "ma_props", "against": "on_policy", "direction": "higher"}
    everywhere = claim(figure="fig11", panels=games, rule=rule)
    assert verdicts(plan, everywhere)["printed settings"] == (NOT_REPRODUCED, [REPRODUCED, REPRODUCED, NOT_REPRODUCED])
    assert (
        verdicts(plan, claim(figure="fig11", panels=games, rule=rule, holds_in="majority"))["printed settings"][0] == REPRODUCED
    )

    del curves[("nonconflict_21", "ma_props", "success_rate")]  # one panel lacks results
    write_figure(plan, "fig11", curves)
    assert verdicts(plan, everywhere)["printed settings"] == (NOT_RUN, [REPRODUCED, REPRODUCED, NOT_RUN])


def test_combination_rules():
    assert all_of([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert all_of([REPRODUCED, NOT_RUN, NOT_REPRODUCED]) == NOT_REPRODUCED
    assert all_of([REPRODUCED, NOT_RUN]) == NOT_RUN
    assert all_of([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert majority_of([REPRODUCED, REPRODUCED, NOT_REPRODUCED]) == REPRODUCED
    assert majority_of([NOT_REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE]) == NOT_REPRODUCED
    assert majority_of([REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert majority_of([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert majority_of([REPRODUCED, NOT_REPRODUCED]) == INCONCLUSIVE
    assert majority_of([REPRODUCED, REPRODUCED, NOT_RUN]) == NOT_RUN
    assert all_of([REPRODUCED, NO_DIFFERENCE, INCONCLUSIVE]) == NO_DIFFERENCE
    assert all_of([NO_DIFFERENCE, NOT_REPRODUCED]) == NOT_REPRODUCED
    assert all_of([REPRODUCED, UNTESTABLE]) == REPRODUCED  # untestable panels are set aside
    assert all_of([UNTESTABLE, UNTESTABLE]) == UNTESTABLE
    assert majority_of([NO_DIFFERENCE, NO_DIFFERENCE, REPRODUCED]) == NO_DIFFERENCE
    assert majority_of([NO_DIFFERENCE, NOT_REPRODUCED, REPRODUCED]) == NOT_REPRODUCED


def test_study_settings_are_scopes_of_their_own(plan):
    study = plan.library.studies["lr_kl_2x2"]
    labels = [study.setting_label(s) for s in study.settings()]
    write_study(
        plan,
        "lr_kl_2x2",
        {
            labels[0]: {
                ("nonconflict_19", "ma_props", "success_rate"): noisy(0.9),
                ("nonconflict_19", "on_policy", "success_rate"): noisy(0.5),
            },
            labels[1]: {
                ("nonconflict_19", "ma_props", "success_rate"): noisy(0.5),
                ("nonconflict_19", "on_policy", "success_rate"): noisy(0.9),
            },
        },
    )
    rule = {"kind": "compare", "sampler": "ma_props", "against": "on_policy", "direction": "higher"}
    found = verdicts(plan, claim(figure="fig11", panels=["nonconflict_02", "nonconflict_19"], rule=rule))
    assert found["printed settings"] == (NOT_RUN, [NOT_RUN, NOT_RUN])  # fig11's own table is missing
    # the study covers game 19 only (not game 2); settings without rows are not run
    assert {label: found[label] for label in labels} == {
        labels[0]: (REPRODUCED, [REPRODUCED]),
        labels[1]: (NOT_REPRODUCED, [NOT_REPRODUCED]),
        labels[2]: (NOT_RUN, [NOT_RUN]),
        labels[3]: (NOT_RUN, [NOT_RUN]),
    }


def summary_rows(report: str) -> dict[str, list[str]]:
    """claim id -> its summary row's verdict (printed settings), reason, replication and studies."""
    rows = {}
    for line in report.splitlines():
        if line.startswith("| ["):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows[re.match(r"\[(\w+)\]", cells[0]).group(1)] = [cells[4].strip("*"), *cells[5:]]
    return rows


def test_shipped_claims_without_results_are_all_not_run(tmp_path, library):
    out = tmp_path / "REPORT.md"
    assert main(["--specs", str(SPECS), "--scale", "smoke", "--out-root", str(tmp_path / "empty"), "--out", str(out)]) == 0
    report = out.read_text()
    rows = summary_rows(report)
    assert list(rows) == [c.id for c in load_claims(SPECS, library).claims] and len(rows) >= 15
    for verdict, reason, replication, studies in rows.values():
        assert verdict == NOT_RUN and reason == "results not built yet"
        assert replication == "—" or replication.startswith(f"**{NOT_RUN}** (seeds ")
        shown = {re.sub(r"^(\S+: )?\d+: ", "", part) for line in studies.split("<br>") for part in line.split("; ")}
        assert shown <= {NOT_RUN, "—"}, studies
    *sections, premise = report.split("\n## ")[1:]
    assert len(sections) == len(rows)
    assert premise.startswith("Premise under uniform random policies (Appendix E)") and "Premise: **not run**" in premise
    assert all(
        re.findall(r"Verdict: \*\*(.+?)\*\*", s) and set(re.findall(r"Verdict: \*\*(.+?)\*\*", s)) == {NOT_RUN} for s in sections
    )


def test_report_on_synthetic_tables_is_deterministic(tmp_path):
    out_root = tmp_path / "out"
    plan = Plan(SPECS, "smoke", out=str(out_root))
    write_figure(
        plan,
        "fig5_gridworld",
        {
            ("gridworld", "ma_props", "success_rate"): noisy(0.65, spread=0.05, seed=1),
            ("gridworld", "on_policy", "success_rate"): noisy(0.5, spread=0.05, seed=2),
            ("gridworld", "props", "success_rate"): noisy(0.6, spread=0.05, seed=3),
        },
    )
    args = ["--specs", str(SPECS), "--scale", "smoke", "--out-root", str(out_root)]
    assert main([*args, "--out", str(tmp_path / "a.md")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.md")]) == 0
    report = (tmp_path / "a.md").read_text()
    assert (tmp_path / "a.md").read_bytes() == (tmp_path / "b.md").read_bytes()
    rows = summary_rows(report)
    assert rows["fig5_gridworld_ma_props_gain"][0] == REPRODUCED
    assert rows["fig5_gridworld_props_drop"][0] == NOT_REPRODUCED
    assert rows["fig5_boulderpush_ma_props_gain"][0] == NOT_RUN
    gain = report.split("## fig5_gridworld_ma_props_gain", 1)[1].split("\n## ", 1)[0]
    assert re.search(
        r"\| GridWorld \| MA-PROPS − on-policy: \+0\.1\d \[\+0\.\d\d, \+0\.\d\d\], 10 vs 10 seeds \(CI above 0\) \| reproduced \|",
        gain,
    )
    drop = report.split("## fig5_gridworld_props_drop", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^\| GridWorld \| PROPS − on-policy: .* \(CI above 0\) \| not reproduced \|$", drop, re.M), drop
    assert (
        f"Data: {out_root}/smoke/aggregated/fig5_gridworld.seeds.csv (per-seed values), {out_root}/smoke/figures/fig5_gridworld.png (figure)."
        in drop
    )


def test_no_claims_file_gives_an_empty_spec_and_a_short_report(tmp_path, library):
    assert load_claims(tmp_path, library) == ClaimsSpec()
    assert "No claims" in render(Plan(SPECS, "smoke", out=str(tmp_path)), ClaimsSpec())


BAD = """\
claims:
  - id: a
    where: x
    paper: y
    figure: {figure}
    panels: [{panel}]
    statistic: final
    rule: {{kind: compare, sampler: {sampler}, against: {against}, direction: lower}}
"""
GOOD = {"figure": "fig13", "panel": "nonconflict_01", "sampler": "ma_props", "against": "shadow"}


@pytest.mark.parametrize(
    "change, line, field, message",
    [
        ({"figure": "fig99"}, 5, "claims.0.figure", "unknown figure 'fig99'"),
        ({"panel": "gridworld"}, 6, "claims.0.panels.0", "figure 'fig13' has no panel of game 'gridworld'"),
        ({"sampler": "props"}, 8, "claims.0.rule.sampler", "figure 'fig13' trains on_policy, ma_props, not 'props'"),
        ({"against": "[shadow, props]"}, 8, "claims.0.rule.against.1", "trains on_policy, ma_props, not 'props'"),
        ({"against": "props"}, 8, "claims.0.rule.against", "not 'props'"),
        ({"figure": "fig11", "panel": "nonconflict_19"}, 8, "claims.0.rule.against", "metric 'success_rate' has no shadow"),
        ({"against": "ma_props"}, 8, "claims.0.rule.against", "'ma_props' is compared against itself"),
    ],
)
def test_bad_claims_are_file_line_errors(tmp_path, library, change, line, field, message):
    path = tmp_path / "claims.yaml"
    path.write_text(BAD.format(**(GOOD | change)))
    with pytest.raises(SpecErrors) as err:
        load_claims(tmp_path, library)
    assert f"{path}:{line}: {field}: " in str(err.value) and message in str(err.value), str(err.value)


SCHEMA_ERRORS = """\
  - id: b
    where: x
    paper: y
    figure: fig13
    statistic: last
    rule: {kind: equal}
  - id: c
    where: x
    paper: y
    figure: fig11
    statistic: final
    rule: {kind: threshold, samplers: [ma_props]}
"""


def test_schema_errors_name_the_field(tmp_path, library):
    path = tmp_path / "claims.yaml"
    path.write_text(BAD.format(**GOOD) + "    magnitude: 0.1\n" + SCHEMA_ERRORS)
    with pytest.raises(SpecErrors) as err:
        load_claims(tmp_path, library)
    text = str(err.value)
    assert f"{path}:9: claims.0.magnitude: 0.1 contradicts direction 'lower'" in text
    assert f"{path}:14: claims.1.statistic: " in text
    assert f"{path}:15: claims.1.rule.kind: unknown kind 'equal'" in text
    assert f"{path}:21: claims.2.rule.at_most: give exactly one of 'at_least' and 'at_most'" in text


def test_duplicate_claim_ids_are_refused(tmp_path, library):
    path = tmp_path / "claims.yaml"
    path.write_text(BAD.format(**GOOD) + BAD.format(**GOOD).removeprefix("claims:\n"))
    with pytest.raises(SpecErrors, match=re.escape(f"{path}:9: claims.1.id: claim id 'a' is used twice")):
        load_claims(tmp_path, library)


def test_verdicts_on_the_record_do_not_depend_on_the_bootstrap_seed():
    """Every claim's printed-settings verdict on the recorded full-scale tables, per panel and
    comparison, under 10 seeds of the Monte Carlo bootstrap: identical (success-rate CIs are
    exact; the others use enough resamples, and borderline ones would show here)."""
    plan = Plan(SPECS, "full", out=str(SPECS.parent / "record"))
    claims = plan.library.claims
    tables = read_tables(tables_read(plan, claims))
    assert any(t is not None for t in tables.values()), "the record holds no per-seed tables"

    def verdicts_under(seed: int) -> list:
        return [
            (c.id, p.title, [o.verdict for o in p.outcomes])
            for c in claims.claims
            for r in evaluate(plan, c, tables, seed=seed, printed_only=True)
            for p in r.panels
        ]

    first = verdicts_under(0)
    for seed in range(1, 10):
        assert verdicts_under(seed) == first, seed
