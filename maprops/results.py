"""The schema of a training result table: one row per (seed, evaluated iteration).

Kept free of torch so that aggregation and plotting can check results without importing the
training stack. The sampling-error columns depend on the game: exact total variation (``tv``)
where the target policies' visitation is computable (matrix games, GridWorld), KL divergence
by maximum likelihood (``kl``, paper Appendix C) elsewhere.
"""

from __future__ import annotations

KEY_COLUMNS = ("seed", "iteration", "step")
ERROR_KINDS = ("tv", "kl")


def error_columns(error_kind: str) -> tuple[str, ...]:
    """Joint and agent-1 sampling error of the sampler's buffer, then of the shadow on-policy one."""
    errors = (f"joint_{error_kind}", f"agent1_{error_kind}")
    return (*errors, *(f"{e}_on_policy" for e in errors))


def result_columns(error_kind: str) -> tuple[str, ...]:
    """Every column, in file order, of a result table for a game whose error is ``error_kind``."""
    if error_kind not in ERROR_KINDS:
        raise ValueError(f"unknown sampling error kind {error_kind!r}; known: {', '.join(ERROR_KINDS)}")
    return (*KEY_COLUMNS, "success_rate", *error_columns(error_kind), "mean_return")


RESULT_HEADERS = {kind: result_columns(kind) for kind in ERROR_KINDS}
METRIC_COLUMNS = tuple(dict.fromkeys(c for header in RESULT_HEADERS.values() for c in header if c not in KEY_COLUMNS))


def evaluates(spec, step: int) -> bool:
    """Whether a run measures its target at environment step ``step``: every ``eval_every``
    target updates and after the last (a fixed-target run: every ``eval_every`` samples and at
    the last sample). The one rule for the trainer and for the aggregation's check of a result."""
    if spec.fixed_target:
        return step % spec.eval_every == 0 or step == spec.total_steps
    updates = step // spec.ppo.batch_size
    return step % spec.ppo.batch_size == 0 and (updates % spec.eval_every == 0 or updates == spec.iterations)


def evaluation_steps(spec) -> list[int]:
    """Every step at which a run of ``spec`` writes a result row."""
    if spec.fixed_target:
        return [step for step in range(1, spec.total_steps + 1) if evaluates(spec, step)]
    n = spec.ppo.batch_size
    return [k * n for k in range(1, spec.iterations + 1) if evaluates(spec, k * n)]
