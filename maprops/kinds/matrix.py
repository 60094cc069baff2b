"""The matrix (normal-form) game kind: its resolved config, its spec file model and its registry entry.

A matrix game file holds the paper's original payoff table and, per named variant, the list of
joint actions whose rewards change (Appendix E). The played table of a variant is computed, so
the original and the modified game never exist as two hand-typed copies. Core:
:mod:`maprops.games.matrix`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from maprops.kinds.base import ORIGINAL, Budget, GameCost, GameKind
from maprops.spec_types import FLOAT32_MAX, Float, Frozen, Int, quoted_number_hint


class MatrixGameConfig(Frozen):
    """A normal-form game played once per episode (paper §6; docs/implementation.md#matrix-game-episodes).

    ``payoffs`` has shape ``[k_1, ..., k_n, n]``: entry ``[a_1, ..., a_n, i]`` is agent i's
    reward for joint action ``(a_1, ..., a_n)``. The payoffs here are the ones actually played,
    i.e. with the chosen reward variant already applied.
    """

    sampling_error: ClassVar[str] = "tv"

    kind: Literal["matrix"] = "matrix"
    name: str
    variant: str = "original"
    payoffs: list  # nested lists of numbers, shape [k_1, ..., k_n, n]
    optimal: tuple[tuple[Int, ...], ...] = Field(min_length=1)


class PayoffChange(Frozen):
    """Set the rewards of one joint action: ``rewards`` per agent, or a common ``reward``."""

    joint_action: tuple[str, ...]
    rewards: tuple[Float, ...] | None = None
    reward: Float | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PayoffChange:
        if (self.rewards is None) == (self.reward is None):
            raise ValueError("give exactly one of 'rewards' (one per agent) or 'reward' (common)")
        return self


class Variant(Frozen):
    """A reward modification: where the paper states it, and the payoffs it changes."""

    source: str
    set: tuple[PayoffChange, ...] = Field(min_length=1)


class MatrixGameSpec(Frozen):
    """A normal-form game; agent 1 picks the first index (the row)."""

    kind: Literal["matrix"]
    name: str
    title: str
    hyperparams: str = Field(description="row of specs/hyperparams/table3.yaml")
    actions: tuple[tuple[str, ...], ...] = Field(min_length=1, description="action names per agent")
    payoffs: Any = Field(default=None, description="nested list, shape [k_1..k_n, n]: reward per agent")
    common_payoff: Any = Field(default=None, description="nested list, shape [k_1..k_n]: shared reward")
    optimal: tuple[tuple[str, ...], ...] = Field(min_length=1, description="optimal joint actions")
    optimal_reason: str | None = Field(
        default=None,
        description="why a declared optimal joint action need not maximize the team's summed payoff "
        "(without it, every one must, in the original game and in every variant)",
    )
    variants: dict[str, Variant] = {}
    budget: Budget

    @field_validator("actions")
    @classmethod
    def _distinct_names(cls, actions):
        for i, names in enumerate(actions):
            if len(names) < 2 or len(set(names)) != len(names):
                raise ValueError(f"agent {i + 1} needs at least two distinct action names, got {list(names)}")
        return actions

    @field_validator("payoffs", "common_payoff")
    @classmethod
    def _shape_matches_actions(cls, value, info: ValidationInfo):
        if value is None:
            return value
        _check_numbers(value, ())
        if "actions" not in info.data:
            return value
        actions = info.data["actions"]
        shape = tuple(len(a) for a in actions)
        if info.field_name == "payoffs":
            shape += (len(actions),)
        try:
            array = np.asarray(value, dtype=float)
        except (ValueError, TypeError):
            raise ValueError(f"must be a regular nested list of numbers of shape {list(shape)}") from None
        if array.shape != shape:
            raise ValueError(f"has shape {list(array.shape)}; the actions need {list(shape)}")
        if not np.isfinite(array).all():
            raise ValueError("contains a non-finite number")
        return value

    @field_validator("optimal")
    @classmethod
    def _optimal_names_exist(cls, optimal, info: ValidationInfo):
        for joint in optimal:
            _joint_index(info.data.get("actions", ()), joint)
        return optimal

    @field_validator("variants")
    @classmethod
    def _variant_changes_fit(cls, variants, info: ValidationInfo):
        if ORIGINAL in variants:
            raise ValueError(f"variant name {ORIGINAL!r} is reserved for the unmodified game")
        actions = info.data.get("actions", ())
        for name, variant in variants.items():
            for change in variant.set:
                _joint_index(actions, change.joint_action)
                if change.rewards is not None and len(change.rewards) != len(actions):
                    raise ValueError(f"{name}: 'rewards' needs one value per agent ({len(actions)})")
        return variants

    @model_validator(mode="after")
    def _one_payoff_table(self) -> MatrixGameSpec:
        if (self.payoffs is None) == (self.common_payoff is None):
            raise ValueError("give exactly one of 'payoffs' (per agent) or 'common_payoff'")
        return self

    @model_validator(mode="after")
    def _optimal_maximizes_team_payoff(self) -> MatrixGameSpec:
        """Each declared optimal joint action maximizes the sum of the agents' payoffs, in the
        original game and in every variant -- or ``optimal_reason`` says why not."""
        problems = []  # (where, message)
        for variant in self.variant_names:
            team = self.payoff_tensor(variant).sum(axis=-1)
            best = team.max()
            best_joint = [names[i] for names, i in zip(self.actions, np.unravel_index(team.argmax(), team.shape))]
            for k, joint in enumerate(self.optimal):
                value = team[self.joint_index(joint)]
                if not np.isclose(value, best, rtol=1e-9, atol=1e-12):
                    where = ("optimal", k) if variant == ORIGINAL else ("variants", variant)
                    game = "the original game" if variant == ORIGINAL else f"variant {variant!r}"
                    problems.append(
                        (
                            where,
                            (
                                f"optimal joint action {list(joint)} is not optimal in {game}: the team's summed payoff "
                                f"there is {value:g}, but {best_joint} gets {best:g}; correct 'optimal' or say why in 'optimal_reason'"
                            ),
                        )
                    )
        if self.optimal_reason is None and problems:
            where, message = problems[0]
            raise PydanticCustomError("spec_value", "{message}", {"message": message, "at": where})
        if self.optimal_reason is not None and not problems:
            raise PydanticCustomError(
                "spec_value",
                "{message}",
                {
                    "message": "every declared optimal joint action maximizes the team's summed payoff in every variant: "
                    "remove 'optimal_reason'",
                    "at": ("optimal_reason",),
                },
            )
        return self

    @property
    def num_agents(self) -> int:
        return len(self.actions)

    @property
    def variant_names(self) -> tuple[str, ...]:
        return (ORIGINAL, *self.variants)

    def joint_index(self, joint: tuple[str, ...]) -> tuple[int, ...]:
        return _joint_index(self.actions, joint)

    def payoff_tensor(self, variant: str = ORIGINAL) -> np.ndarray:
        """Rewards ``[k_1, ..., k_n, n]`` of the game as played under ``variant``."""
        if self.payoffs is not None:
            table = np.array(self.payoffs, dtype=float)
        else:
            common = np.array(self.common_payoff, dtype=float)
            table = np.repeat(common[..., None], self.num_agents, axis=-1)
        if variant != ORIGINAL:
            for change in self.variant(variant).set:
                new = change.rewards if change.rewards is not None else (change.reward,) * self.num_agents
                table[self.joint_index(change.joint_action)] = new
        return table

    def variant(self, name: str) -> Variant:
        if name not in self.variants:
            raise KeyError(f"game {self.name!r} has no variant {name!r}; known: {', '.join(self.variant_names)}")
        return self.variants[name]

    def to_config(self, variant: str = ORIGINAL) -> MatrixGameConfig:
        """The resolved game a training run needs."""
        return MatrixGameConfig(
            name=self.name,
            variant=variant,
            payoffs=self.payoff_tensor(variant).tolist(),
            optimal=tuple(self.joint_index(j) for j in self.optimal),
        )


def _check_numbers(value: Any, at: tuple) -> None:
    """Every leaf of a nested payoff list is an int or a float within float32 -- never a string
    or a boolean (YAML reads ``"0"`` as text and ``true`` as a boolean). The error names the entry."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_numbers(item, (*at, i))
        return
    if isinstance(value, bool):
        message = f"must be a number, got the boolean {str(value).lower()}"
    elif isinstance(value, str):
        message = f"must be a number, got the string {value!r}{quoted_number_hint(value)}"
    elif not isinstance(value, (int, float)):
        message = f"must be a number, got {type(value).__name__} {value!r}"
    elif not np.isfinite(value):
        message = f"must be a finite number, got {value}"
    elif abs(value) > FLOAT32_MAX:
        message = f"{value:g} is outside the float32 range training uses (|x| <= {FLOAT32_MAX:.7g})"
    else:
        return
    raise PydanticCustomError("spec_value", "{message}", {"message": message, "at": at})


def _joint_index(actions: tuple[tuple[str, ...], ...], joint: tuple[str, ...]) -> tuple[int, ...]:
    """Action names -> indices, with an error that lists the known names."""
    if len(joint) != len(actions):
        raise ValueError(f"joint action {list(joint)} needs one action per agent ({len(actions)})")
    index = []
    for agent, (name, names) in enumerate(zip(joint, actions)):
        if name not in names:
            raise ValueError(f"agent {agent + 1} has no action {name!r}; known: {', '.join(names)}")
        index.append(names.index(name))
    return tuple(index)


KIND = GameKind(
    name="matrix",
    label="Matrix game",
    config=MatrixGameConfig,
    spec=MatrixGameSpec,
    core="maprops.games.matrix:MatrixGame",
    cost=GameCost(step_s=1e-5, update_seed_s=1.8e-3, update_sample_s=2e-5, eval_s=1.5e-3, error_s=1e-4, bytes_per_sample=2_200),
)
