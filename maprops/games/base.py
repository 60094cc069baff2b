"""The one interface every game core implements, batched over a leading run axis.

A *run axis* ``[S, E]`` is seeds x parallel environments per seed. Cores are pure tensor code
with no PettingZoo or gym objects, so a block of 100 seeds steps in a few tensor ops; the
PettingZoo adapter (``maprops.games.parallel_env``) wraps a core with ``S = E = 1`` for
interoperability and API tests.

Randomness enters only through the uniforms passed to ``reset``/``step``, drawn by the caller
from per-seed streams, so a seed's trajectory never depends on its block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import torch


@dataclass(frozen=True)
class StepResult:
    obs: torch.Tensor  # [S, E, N, obs_dim] observation after the step (after auto-reset)
    rewards: torch.Tensor  # [S, E, N] per-agent rewards
    done: torch.Tensor  # [S, E] bool: the episode ended at this step (terminated or truncated)
    success: torch.Tensor  # [S, E] bool: the episode that ended here solved the task
    truncated: torch.Tensor  # [S, E] bool: the episode ended by the time limit (subset of done)
    # What happened on this step, read-only, for analysis (``maprops premise``); training ignores
    # it. ``"joint"`` [S, E]: cooperative reward events (the team's success: a joint push, a food
    # loaded, the team cell reached together, an optimal joint action); ``"lone"`` [S, E, N]:
    # each agent's penalized attempt at it without the others. A core lists only what it has.
    events: dict[str, torch.Tensor] = field(default_factory=dict)


class BatchedGame(Protocol):
    n_agents: int
    n_actions: tuple[int, ...]  # per agent
    obs_dim: int  # per agent
    max_episode_steps: int
    random_numbers_per_step: int  # uniforms step() consumes per env (0 for deterministic games)
    random_numbers_per_reset: int  # uniforms reset() consumes per env
    obs_bounds: tuple[float, float]  # every observation entry lies in [low, high]

    @property
    def n_joint_actions(self) -> int: ...

    def reset(self, batch: tuple[int, int], uniforms: torch.Tensor | None) -> torch.Tensor:
        """Start ``batch = (S, E)`` episodes; returns observations ``[S, E, N, obs_dim]``."""

    def step(self, actions: torch.Tensor, uniforms: torch.Tensor | None) -> StepResult:
        """Apply joint actions ``[S, E, N]``; finished episodes restart automatically."""

    def state_index(self, obs: torch.Tensor) -> torch.Tensor:
        """A finite game's joint-state id for each observation ``[S, E, N, d] -> [S, E]``."""

    # Optional, for ``maprops premise``: ``cooperative_actions()`` -> bool ``[S, E, N, K]`` (or
    # broadcastable to it): each agent's cooperative action(s) in the current state, the
    # actions a logit bias is put on; ``cooperative_label`` says in words which they are.


class JointActionCount:
    """Mixin for cores: the number of joint actions follows from ``n_actions``."""

    n_actions: tuple[int, ...]

    @classmethod
    def from_config(cls, config):
        """The core of a resolved game config (what the registry builds): by default the
        config's parameters are the constructor's keyword arguments."""
        return cls(**config.model_dump(exclude={"kind", "variant"}))

    @property
    def n_joint_actions(self) -> int:
        return math.prod(self.n_actions)
