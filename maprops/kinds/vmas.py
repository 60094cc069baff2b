"""The VMAS game kind: a scenario of the torch-vectorized VMAS simulator as a game, by spec (core:
:mod:`maprops.games.vmas_task`). Beyond the paper.

A spec names the scenario (``scenario: dispersion``), its keyword arguments, a time limit and a
declared success rule (:class:`~maprops.kinds.package_tasks.SuccessRule`, shared with the
PettingZoo kind). The core creates the environment itself with discrete actions, so the keyword
arguments of ``vmas.make_env`` (``continuous_actions``, ``num_envs``, ``max_steps``, ...) are
not the spec's to set.

Reading a spec checks the scenario name against the scenario files of the installed vmas package
(found without importing it), then probes the scenario (:mod:`maprops.kinds.vmas_probe`): a
common Discrete action count and observation length for every agent, steps that draw no random
numbers, and environments that do not depend on the rest of their batch. VMAS imports torch,
which reading specs must not, so the probe runs in a subprocess (about 2 s) unless torch is
already loaded, and its answer is kept per process and on disk (keyed by the vmas version, the
probe's source, the scenario and its arguments), so only the first read of a setting pays it.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from maprops.kinds.base import GameCost, param_game_kind
from maprops.kinds.package_tasks import EnvProblem, SuccessRule, spec_problem, task_size
from maprops.spec_types import Frozen, Int

SET_BY_THE_CORE = frozenset(
    {
        "scenario",
        "num_envs",
        "device",
        "continuous_actions",
        "wrapper",
        "wrapper_kwargs",
        "max_steps",
        "seed",
        "dict_spaces",
        "multidiscrete_actions",
        "clamp_actions",
        "grad_enabled",
        "terminated_truncated",
    }
)
"""``vmas.make_env``'s own arguments: the core sets them (discrete actions, one batch for the
seed block, no vmas time limit), so they are not scenario keyword arguments."""

PROBE = Path(__file__).resolve().with_name("vmas_probe.py")


@dataclass(frozen=True)
class VmasShape:
    """What the engine reads off a scenario: its agents (in order), their common action count
    and the observation length."""

    agents: tuple[str, ...]
    n_actions: int
    obs_dim: int


def scenario_names() -> list[str]:
    """The scenarios of the installed vmas package (its ``scenarios/`` files, MPE and debug ones
    included), read off the file tree without importing vmas."""
    spec = importlib.util.find_spec("vmas")
    if spec is None or not spec.submodule_search_locations:
        raise EnvProblem("scenario", "the vmas package is not installed (`pip install vmas==1.5.2`)")
    root = Path(next(iter(spec.submodule_search_locations))) / "scenarios"
    return sorted({p.stem for p in root.rglob("*.py") if not p.stem.startswith("_")})


def _cache_file(scenario: str, kwargs_json: str) -> Path:
    base = os.environ.get("MAPROPS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "maprops"
    )
    key = json.dumps([metadata.version("vmas"), hashlib.sha256(PROBE.read_bytes()).hexdigest(), scenario, kwargs_json])
    return Path(base) / "vmas_probe" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _ask_probe(scenario: str, kwargs_json: str) -> dict:
    """The probe's answer: in this process if torch is loaded anyway, else in a subprocess."""
    query = {"scenario": scenario, "kwargs": json.loads(kwargs_json)}
    if "torch" in sys.modules:
        from maprops.kinds.vmas_probe import answer

        return answer(query)
    root = str(PROBE.parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    done = subprocess.run(
        [sys.executable, "-m", "maprops.kinds.vmas_probe"],
        input=json.dumps(query),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise EnvProblem("scenario", f"probing scenario {scenario!r} failed: {tail[0]}")
    return json.loads(done.stdout)


@functools.lru_cache(maxsize=32)
def _answer(scenario: str, kwargs_json: str) -> dict:
    cache = _cache_file(scenario, kwargs_json)
    try:
        return json.loads(cache.read_text())
    except (OSError, ValueError):
        pass
    answer = _ask_probe(scenario, kwargs_json)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(answer))
        partial.replace(cache)
    except OSError:
        pass  # a read-only home: probe again next time
    return answer


def describe(scenario: str, kwargs: dict) -> VmasShape:
    """The shape of the configured scenario; :class:`EnvProblem` if the engine cannot play it."""
    answer = _answer(scenario, json.dumps(kwargs, sort_keys=True))
    if "problem" in answer:
        raise EnvProblem(answer["problem"]["field"], answer["problem"]["message"])
    shape = answer["shape"]
    return VmasShape(agents=tuple(shape["agents"]), n_actions=shape["n_actions"], obs_dim=shape["obs_dim"])


class VmasParams(Frozen):
    """A VMAS scenario with discrete actions; see :mod:`maprops.games.vmas_task`."""

    sampling_error: ClassVar[str] = "kl"

    kind: Literal["vmas"] = "vmas"
    scenario: str = Field(description="a VMAS scenario name, e.g. 'dispersion'")
    kwargs: dict[str, JsonValue] = Field(default={}, description="the scenario's keyword arguments, e.g. n_agents")
    max_episode_steps: Int = Field(ge=1, description="time limit this core enforces (the scenario may end episodes sooner)")
    success: SuccessRule

    @field_validator("scenario")
    @classmethod
    def _a_scenario_of_vmas(cls, scenario: str) -> str:
        try:
            names = scenario_names()
        except EnvProblem as err:
            raise ValueError(str(err)) from None
        if scenario not in names:
            close = difflib.get_close_matches(scenario, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"vmas has no scenario {scenario!r}; {hint}known: {', '.join(names)}")
        return scenario

    @model_validator(mode="after")
    def _engine_can_play_it(self) -> VmasParams:
        reserved = sorted(SET_BY_THE_CORE & set(self.kwargs))
        if reserved:
            raise spec_problem(
                "kwargs",
                f"{', '.join(reserved)}: set by the core, not a scenario argument (discrete actions, "
                "one environment batch per seed block, the time limit is max_episode_steps)",
            )
        try:
            describe(self.scenario, self.kwargs)
        except EnvProblem as err:
            raise spec_problem(err.field, str(err)) from None
        return self


def game_size(game: dict) -> tuple[int, int | None]:
    """:func:`task_size` of a resolved game."""
    shape = describe(game["scenario"], game.get("kwargs", {}))
    return task_size(shape.agents, shape.n_actions)


KIND = param_game_kind(
    "vmas",
    "VMAS",
    VmasParams,
    core="maprops.games.vmas_task:VmasGame",
    # Measured on specs/games/dispersion.yaml (process time, one thread, 2 cores under a load of
    # about 7): fig_vmas's whole on-policy job with 10 seeds 570 s (this model: 542 s, start-up aside). Its cells
    # cut to 1-4 PPO updates: acting, the batched VMAS step of the training and shadow envs, and
    # PPO 4.5 s (10 seeds) and 5.8 s (20 seeds) per 1024 steps (this model: 5.1 s and 9.2 s); one evaluation (100 episodes: 100 seeded resets of 0.85 ms each, then one batch)
    # 0.21 s per seed; one pair of KL fits 0.16-0.23 s per seed. One full behavior update (16 x 8
    # minibatch steps, no cut-off) of MA-PROPS: 0.063 s + 0.25 ms per buffered sample for 5
    # seeds, 0.113 s + 0.89 ms for 20 (PROPS 1.03x that). With the shipped behavior lr 0.3 the
    # first updates stop at the KL cut-off (3 ms for 20 seeds), so for PROPS and MA-PROPS the
    # model, which assumes full updates, is an upper bound. One VMAS environment serves the
    # whole block: no per-instance memory.
    cost=GameCost(
        step_s=4e-4,
        update_seed_s=5e-3,
        update_sample_s=4.5e-5,
        eval_s=0.21,
        error_s=0.18,
        bytes_per_sample=2_700,
    ),
    task_size=game_size,
    packages=("vmas",),
)
VmasConfig = KIND.config  # module attributes: pickled run state finds classes by module and name
VmasSpec = KIND.spec
