"""``maprops gradient``: the exact policy gradient is the gradient of the exact expected return,
a batch with the exact joint distribution estimates it exactly, the paper's Fig. 1 / Appendix B
sign flip, the Appendix E property from the command line, and bad input."""

import itertools

import numpy as np
import pytest
import torch

from maprops.cli import main
from maprops.gradient import batch_gradient, exact_gradient, expected_returns, parse_batch


def autograd_gradient(payoffs: np.ndarray, logits: list[np.ndarray]) -> list[np.ndarray]:
    thetas = [torch.tensor(t, dtype=torch.float64, requires_grad=True) for t in logits]
    joint = torch.ones((), dtype=torch.float64)
    for t in thetas:
        joint = torch.einsum("...,k->...k", joint, torch.softmax(t, 0))
    grads = []
    for i in range(payoffs.shape[-1]):
        value = (joint * torch.as_tensor(payoffs[..., i])).sum()
        (g,) = torch.autograd.grad(value, thetas[i], retain_graph=True)
        grads.append(g.numpy())
    return grads


@pytest.mark.parametrize("shape", [(2, 2), (3, 3), (2, 3, 2)])
def test_exact_gradient_is_gradient_of_expected_return(shape):
    rng = np.random.default_rng(len(shape) * 10 + shape[0])
    payoffs = rng.normal(size=(*shape, len(shape)))
    for logits in ([np.zeros(k) for k in shape], [rng.normal(size=k) for k in shape]):
        exact = exact_gradient(payoffs, logits)
        for got, want in zip(exact, autograd_gradient(payoffs, logits)):
            np.testing.assert_allclose(got, want, atol=1e-12)
        h = 1e-6  # central finite differences of V_i in agent i's own logits
        for i, k in enumerate(shape):
            for b in range(k):
                up = [t.copy() for t in logits]
                down = [t.copy() for t in logits]
                up[i][b] += h
                down[i][b] -= h
                fd = (expected_returns(payoffs, up)[i] - expected_returns(payoffs, down)[i]) / (2 * h)
                assert abs(fd - exact[i][b]) < 1e-7


def test_batch_with_exact_joint_distribution_gives_exact_gradient():
    rng = np.random.default_rng(0)
    payoffs = rng.normal(size=(3, 2, 3))
    every_joint_once = list(itertools.product(range(3), range(2)))  # uniform policies: exact
    for got, want in zip(batch_gradient(payoffs, every_joint_once * 2), exact_gradient(payoffs)):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_parse_batch():
    assert parse_batch("A,B,A,B:B,A,B,A", (2, 2)) == [(0, 1), (1, 0), (0, 1), (1, 0)]
    assert parse_batch("a, c:B,A", (3, 2)) == [(0, 1), (2, 0)]


def test_paper_example_sign_flip(capsys):
    """Fig. 1: at uniform policies each agent expects 6 from A and 4 from B, so the exact gradient
    favours A; the batch (A,B),(B,A),(A,B),(B,A) shows each agent reward 0 for A and 6 for B, and
    its gradient favours B (Appendix B: the sign flips although every agent's own actions are
    sampled exactly in proportion)."""
    assert main(["gradient", "fig1", "--batch", "A,B,A,B:B,A,B,A"]) == 0
    out = capsys.readouterr().out
    for agent in ("agent 1", "agent 2"):
        block = out.split(agent)[1]
        rows = {
            line.split()[0]: line.split()[1:] for line in block.splitlines() if line.startswith("  A ") or line.startswith("  B ")
        }
        assert rows["A"] == ["6", "+0.5000", "0", "-1.5000"]
        assert rows["B"] == ["4", "-0.5000", "6", "+1.5000"]
        assert "raises the probability of A (its part of optimal (A,A)): yes" in block
        assert "batch gradient points the same way as the exact one: NO" in block
    # the balanced batch (each joint action once) points the right way
    assert main(["gradient", "fig1", "--batch", "A,A,B,B:A,B,A,B"]) == 0
    out = capsys.readouterr().out
    assert out.count("points the same way as the exact one: yes (cosine +1.00)") == 2


@pytest.mark.parametrize(
    "game, original, modified",
    [
        ("nonconflict_07", "no, zero (a tie)", "yes"),
        ("nonconflict_19", "no, zero (a tie)", "yes"),
        ("climbing", "no, it lowers it", "yes"),
    ],
)
def test_appendix_e_property_from_the_cli(capsys, game, original, modified):
    """The modified games' exact gradient at uniform policies raises every agent's part of the
    optimum; the original fails for at least one agent."""
    assert main(["gradient", game]) == 0
    verdicts = [line.rsplit(": ", 1)[1] for line in capsys.readouterr().out.splitlines() if "exact gradient raises" in line]
    assert original in verdicts
    assert main(["gradient", game, "--variant", "modified"]) == 0
    verdicts = [line.rsplit(": ", 1)[1] for line in capsys.readouterr().out.splitlines() if "exact gradient raises" in line]
    assert verdicts == [modified] * 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], "'nope' is not a game; matrix games: climbing, fig1, nonconflict_01"),
        (["gridworld"], "'gridworld' is not a matrix game; matrix games: climbing"),
        (["fig1", "--variant", "modified"], "game 'fig1' has no variant 'modified'; variants: original"),
        (["nonconflict_19", "--variant", "modifed"], "variants: original, modified"),
        (["fig1", "--batch", "A,B:B"], "the lists have lengths 2, 1"),
        (["fig1", "--batch", "A,C:B,A"], "agent 1 has no action 'C'"),
        (["fig1", "--batch", "A,B"], "has 1 action list(s); the game has 2 agents"),
        (["fig1", "--batch", "A,,B:B,A,A"], "agent 1's list has an empty action"),
    ],
)
def test_errors_one_line_exit_2(capsys, args, message):
    assert main(["gradient", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("maprops gradient: ") and message in lines[0]
    if "--batch" in args:
        assert "actions agent 1: A,B; agent 2: A,B" in lines[0]
