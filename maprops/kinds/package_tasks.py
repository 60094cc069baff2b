"""What the game kinds built on a simulator package share (``kind: pettingzoo``, ``kind: vmas``).

Such a task is given by spec alone: the package steps it, and the spec declares when an episode
counts as solved (:class:`SuccessRule`). Reading its spec builds the environment to check what
the engine needs of it; a task the engine cannot play is an :class:`EnvProblem` naming the spec
field to blame, which :func:`spec_problem` turns into a ``FILE:LINE: field`` error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from maprops.spec_types import Float, Frozen


class SuccessRule(Frozen):
    """When an episode counts as solved; exactly one rule. The *team reward* of a step is the
    mean of the agents' rewards (every agent itself is trained on its own reward, as the env pays
    it); the *team return* is its sum over the episode, undiscounted."""

    terminated: Literal[True] | None = Field(
        default=None, description="the environment ended the episode itself (termination), not the time limit"
    )
    team_return_at_least: Float | None = Field(default=None, description="the episode's team return reaches this")

    @model_validator(mode="after")
    def _exactly_one(self) -> SuccessRule:
        chosen = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(chosen) != 1:
            rules = ", ".join(type(self).model_fields)
            raise ValueError(f"declare exactly one success rule ({rules}); got {len(chosen)}")
        return self

    def solved(self, terminated: bool, team_return: float) -> bool:
        """Whether an episode that ended this way (``terminated``: by the env, not a time limit)
        with this team return counts as a success."""
        if self.terminated:
            return terminated
        return team_return >= self.team_return_at_least


class EnvProblem(ValueError):
    """The configured environment cannot be a game here; ``field`` is the spec field to blame."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def spec_problem(field: str, message: str) -> PydanticCustomError:
    """An error the spec library reports at ``field``'s line (``maprops/specs/load.py``)."""
    return PydanticCustomError("spec_value", "{message}", {"message": message, "at": (field,)})


def task_size(agents: tuple, n_actions: int | None) -> tuple[int, int | None]:
    """Agents and joint actions (None for Box actions) of a package task: what the cost model
    scales its kind's constants by (``GameCost.for_agents``)."""
    return len(agents), None if n_actions is None else n_actions ** len(agents)
