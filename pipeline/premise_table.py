"""``maprops premise``: the Appendix E premise check's lines, its CSV table and the command.

The check itself -- uniform random play, the estimates and their CIs, the verdicts -- is the
library's (:mod:`maprops.premise`); this module words it: one line per (game, variant) on the
console, one CSV row per agent (:data:`COLUMNS`, what the claims report reads,
``pipeline/report.py``), with numbers to 3 significant digits as the report prints them.

    maprops premise [GAME ...] [--variant V] [--episodes N] [--seed S] [--specs DIR] [--csv FILE]
"""

from __future__ import annotations

import csv
import math
import sys

from maprops.io import atomic_path
from maprops.premise import CI_METHOD, Interval, PremiseResult, declares_cooperation, estimate
from maprops.shipped import default_specs
from maprops.specs import SpecLibrary
from maprops.specs.errors import SpecError, SpecErrors
from pipeline.report import sig


def ci_text(ci: Interval, signed: bool = False, unit: str = "") -> str:
    return f"{sig(ci.value, signed)}{unit} [{sig(ci.low, signed)}, {sig(ci.high, signed)}]"


def ratio_text(ratio: float) -> str:
    return "inf (no joint reward seen)" if math.isinf(ratio) else f"{ratio:.3g}x"


def line(result: PremiseResult) -> str:
    """The one line ``maprops premise`` prints per (game, variant)."""
    head = f"{result.game}/{result.variant}: "
    agents = []
    if result.p_optimal is not None:
        head += f"P(optimal joint action) {sig(result.p_optimal)} (sampled {ci_text(result.joint)}); "
        head += "gradient on the agent's part of the optimal joint action: "
        for a in result.agents:
            agents.append(
                f"agent {a.agent} ({a.cooperative}) exact {sig(a.exact, True)}, sampled {ci_text(a.gradient, True)} ({a.verdict})"
            )
    else:
        head += f"joint rewards {ci_text(result.joint, unit='/ep')}"
        if result.penalties is not None:
            head += f", penalties {ci_text(result.penalties, unit='/ep')}, ratio {ratio_text(result.ratio)}"
        head += f"; gradient on {result.agents[0].cooperative}: "
        for a in result.agents:
            agents.append(f"agent {a.agent} {ci_text(a.gradient, True)} ({a.verdict})")
    return head + ", ".join(agents) + f" -> premise {result.verdict}"


COLUMNS = (
    "game",
    "variant",
    "kind",
    "agent",
    "cooperative",
    "episodes",
    "seed",
    "gamma",
    "joint_per_episode",
    "joint_low",
    "joint_high",
    "penalties_per_episode",
    "penalties_low",
    "penalties_high",
    "agent_penalties_per_episode",
    "agent_penalties_low",
    "agent_penalties_high",
    "ratio",
    "p_optimal",
    "gradient",
    "gradient_low",
    "gradient_high",
    "exact_gradient",
    "agent_verdict",
    "premise",
)


def rows(result: PremiseResult) -> list[dict]:
    """One CSV row per agent; empty cells where a quantity does not apply."""

    def triple(ci: Interval | None) -> list:
        return ["", "", ""] if ci is None else [repr(ci.value), repr(ci.low), repr(ci.high)]

    out = []
    for a in result.agents:
        ratio = result.ratio
        values = [
            result.game,
            result.variant,
            result.kind,
            a.agent,
            a.cooperative,
            result.episodes,
            result.seed,
            repr(result.gamma),
            *triple(result.joint),
            *triple(result.penalties),
            *triple(a.penalties),
            "" if ratio is None else repr(ratio),
            "" if result.p_optimal is None else repr(result.p_optimal),
            *triple(a.gradient),
            "" if a.exact is None else repr(a.exact),
            a.verdict,
            result.verdict,
        ]
        out.append(dict(zip(COLUMNS, values)))
    return out


def write_csv(path: str, results: list[PremiseResult]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for result in results:
            writer.writerows(rows(result))


# -- the command ------------------------------------------------------------------------------------


def premise_main(games: list[str], variant: str | None, episodes: int, seed: int, specs: str | None, csv_path: str | None) -> int:
    def fail(message: str) -> int:
        print(f"maprops premise: {message}", file=sys.stderr)
        return 2

    specs = specs or default_specs()
    if episodes < 2:
        return fail(f"--episodes must be at least 2, got {episodes}")
    try:
        library = SpecLibrary(specs)
    except (SpecErrors, SpecError) as err:
        return fail(f"the specs in {specs} do not validate (run `maprops validate {specs}`): {str(err).splitlines()[0]}")
    unknown = [g for g in games if g not in library.games]
    if unknown:
        return fail(f"no game {', '.join(map(repr, unknown))} in {specs}/games; games: {', '.join(sorted(library.games))}")
    silent = [g for g in games if not declares_cooperation(library.games[g])]
    if silent:
        return fail(
            f"{', '.join(map(repr, silent))}: no cooperative action declared (game kind {library.games[silent[0]].kind!r}), nothing to check"
        )
    todo, skipped = [], []
    for name in games or sorted(library.games):
        spec = library.games[name]
        if not declares_cooperation(spec):
            skipped.append(name)
        elif variant is None:
            todo += [(spec, v) for v in spec.variant_names]
        elif variant in spec.variant_names:
            todo.append((spec, variant))
        elif games:
            return fail(f"game {name!r} has no variant {variant!r}; variants: {', '.join(spec.variant_names)}")
    if not todo:
        return fail(f"no game has a variant {variant!r}")
    gamma = library.table2.gamma
    print(
        f"# uniform random policies, {episodes} episodes per game, seed {seed}, gamma {gamma:g}; 95% CIs: {CI_METHOD}", flush=True
    )
    if skipped:
        print(f"# skipped, no cooperative action declared: {', '.join(skipped)}", flush=True)
    results = []
    for spec, v in todo:
        result = estimate(spec, v, episodes, seed, gamma)
        results.append(result)
        print(line(result), flush=True)
    if csv_path:
        write_csv(csv_path, results)
    return 0
