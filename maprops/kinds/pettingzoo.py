"""The PettingZoo game kind: any ``ParallelEnv`` factory as a game, by spec (core:
:mod:`maprops.games.pettingzoo_task`). Beyond the paper.

A spec names the factory by import path (``env: "mpe2.simple_spread_v3:parallel_env"``), the
keyword arguments it is called with, a time limit and a declared success rule. Validating a spec
builds one instance of the environment, once per process and setting, to check what the engine
needs of it: every agent has the same Discrete action count (the joint action space is their
product, which MA-PROPS's joint head and the KL estimator's joint fit enumerate; MA-PROPS's
pairwise head does not), or every agent the same one-dimensional Box of actions (same shape and
bounds: continuous actions, Gaussian policies, docs/implementation.md#continuous-actions), and
the same flattened observation length. Reading specs imports the
environment's package (never torch): a bad import path, a missing package or an unusable space
is then a ``FILE:LINE: field`` error, before anything trains.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import json
import re
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, JsonValue, field_validator, model_validator

from maprops.kinds.base import GameCost, param_game_kind
from maprops.kinds.package_tasks import EnvProblem, SuccessRule, spec_problem, task_size
from maprops.spec_types import Frozen, Int

IMPORT_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


@dataclass(frozen=True)
class EnvShape:
    """What the engine reads off one instance: the agents (``possible_agents``, in order), their
    common action count (Discrete, starting at ``action_start``) or, for Box actions, their
    common dimension and per-dimension bounds (``n_actions`` is then None), the flattened
    observation length and the bounds of every observation entry."""

    agents: tuple[str, ...]
    n_actions: int | None
    action_start: int
    obs_dim: int
    obs_bounds: tuple[float, float]
    action_dim: int | None = None  # Box actions: their length
    action_bounds: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # Box actions: (low, high) per dimension

    @property
    def continuous(self) -> bool:
        return self.action_dim is not None


def load_factory(env: str):
    """``"package.module:factory"`` -> the factory, with errors that say what to fix."""
    module_name, _, attr = env.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        top = module_name.split(".")[0]
        hint = f" (is the package installed? try `pip install {top}`)" if err.name == top else ""
        raise EnvProblem("env", f"cannot import {module_name!r}: {err}{hint}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        close = difflib.get_close_matches(attr, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise EnvProblem("env", f"module {module_name!r} has no factory {attr!r}{hint}")
    return factory


def make_env(env: str, kwargs: dict):
    """One instance of the configured environment (never rendered: headless runs have no display)."""
    try:
        return load_factory(env)(**kwargs)
    except EnvProblem:
        raise
    except Exception as err:  # whatever the factory rejects: an unknown keyword, a bad value
        raise EnvProblem("kwargs", f"{env}(**kwargs) failed: {type(err).__name__}: {err}") from None


def _describe(instance, env: str) -> EnvShape:
    from gymnasium import spaces
    from pettingzoo import AECEnv, ParallelEnv

    if isinstance(instance, AECEnv):
        raise EnvProblem(
            "env", f"{env} returns an AEC environment; this kind needs a ParallelEnv (e.g. the module's parallel_env)"
        )
    if not isinstance(instance, ParallelEnv):
        raise EnvProblem("env", f"{env} returns a {type(instance).__name__}, not a PettingZoo ParallelEnv")
    agents = tuple(instance.possible_agents)
    if not agents:
        raise EnvProblem("env", f"{env} has no agents")
    actions = {a: instance.action_space(a) for a in agents}
    box = _box_actions(actions)
    if box is None:
        counts = {(int(s.n), int(s.start)) for s in actions.values()}
        if len(counts) != 1:
            listed = ", ".join(f"{a}: {s}" for a, s in actions.items())
            raise EnvProblem(
                "env", f"agents' action spaces differ ({listed}); this kind needs the same Discrete(n) for every agent"
            )
    try:
        flat = {a: spaces.flatten_space(instance.observation_space(a)) for a in agents}
    except NotImplementedError as err:
        raise EnvProblem("env", f"an observation space cannot be flattened to a vector: {err}") from None
    dims = {a: int(space.shape[0]) for a, space in flat.items()}
    if len(set(dims.values())) != 1:
        listed = ", ".join(f"{a}: {d}" for a, d in dims.items())
        raise EnvProblem("env", f"agents' observation lengths differ ({listed}); this kind needs one length for every agent")
    obs, _ = instance.reset(seed=0)
    if set(obs) != set(agents):
        raise EnvProblem("env", f"reset observes {sorted(obs)}, not every possible agent {list(agents)}")
    for agent in agents:  # what the task really observes must fit what it declares
        declared = instance.observation_space(agent)
        try:
            fits = np.asarray(obs[agent]).shape == declared.shape if isinstance(declared, spaces.Box) else True
            fits = fits and spaces.flatten(declared, obs[agent]).size == dims[agent]
        except Exception:  # noqa: BLE001 - gymnasium's error for a value of another structure
            fits = False
        if not fits:
            seen = np.shape(obs[agent]) if not isinstance(obs[agent], dict) else "a dict"
            raise EnvProblem(
                "env",
                f"agent {agent!r} observes {seen} at reset but declares {declared}: "
                "the task's observations do not match its observation space",
            )
    dim = dims[agents[0]]
    low = min(float(space.low.min()) for space in flat.values())
    high = max(float(space.high.max()) for space in flat.values())
    if box is not None:
        return EnvShape(agents, None, 0, dim, (low, high), action_dim=len(box[0]), action_bounds=box)
    n, start = counts.pop()
    return EnvShape(agents=agents, n_actions=n, action_start=start, obs_dim=dim, obs_bounds=(low, high))


def _box_actions(actions: dict) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The common (low, high) of every agent's Box action space, or None when every agent's is
    Discrete; :class:`EnvProblem` for anything else (mixed, other spaces, Boxes that differ)."""
    from gymnasium import spaces

    kinds = {type(space) for space in actions.values()}
    if kinds == {spaces.Discrete}:
        return None
    for agent, space in actions.items():
        if not isinstance(space, (spaces.Discrete, spaces.Box)):
            raise EnvProblem("env", f"agent {agent!r} acts in {space}; this kind needs Discrete or Box actions")
        if isinstance(space, spaces.Discrete):
            listed = ", ".join(f"{a}: {s}" for a, s in actions.items())
            raise EnvProblem("env", f"agents' action spaces mix Discrete and Box ({listed}); this kind needs one for every agent")
        if len(space.shape) != 1 or not np.issubdtype(space.dtype, np.floating):
            raise EnvProblem("env", f"agent {agent!r} acts in {space}; this kind needs a one-dimensional float Box")
    bounds = {(tuple(map(float, s.low)), tuple(map(float, s.high))) for s in actions.values()}
    if len(bounds) != 1:
        listed = ", ".join(f"{a}: {s}" for a, s in actions.items())
        raise EnvProblem("env", f"agents' action spaces differ ({listed}); this kind needs the same Box for every agent")
    return bounds.pop()


@functools.lru_cache(maxsize=32)
def _shape(env: str, kwargs_json: str) -> EnvShape:
    instance = make_env(env, json.loads(kwargs_json))
    try:
        return _describe(instance, env)
    finally:
        instance.close()


def describe(env: str, kwargs: dict) -> EnvShape:
    """The shape of the configured environment (one instance built and closed per process and
    setting); :class:`EnvProblem` if the engine cannot play it."""
    return _shape(env, json.dumps(kwargs, sort_keys=True))


class PettingZooParams(Frozen):
    """A PettingZoo ``ParallelEnv`` task; see :mod:`maprops.games.pettingzoo_task`."""

    sampling_error: ClassVar[str] = "kl"

    kind: Literal["pettingzoo"] = "pettingzoo"
    env: str = Field(description="import path of a ParallelEnv factory: 'package.module:factory'")
    kwargs: dict[str, JsonValue] = Field(default={}, description="keyword arguments of the factory")
    max_episode_steps: Int = Field(ge=1, description="time limit this core enforces (the env may end episodes sooner)")
    success: SuccessRule

    @field_validator("env")
    @classmethod
    def _an_import_path(cls, env: str) -> str:
        if not IMPORT_PATH.fullmatch(env):
            raise ValueError(f"must be an import path and a factory name, 'package.module:factory', got {env!r}")
        return env

    @property
    def continuous_actions(self) -> bool:
        """Every agent acts in a Box (Gaussian policies), not in a Discrete space."""
        return describe(self.env, self.kwargs).continuous

    @model_validator(mode="after")
    def _engine_can_play_it(self) -> PettingZooParams:
        if self.kwargs.get("render_mode") is not None:
            raise spec_problem("kwargs", "training never renders (headless runs have no display): leave render_mode out")
        try:
            describe(self.env, self.kwargs)
        except EnvProblem as err:
            raise spec_problem(err.field, str(err)) from None
        return self


def game_size(game: dict) -> tuple[int, int | None]:
    """:func:`task_size` of a resolved game."""
    shape = describe(game["env"], game.get("kwargs", {}))
    return task_size(shape.agents, shape.n_actions)


KIND = param_game_kind(
    "pettingzoo",
    "PettingZoo",
    PettingZooParams,
    core="maprops.games.pettingzoo_task:PettingZooGame",
    # Measured on specs/games/simple_spread.yaml (process time, one thread, 2 busy cores):
    # fig_pettingzoo's whole on-policy job with 5 seeds about 7 CPU-minutes (this model: 7.0);
    # cut to 4 PPO updates with 10 seeds 27.8 s (this model: 34 s); one evaluation 0.6-1.05 s and one pair of KL fits 0.16-0.2 s
    # per seed; one full behavior update (16 x 8 minibatch steps, no cut-off) of 5 and 20 seeds
    # on buffers of 16-256 samples 0.056-0.18 s (MA-PROPS), PROPS 1.0-1.6x that. The first
    # updates of a run stop early at the KL cut-off (behavior lr 0.3: 3.5 ms per update for 10
    # seeds), so for PROPS and MA-PROPS the model, which assumes full updates, is an upper bound.
    # The env's own step is 0.25-0.3 ms; the rest of step_s is acting, the shadow buffer and PPO.
    # An mpe2 instance holds 2 MB (measured RSS over 200 instances: its 700x700 render surface,
    # built even when nothing renders); evaluation keeps one per episode and seed.
    cost=GameCost(
        step_s=5e-4,
        update_seed_s=2.5e-3,
        update_sample_s=1.2e-5,
        eval_s=1.0,
        error_s=0.16,
        bytes_per_sample=2_700,
        bytes_per_instance=2_000_000,
    ),
    task_size=game_size,
    packages=("pettingzoo", "gymnasium", "mpe2"),  # mpe2: the shipped task's (specs/games/simple_spread.yaml)
)
PettingZooConfig = KIND.config  # module attributes: pickled run state finds classes by module and name
PettingZooSpec = KIND.spec
