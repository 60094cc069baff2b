"""Does the expected policy gradient at uniform random policies encourage cooperation?

The paper rescales some games' rewards so that, when every agent plays uniformly at random (the
policies at initialisation), each agent's expected policy gradient favours cooperating: the
failure mode it studies is sampling error pointing a batch's gradient away from a *good*
expected gradient. This module checks that premise on our game specs with the real game cores
(the simulation and its statistics; the command, its lines and its CSV are
:mod:`pipeline.premise_table`):

    maprops premise [GAME ...] [--variant V] [--episodes N] [--seed S] [--specs DIR] [--csv FILE]

A game whose core declares no cooperative action (a PettingZoo task: nothing says which of its
actions cooperate) has nothing to check: skipped, with a ``#`` line, when every game is checked,
and refused when named.

Per (game, variant), with every agent uniform over its actions and independent:

- **Events per episode.** ``joint``: the cooperative reward events (GridWorld: every agent
  enters the team cell on the same step; BoulderPush: a joint push; LBF: a food loaded; a
  matrix game: the optimal joint action is played). ``penalties``: the penalized lone attempts,
  summed over agents (GridWorld: an agent entering the team cell without the others; BoulderPush:
  a move into the boulder that is not part of a joint push; LBF: a load next to food that falls
  short). Counted by the cores themselves (``StepResult.events``).
- **Gradient on the cooperative action.** Agent ``i``'s policy gets one scalar logit bias ``b``
  added to the logit(s) of its *cooperative action(s)* ``C_i(s)`` in every state (the core's
  ``cooperative_actions``: GridWorld, the moves that bring the agent strictly closer to the team
  cell; BoulderPush, the move in the boulder's push direction; LBF, load; a matrix game, the
  agent's actions in a declared optimal joint action). We estimate, at ``b = 0`` (uniform),

      g_i = d/db E[ sum_t gamma^t r_{i,t} ]
          = E[ sum_t gamma^t r_{i,t} sum_{t' <= t} (1{a_{i,t'} in C_i(s_t')} - |C_i(s_t')| / K_i) ]

  (REINFORCE; ``r_i`` is agent ``i``'s own reward, ``gamma`` Table 2's discount, ``t`` counted from
  the episode's first step, ``K_i`` the agent's action count). Equivalently the mean over episodes
  of ``sum_t G_t (1{a_{i,t} in C} - |C|/K)`` with ``G_t = sum_{k >= t} gamma^k r_{i,k}`` discounted
  to the episode's start. ``g_i > 0`` means a small step of gradient ascent raises the
  probability of cooperating. For a matrix game (one step, no discount) it is also computed
  exactly, ``sum_{b in C_i} pi_i(b) (Q_i(b) - V_i)`` (:mod:`maprops.gradient`).
- **Verdict.** The premise *holds* when every agent's gradient is positive with its whole 95% CI
  (matrix games: the exact gradient); it *fails* when some agent's CI lies entirely below 0 (or
  an exact gradient is 0 or below); otherwise it is *inconclusive*.

CIs are 95% normal approximations over episodes (mean +- 1.96 standard errors); for event
counts the lower end is clipped at 0, and an event never seen in ``n`` episodes gets ``[0, 3/n]``
(the rule of three) instead of the degenerate ``[0, 0]``.
Episode ``j`` of seed ``s`` draws all its numbers from its own stream (``maprops.rng``), so the
estimates do not depend on how episodes are batched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from maprops.rng import SeedStreams, Tag, tag_hash

Z95 = 1.959963984540054
CHUNK = 4096  # episodes stepped at once
HOLDS, FAILS, INCONCLUSIVE = "holds", "FAILS", "inconclusive"
ENCOURAGES, DISCOURAGES, UNCLEAR, ZERO = "encourages", "discourages", "inconclusive", "exactly 0"
CI_METHOD = "normal approximation over episodes (counts: clipped at 0; rule of three when no event is seen)"


@dataclass(frozen=True)
class Interval:
    """A mean and its 95% CI."""

    value: float
    low: float
    high: float


def normal_mean_ci(values: np.ndarray, counts: bool = False) -> Interval:
    """Mean and 95% normal-approximation CI over episodes; ``counts``: nonnegative event counts,
    whose CI is clipped at 0 and for which all zeros give the rule-of-three bound ``[0, 3/n]``."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    mean = float(values.mean())
    if counts and not values.any():
        return Interval(0.0, 0.0, 3.0 / n)
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return Interval(mean, max(mean - half, 0.0) if counts else mean - half, mean + half)


@dataclass(frozen=True)
class EpisodeOutcomes:
    """Per-episode outcomes under uniform policies: ``joint [n]``, ``lone [n, N]`` (None when
    the game counts no lone attempts), ``gradient [n, N]``."""

    joint: np.ndarray
    lone: np.ndarray | None
    gradient: np.ndarray


def episode_streams(seed: int, first: int, count: int) -> SeedStreams:
    """Episodes ``first .. first+count-1`` of ``seed``, each with a stream of its own."""
    return SeedStreams([tag_hash((seed, j)) for j in range(first, first + count)])


def _uniforms(rng: SeedStreams, tag: tuple, count: int) -> torch.Tensor | None:
    """``count`` uniforms per episode ``[m, 1, count]`` (None when the core needs none)."""
    return rng.uniform(tag, (1, count)) if count else None


@torch.no_grad()
def play_uniform(game, episodes: int, seed: int, gamma: float, chunk: int = CHUNK) -> EpisodeOutcomes:
    """Play ``episodes`` episodes of a core with every agent uniform over its actions; see the
    module docstring for what is recorded."""
    n = game.n_agents
    k = torch.tensor(game.n_actions, dtype=torch.float64)
    joint, lone, gradient = [], [], []
    has_lone = True
    for first in range(0, episodes, chunk):
        m = min(chunk, episodes - first)
        rng = episode_streams(seed, first, m)
        game.reset((m, 1), _uniforms(rng, (Tag.RESET,), game.random_numbers_per_reset))
        live = torch.ones(m, 1, dtype=torch.bool)
        score = torch.zeros(m, 1, n, dtype=torch.float64)  # sum of the scores so far
        grad = torch.zeros(m, 1, n, dtype=torch.float64)
        joint_count = torch.zeros(m, 1, dtype=torch.float64)
        lone_count = torch.zeros(m, 1, n, dtype=torch.float64)
        for t in range(game.max_episode_steps):
            cooperative = game.cooperative_actions().expand(m, 1, n, -1)
            actions = (rng.uniform((Tag.ACT, t), (1, n)) * k).long().minimum(k.long() - 1)  # [m, 1, N]
            chosen = cooperative.gather(-1, actions.unsqueeze(-1)).squeeze(-1).double()
            result = game.step(actions, _uniforms(rng, (Tag.GAME, t), game.random_numbers_per_step))
            alive = live.unsqueeze(-1).double()
            score += alive * (chosen - cooperative.sum(-1).double() / k)
            grad += alive * gamma**t * result.rewards.double() * score
            joint_count += live.double() * result.events["joint"].double()
            if "lone" in result.events:
                lone_count += alive * result.events["lone"].double()
            else:
                has_lone = False
            live &= ~result.done
            if not bool(live.any()):
                break
        joint.append(joint_count[:, 0].numpy())
        lone.append(lone_count[:, 0].numpy())
        gradient.append(grad[:, 0].numpy())
    return EpisodeOutcomes(np.concatenate(joint), np.concatenate(lone) if has_lone else None, np.concatenate(gradient))


# -- one game ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentResult:
    agent: int  # 1-based
    cooperative: str  # the cooperative action(s) in words
    gradient: Interval  # Monte Carlo
    exact: float | None  # matrix games
    penalties: Interval | None  # this agent's penalized lone attempts per episode
    verdict: str  # encourages / discourages / inconclusive / zero


@dataclass(frozen=True)
class PremiseResult:
    game: str
    variant: str
    kind: str
    episodes: int
    seed: int
    gamma: float
    joint: Interval  # cooperative reward events per episode
    penalties: Interval | None  # penalized lone attempts per episode, all agents
    p_optimal: float | None  # matrix games: exact probability of an optimal joint action
    agents: tuple[AgentResult, ...]

    @property
    def verdict(self) -> str:
        verdicts = [a.verdict for a in self.agents]
        if all(v == ENCOURAGES for v in verdicts):
            return HOLDS
        if any(v in (DISCOURAGES, ZERO) for v in verdicts):
            return FAILS
        return INCONCLUSIVE

    @property
    def ratio(self) -> float | None:
        """Penalties per joint reward event (None: the game has no lone penalties)."""
        if self.penalties is None:
            return None
        return self.penalties.value / self.joint.value if self.joint.value > 0 else math.inf


def sign_verdict(ci: Interval) -> str:
    if ci.low > 0:
        return ENCOURAGES
    if ci.high < 0:
        return DISCOURAGES
    return UNCLEAR


def exact_verdict(value: float) -> str:
    if value > 1e-12:
        return ENCOURAGES
    if value < -1e-12:
        return DISCOURAGES
    return ZERO


def declares_cooperation(spec) -> bool:
    """Whether a game's core names cooperative actions, which the check biases; read off the core
    class (no game is built). A PettingZoo task names none: the check has nothing to test there."""
    from maprops.kinds import game_kind
    from maprops.kinds.base import load_class

    return hasattr(load_class(game_kind(spec.kind).core), "cooperative_actions")


def estimate(spec, variant: str, episodes: int, seed: int, gamma: float) -> PremiseResult:
    """The premise of one game spec's variant, from ``episodes`` episodes of its core."""
    from maprops.games import make_game
    from maprops.gradient import exact_gradient
    from maprops.kinds.matrix import MatrixGameSpec

    if episodes < 2:
        raise ValueError(f"episodes must be at least 2 (a CI needs two), got {episodes}")
    game = make_game(spec.to_config(variant))
    if not hasattr(game, "cooperative_actions"):
        raise ValueError(f"game {spec.name!r}: its core ({type(game).__name__}) declares no cooperative actions")
    played = play_uniform(game, episodes, seed, gamma)
    matrix = isinstance(spec, MatrixGameSpec)
    exact = p_optimal = None
    if matrix:
        mask = game.cooperative_actions()[0, 0].numpy()  # [N, K]
        exact = [float(g[mask[i, : len(g)]].sum()) for i, g in enumerate(exact_gradient(spec.payoff_tensor(variant)))]
        p_optimal = len(spec.optimal) / math.prod(game.n_actions)
    agents = []
    for i in range(game.n_agents):
        ci = normal_mean_ci(played.gradient[:, i])
        agents.append(
            AgentResult(
                agent=i + 1,
                cooperative=cooperative_words(spec, game, i),
                gradient=ci,
                exact=exact[i] if matrix else None,
                penalties=normal_mean_ci(played.lone[:, i], counts=True) if played.lone is not None else None,
                verdict=exact_verdict(exact[i]) if matrix else sign_verdict(ci),
            )
        )
    return PremiseResult(
        game=spec.name,
        variant=variant,
        kind=spec.kind,
        episodes=episodes,
        seed=seed,
        gamma=gamma,
        joint=normal_mean_ci(played.joint, counts=True),
        penalties=normal_mean_ci(played.lone.sum(1), counts=True) if played.lone is not None else None,
        p_optimal=p_optimal,
        agents=tuple(agents),
    )


def cooperative_words(spec, game, agent: int) -> str:
    """Agent ``agent``'s cooperative action(s): the core's label, or for a matrix game the
    action names (``A``, or ``A/C`` with two optimal joint actions)."""
    names = getattr(spec, "actions", None)
    if names is None:
        return game.cooperative_label
    mask = game.cooperative_actions()[0, 0, agent]
    return "/".join(names[agent][b] for b in range(len(names[agent])) if bool(mask[b]))
