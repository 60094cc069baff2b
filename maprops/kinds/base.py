"""What a registry entry says about a game kind or a sampler, and the spec parts game kinds share.

A *game kind* (``kind:`` in a game spec) is a family of games with one core: ``matrix``,
``gridworld``, ... Its entry names the settings model a spec file writes, the core class that
plays it, the sampling-error metric it supports, the cost constants that size its train jobs and
the name figures print. A *sampler* is an entry with its settings model, its implementation
class per case (per setting and action space) with what each needs of a game, and how figures
draw it. Entries hold class *paths* for cores and samplers, so reading specs (the pipeline,
``maprops validate``) never imports torch or a game package.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pydantic import Field, ValidationError

from maprops.spec_types import Frozen, Int

ORIGINAL = "original"
"""The variant name of a game as written, before any reward modification."""


def load_class(path: str):
    """``"package.module:Class"`` -> the class (imported on first use)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class GameCost:
    """Seconds per unit of work of one game kind's train jobs, fitted to measured jobs
    (pipeline/cost_measurements.csv; the model that uses them is pipeline/resources.py)."""

    step_s: float  # one environment step of one seed
    update_seed_s: float  # fixed part of one behavior update, per seed
    update_sample_s: float  # one behavior update, per seed and buffered sample
    eval_s: float  # one evaluation of one seed
    error_s: float  # one sampling-error measurement of one seed
    bytes_per_sample: int  # memory per seed and held sample
    bytes_per_instance: int = 0  # memory per live environment object, for cores built on a package

    def for_agents(self, n_agents: int, joint_actions: int | None) -> GameCost:
        """These constants, measured with :data:`MEASURED_AGENTS` agents and
        :data:`MEASURED_JOINT_ACTIONS` joint actions, for a task of the same kind with others.

        Stepping, acting and evaluating grow with the square of the agents (each agent's
        observation reads every other entity; mpe2's Simple Spread with 2 -> 6 agents measured
        0.5 -> 5.1 ms per seed and step, 1.0 -> 5.7 s per evaluation); the behavior update and
        the buffers with the agents (one network and one observation per agent); the joint
        maximum-likelihood fit of the sampling error with the joint actions its output layer
        scores (25 -> 15625: 0.16 -> 6.4 s per measurement). Gaussian (continuous) actions have
        no joint action count: their fit is priced as measured."""
        square = (n_agents / MEASURED_AGENTS) ** 2
        linear = n_agents / MEASURED_AGENTS
        extra_actions = max(0, (joint_actions or MEASURED_JOINT_ACTIONS) - MEASURED_JOINT_ACTIONS)
        return replace(
            self,
            step_s=self.step_s * square,
            eval_s=self.eval_s * square,
            update_seed_s=self.update_seed_s * linear,
            update_sample_s=self.update_sample_s * linear,
            error_s=self.error_s + ERROR_S_PER_JOINT_ACTION * extra_actions,
            bytes_per_sample=math.ceil(self.bytes_per_sample * linear),
        )


MEASURED_AGENTS = 2
"""The agents of the tasks the package kinds' cost constants were measured on."""
MEASURED_JOINT_ACTIONS = 25
"""Their joint actions (two agents with five actions each)."""
ERROR_S_PER_JOINT_ACTION = 4e-4
"""Seconds per seed and joint action of one sampling-error measurement (the joint fit's output
layer), beyond the measured tasks': mpe2 Simple Spread with 6 agents, 15625 joint actions, took
6.4 s per seed and measurement (5 seeds, 300 fit steps each, one thread)."""


@dataclass(frozen=True)
class GameKind:
    """One game kind: ``config`` is the resolved game of a run spec, ``spec`` the model of a
    game spec file, ``core`` the path of the batched core class (built by its ``from_config``)."""

    name: str
    label: str
    config: type
    spec: type
    core: str
    cost: GameCost
    # (resolved game as a dict) -> (agents, joint actions or None): for kinds whose tasks differ
    # in size, so the cost model scales ``cost`` to each task (GameCost.for_agents); None: every
    # game of the kind costs ``cost``.
    task_size: Callable[[dict], tuple[int, int | None]] | None = None
    # Game fields the paper leaves open, each with the place in the paper that leaves it open: what
    # a calibration spec may set (maprops/specs/calibrations.py); everything else of a game (rewards,
    # penalties, what the paper states) is fixed. Empty: nothing of this kind can be calibrated.
    open_fields: dict[str, str] = field(default_factory=dict)
    # The packages besides the engine's own (torch, numpy, pydantic) that decide this kind's
    # numbers: every result records their versions (maprops/provenance.py).
    packages: tuple[str, ...] = ()

    def cost_of(self, game: dict) -> GameCost:
        """The cost constants of one resolved game (a run spec's ``game``)."""
        if self.task_size is None:
            return self.cost
        return self.cost.for_agents(*self.task_size(game))

    @property
    def sampling_error(self) -> str:
        """``tv`` (exact on-policy visitation) or ``kl`` (maximum-likelihood estimate)."""
        return self.config.sampling_error

    @staticmethod
    def continuous(game) -> bool:
        """Whether a resolved game (or game spec) has continuous actions: a kind whose games can
        says so per game (``continuous_actions``, e.g. a PettingZoo task with Box actions)."""
        return bool(getattr(game, "continuous_actions", False))

    @property
    def enumerable_states(self) -> bool:
        """The core numbers its joint states (``n_states``, ``state_index``): what exact TV needs."""
        return self.sampling_error == "tv"

    def build(self, config):
        return load_class(self.core).from_config(config)


@dataclass(frozen=True)
class Style:
    """How figures draw one sampler: distinct line style and marker as well as colour, so
    coinciding curves stay visible and prints in grey stay readable."""

    label: str
    color: str
    linestyle: Any
    marker: str


@dataclass(frozen=True)
class Implementation:
    """One class that carries out a sampler: its path for discrete actions and, if it has one, its
    path for continuous (Box) actions sampled from Gaussian policies; and whether it needs a game
    whose joint states are enumerable (it counts or tabulates per joint state). Every class is
    built by its ``from_config(config, actors, target_params, game, rng)``."""

    discrete: str
    continuous: str | None = None
    needs_enumerable_states: bool = False

    def core(self, continuous: bool) -> str | None:
        """The class path for a game's action space (None: this implementation cannot act there)."""
        return self.continuous if continuous else self.discrete


@dataclass(frozen=True)
class SamplerKind:
    """One sampler. ``implementations`` is its one :class:`Implementation`, or, for a sampler with
    several, a mapping from the values of its setting ``chosen_by`` (MA-PROPS's ``delta_phi``) to
    theirs. ``update_cost`` scales the behavior-update work of the cost model (None: the sampler
    has no behavior update, so its train jobs cost what on-policy ones do)."""

    name: str
    config: type
    implementations: Implementation | dict[str, Implementation]
    style: Style
    chosen_by: str | None = None
    update_cost: float | None = None
    prose: str | None = None  # the name inside a sentence or table cell, when not the legend's label

    @property
    def label(self) -> str:
        return self.style.label

    @property
    def name_in_text(self) -> str:
        return self.prose or self.style.label

    @property
    def has_behavior_update(self) -> bool:
        """PROPS-like: a behavior policy trained between target updates (what Table 1 sweeps)."""
        return self.update_cost is not None

    @property
    def cases(self) -> dict[str | None, Implementation]:
        """Every implementation by its case (the value of ``chosen_by``; None for a sampler with one)."""
        if isinstance(self.implementations, Implementation):
            return {None: self.implementations}
        return dict(self.implementations)

    def implementation(self, sampler) -> tuple[str | None, Implementation]:
        """The case a sampler config chooses and its implementation."""
        case = None if self.chosen_by is None else getattr(sampler, self.chosen_by)
        return case, self.cases[case]

    @property
    def needs_enumerable_states(self) -> bool:
        """Whether the sampler at its default settings needs enumerable joint states (the ROS oracle)."""
        default = None if self.chosen_by is None else self.config.model_fields[self.chosen_by].default
        return self.cases[default].needs_enumerable_states

    @property
    def continuous_actions(self) -> bool:
        """Whether some setting of the sampler acts in continuous (Box) action spaces."""
        return any(impl.continuous is not None for impl in self.cases.values())

    def build(self, config, actors, target_params, game, rng):
        """The sampler for a run: the class its case names for the actors' action space."""
        case, implementation = self.implementation(config)
        core = implementation.core(actors.head.continuous)
        if core is None:  # a run spec never gets here: maprops.kinds.sampler_misfit refuses it
            space = "continuous" if actors.head.continuous else "discrete"
            raise ValueError(f"sampler {self.name!r} ({case or 'default'}) has no implementation for {space} actions")
        return load_class(core).from_config(config, actors, target_params, game, rng)


# -- the spec parts every game kind's file shares -------------------------------------------


class Budget(Frozen):
    """Environment steps per seed, and how often (in target updates) to evaluate."""

    total_steps: Int = Field(ge=1)
    eval_every: Int = Field(default=1, ge=1)


class Named(Frozen):
    """What a resolved game adds to its parameters: which game and which variant is played."""

    name: str
    variant: str = ORIGINAL


class ParamVariant(Frozen):
    """A modification of a parameterized game: where the paper states it, and the parameters
    it changes (e.g. ``{penalty: 0.02}``, Appendix E)."""

    source: str
    set: dict[str, Any] = Field(min_length=1)


class ParamGameSpec(Frozen):
    """Common part of the games described by flat parameters (the grid games). A subclass also
    inherits the game's ``*Params`` model, whose fields are written at the top level of the file."""

    config_class: ClassVar[type]

    name: str
    title: str
    hyperparams: str = Field(description="row of specs/hyperparams/table3.yaml")
    variants: dict[str, ParamVariant] = {}
    budget: Budget

    @property
    def variant_names(self) -> tuple[str, ...]:
        return (ORIGINAL, *self.variants)

    def variant(self, name: str) -> ParamVariant:
        if name not in self.variants:
            raise KeyError(f"game {self.name!r} has no variant {name!r}; known: {', '.join(self.variant_names)}")
        return self.variants[name]

    def to_config(self, variant: str = ORIGINAL):
        """The resolved game a training run needs: the parameters with the variant's changes."""
        params = self.model_dump(include=set(self.config_class.model_fields) - {"name", "variant"})
        if variant != ORIGINAL:
            params.update(self.variant(variant).set)
        return self.config_class(**params, name=self.name, variant=variant)

    def variant_errors(self) -> list[tuple[tuple, str]]:
        """(field path, message) for every variant change that does not make a valid game;
        the spec library reports them at the changed key's line."""
        errors = []
        for name in self.variants:
            try:
                self.to_config(name)
            except ValidationError as err:
                for e in err.errors():
                    key = e["loc"][0] if e["loc"] else ""
                    message = "unknown game parameter" if e["type"] == "extra_forbidden" else e["msg"]
                    errors.append((("variants", name, "set", key), f"{message} (variant {name!r})"))
        return errors


def param_game_kind(
    name: str,
    label: str,
    params: type,
    core: str,
    cost: GameCost,
    task_size: Callable[[dict], tuple[int, int | None]] | None = None,
    open_fields: dict[str, str] | None = None,
    packages: tuple[str, ...] = (),
) -> GameKind:
    """The entry of a game described by flat parameters: its resolved config (the parameters plus
    name and variant) and its spec file model (the parameters at the top level, plus title, Table 3
    row, variants and budget) both follow from ``params``."""
    stem = params.__name__.removesuffix("Params")
    config = type(f"{stem}Config", (params, Named), {"__module__": params.__module__, "__doc__": params.__doc__})
    spec = type(f"{stem}Spec", (ParamGameSpec, params), {"__module__": params.__module__, "config_class": config})
    return GameKind(
        name=name,
        label=label,
        config=config,
        spec=spec,
        core=core,
        cost=cost,
        task_size=task_size,
        open_fields=open_fields or {},
        packages=packages,
    )
