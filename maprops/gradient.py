"""Exact and sampled policy gradients of a matrix game, so the paper's gradient arguments can be
checked by hand: ``maprops gradient GAME [--variant V] [--batch A,B,A,B:B,A,B,A]``.

Why: the paper's failure mode (§1, §4, Fig. 1, Appendix B) is that the *expected* policy
gradient at initialisation points toward the optimal joint action while a Monte Carlo estimate
from a small batch with joint sampling error points the other way, even when every agent's own
actions are sampled exactly in proportion. Its reward modifications (Appendix E) exist to make
the expected gradient at uniform policies favour the optimum. Both statements are about one
number per agent and action, which this module computes exactly.

Setting. Agent ``i`` has a softmax policy ``pi_i = softmax(theta_i)`` over its ``k_i`` actions
(uniform at ``theta_i = 0``, as our policies are at initialisation) and plays independently.
The return of a play is agent ``i``'s *own* payoff ``R_i(a)`` (the game spec's per-agent entry;
in the common-payoff games every agent's payoff is the team's): the paper's example says "both
agents observe reward 0 for action A", each its own reward. With ``Q_i(a_i) = E[R_i | a_i]``
(the other agents drawn from their policies) and ``V_i = E[R_i]``::

    exact:  g_i = E_{a~pi}[ R_i(a) grad_theta_i log pi_i(a_i) ],  g_i[b] = pi_i(b) (Q_i(b) - V_i)
    batch:  g_i = 1/n sum_t R_i(a_t) grad_theta_i log pi_i(a_t,i), grad log pi_i(a) = e_a - pi_i

The batch estimate uses raw rewards (no baseline): it is the plain Monte Carlo estimate of the
same expectation. Subtracting the constant ``V_i`` (Appendix B's advantages are ``R_i - V_i``:
7, -5, 1, -3 for Fig. 1) leaves the exact gradient unchanged, and changes a batch's estimate
only if agent ``i``'s actions in the batch are not exactly in proportion to ``pi_i``; in the
paper's example they are, so both forms give the same numbers.

Fig. 1 / Appendix B (game ``fig1``): the exact gradients are ``(+0.5, -0.5)`` for (A, B) for both
agents; the batch ``A,B,A,B:B,A,B,A`` gives ``(-1.5, +1.5)``: the sign flips. (Appendix B uses a
direct parameterisation and writes the two as ``2 grad log pi(A)`` and ``-grad log pi(A)``;
redoing its sums gives ``1`` and ``-3`` times ``grad log pi(A)`` -- its batch line weights the B
samples by A(B,B) = -3 although they are plays of (B, A), advantage 1. The signs, which are the
point, agree with ours.)

A gradient step raises ``pi_i(b)`` iff ``g_i[b] > 0`` at uniform policies (the softmax Jacobian
there is ``(I - 1/k)/k`` and ``sum_b g_i[b] = 0``). A batch gradient "points the same way" as the
exact one iff their dot product is positive: a small step along it raises the exact return.
"""

from __future__ import annotations

import sys

import numpy as np

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class BatchError(ValueError):
    """A ``--batch`` argument that does not describe joint actions of the game."""


# -- the mathematics ------------------------------------------------------------------------------
def softmax_policies(shape: tuple[int, ...], logits=None) -> list[np.ndarray]:
    """Each agent's action probabilities; uniform when ``logits`` is None."""
    if logits is None:
        return [np.full(k, 1.0 / k) for k in shape]
    out = []
    for theta in logits:
        z = np.exp(np.asarray(theta, dtype=float) - np.max(theta))
        out.append(z / z.sum())
    return out


def joint_distribution(policies: list[np.ndarray]) -> np.ndarray:
    """Probability of every joint action, ``[k_1, ..., k_n]`` (independent agents)."""
    joint = np.ones(())
    for p in policies:
        joint = np.multiply.outer(joint, p)
    return joint


def expected_returns(payoffs, logits=None) -> np.ndarray:
    """``V_i = E_{a~pi}[R_i(a)]`` for every agent, ``[n]``."""
    payoffs = np.asarray(payoffs, dtype=float)
    joint = joint_distribution(softmax_policies(payoffs.shape[:-1], logits))
    return np.tensordot(joint, payoffs, axes=joint.ndim)


def action_values(payoffs, logits=None) -> list[np.ndarray]:
    """``Q_i(b) = E[R_i | a_i = b]`` (the other agents drawn from their policies), per agent."""
    payoffs = np.asarray(payoffs, dtype=float)
    policies = softmax_policies(payoffs.shape[:-1], logits)
    values = []
    for i in range(len(policies)):
        table = np.moveaxis(payoffs[..., i], i, 0)  # [k_i, others...]
        others = joint_distribution([p for j, p in enumerate(policies) if j != i])
        values.append(np.tensordot(table, others, axes=others.ndim))
    return values


def exact_gradient(payoffs, logits=None) -> list[np.ndarray]:
    """``E_{a~pi}[R_i(a) grad log pi_i(a_i)]`` w.r.t. agent i's logits, per agent ``[k_i]``."""
    payoffs = np.asarray(payoffs, dtype=float)
    policies = softmax_policies(payoffs.shape[:-1], logits)
    grads = []
    for p, q in zip(policies, action_values(payoffs, logits)):
        grads.append(_clean(p * (q - p @ q)))
    return grads


def batch_gradient(payoffs, batch: list[tuple[int, ...]], logits=None) -> list[np.ndarray]:
    """The Monte Carlo estimate ``1/n sum_t R_i(a_t) grad log pi_i(a_t,i)`` per agent ``[k_i]``."""
    payoffs = np.asarray(payoffs, dtype=float)
    policies = softmax_policies(payoffs.shape[:-1], logits)
    grads = [np.zeros_like(p) for p in policies]
    for joint in batch:
        rewards = payoffs[tuple(joint)]
        for i, p in enumerate(policies):
            score = -p.copy()
            score[joint[i]] += 1.0
            grads[i] += rewards[i] * score
    return [_clean(g / len(batch)) for g in grads]


def _clean(g: np.ndarray) -> np.ndarray:
    """Rounding-level values (a tie computed as -1e-17) -> exactly 0, so none prints as -0.0000."""
    return np.where(np.abs(g) < 1e-12, 0.0, g)


def parse_batch(text: str, shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """``A,B,A,B:B,A,B,A`` (agent 1's actions : agent 2's actions ...; A, B, C... = action 0, 1,
    2...) -> joint actions as index tuples."""
    n = len(shape)
    valid = "; ".join(f"agent {i + 1}: {','.join(LETTERS[:k])}" for i, k in enumerate(shape))
    usage = f"--batch needs one comma-separated action list per agent, separated by ':', all of the same length (e.g. {_example(shape)}); actions {valid}"
    groups = text.split(":")
    if len(groups) != n:
        raise BatchError(f"--batch {text!r} has {len(groups)} action list(s); the game has {n} agents. {usage}")
    columns = []
    for i, group in enumerate(groups):
        names = [s.strip().upper() for s in group.split(",")]
        if any(not s for s in names):
            raise BatchError(f"--batch {text!r}: agent {i + 1}'s list has an empty action. {usage}")
        for s in names:
            if len(s) != 1 or s not in LETTERS[: shape[i]]:
                raise BatchError(f"--batch {text!r}: agent {i + 1} has no action {s!r}. {usage}")
        columns.append([LETTERS.index(s) for s in names])
    if len({len(c) for c in columns}) != 1:
        lengths = ", ".join(str(len(c)) for c in columns)
        raise BatchError(f"--batch {text!r}: the lists have lengths {lengths}. {usage}")
    return list(zip(*columns))


def _example(shape: tuple[int, ...]) -> str:
    return ":".join(",".join(LETTERS[: min(k, 2)] * 2) for k in shape)


# -- the command ------------------------------------------------------------------------------------
def gradient_main(game: str, variant: str, batch: str | None, specs: str | None = None) -> int:
    from maprops.shipped import default_specs
    from maprops.specs import SpecLibrary
    from maprops.specs.errors import SpecError, SpecErrors
    from maprops.specs.games import MatrixGameSpec

    def fail(message: str) -> int:
        print(f"maprops gradient: {message}", file=sys.stderr)
        return 2

    specs = specs or default_specs()
    try:
        library = SpecLibrary(specs)
    except (SpecErrors, SpecError) as err:
        return fail(f"the specs in {specs} do not validate (run `maprops validate {specs}`): {str(err).splitlines()[0]}")
    matrix = sorted(name for name, g in library.games.items() if isinstance(g, MatrixGameSpec))
    spec = library.games.get(game)
    if not isinstance(spec, MatrixGameSpec):
        what = "is not a matrix game" if spec is not None else "is not a game"
        return fail(f"{game!r} {what}; matrix games: {', '.join(matrix)}")
    if variant not in spec.variant_names:
        return fail(f"game {game!r} has no variant {variant!r}; variants: {', '.join(spec.variant_names)}")
    payoffs = spec.payoff_tensor(variant)
    shape = payoffs.shape[:-1]
    plays = None
    if batch is not None:
        try:
            plays = parse_batch(batch, shape)
        except BatchError as err:
            return fail(str(err))
    print(report(spec, variant, payoffs, plays), end="")
    return 0


def report(spec, variant: str, payoffs: np.ndarray, plays: list[tuple[int, ...]] | None) -> str:
    """The table printed by ``maprops gradient``."""
    shape = payoffs.shape[:-1]
    names = spec.actions
    exact, values = exact_gradient(payoffs), action_values(payoffs)
    expected = expected_returns(payoffs)
    lines = [
        f"{spec.name} ({variant}): {spec.title}",
        "gradient of each agent's expected own reward w.r.t. its softmax logits, at uniform policies",
        "exact: E[r_i(a) grad log pi_i(a_i)]; E[r|a]: agent's expected reward when it plays a",
    ]
    if plays is not None:
        counts: dict[tuple[int, ...], int] = {}
        for joint in plays:
            counts[joint] = counts.get(joint, 0) + 1
        listed = ", ".join(f"{_joint(names, j)} x{c}" for j, c in counts.items())
        lines.append(f"batch: {len(plays)} plays: {listed}; batch = 1/n sum_t r_i(a_t) grad log pi_i(a_t,i)")
        sampled = batch_gradient(payoffs, plays)
    optimal_parts = [{spec.joint_index(j)[i] for j in spec.optimal} for i in range(len(shape))]
    optimal_text = " or ".join(_joint(names, spec.joint_index(j)) for j in spec.optimal)
    for i, k in enumerate(shape):
        lines.append("")
        lines.append(f"agent {i + 1} (expected reward {expected[i]:g})")
        header = f"  {'action':<6}  {'E[r|a]':>8}  {'exact':>9}"
        if plays is not None:
            header += f"  {'batch r|a':>9}  {'batch':>9}"
        lines.append(header)
        for b in range(k):
            row = f"  {names[i][b]:<6}  {values[i][b]:>8.4g}  {exact[i][b]:>+9.4f}"
            if plays is not None:
                mine = [payoffs[j][i] for j in plays if j[i] == b]
                mean = f"{np.mean(mine):.4g}" if mine else "-"
                row += f"  {mean:>9}  {sampled[i][b]:>+9.4f}"
            lines.append(row)
        part = ", ".join(names[i][b] for b in sorted(optimal_parts[i]))
        raised = all(exact[i][b] > 1e-12 for b in optimal_parts[i])
        lowered = any(exact[i][b] < -1e-12 for b in optimal_parts[i])
        verdict = "yes" if raised else ("no, it lowers it" if lowered else "no, zero (a tie)")
        lines.append(f"  exact gradient raises the probability of {part} (its part of optimal {optimal_text}): {verdict}")
        if plays is not None:
            dot = float(exact[i] @ sampled[i])
            norms = float(np.linalg.norm(exact[i]) * np.linalg.norm(sampled[i]))
            if np.linalg.norm(exact[i]) < 1e-12:
                lines.append("  batch gradient vs exact: the exact gradient is zero, no direction to compare")
            elif norms < 1e-12:
                lines.append("  batch gradient points the same way as the exact one: no (the batch gradient is zero)")
            else:
                same = "yes" if dot > 0 else "NO"
                lines.append(f"  batch gradient points the same way as the exact one: {same} (cosine {dot / norms:+.2f})")
    return "\n".join(lines) + "\n"


def _joint(names, joint) -> str:
    return "(" + ",".join(names[i][a] for i, a in enumerate(joint)) + ")"
