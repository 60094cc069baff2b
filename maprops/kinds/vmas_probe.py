"""What a VMAS scenario offers the engine, found by building and stepping it (imports torch).

``kind: vmas`` specs are checked by :func:`probe`: the agents, their common Discrete action
count, the observation length, and two properties the seed-batched core relies on (see
:mod:`maprops.games.vmas_task`): a scenario step draws no random numbers, and an environment's
reset and steps do not depend on the other environments of its batch. A scenario that fails a
check is reported with the spec field to blame.

It lives beside the kind's entry, which asks it (the core, :mod:`maprops.games.vmas_task`, builds
and steps environments with its helpers too). Reading specs must not import torch, so
:mod:`maprops.kinds.vmas` runs this module as a subprocess (``python -m
maprops.kinds.vmas_probe``, the query as JSON on stdin, the answer as JSON on stdout) unless
torch is already loaded.
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
import sys
import traceback
import warnings
from pathlib import Path

import torch

PROBE_STEPS = 12
"""Steps of the determinism checks: enough for the shipped scenario's agents to move and eat."""

SET_BY_THE_CORE = dict(continuous_actions=False, device="cpu", dict_spaces=False, max_steps=None)
"""What every environment of this kind is created with, besides ``num_envs`` and the scenario's
keyword arguments: discrete actions, on the CPU, observations as a list, no vmas time limit
(the core enforces the spec's ``max_episode_steps``)."""


class Unplayable(ValueError):
    """The scenario cannot be a game here; ``field`` is the spec field to blame."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def random_state() -> list:
    """VMAS's own random state (torch, numpy, ``random``), which every env method runs under."""
    from vmas.simulator.environment import Environment

    return Environment.vmas_random_state


def state_key(state: list) -> tuple:
    """A comparable copy of a random state."""
    torch_state, (_, keys, pos, has_gauss, gauss), py_state = state
    return bytes(torch_state.numpy()), keys.tobytes(), pos, has_gauss, gauss, py_state


def scenario_kwargs(scenario: str) -> list[str]:
    """The keyword arguments the scenario's source reads (``kwargs.pop("name"`` or ``.get``), for
    a did-you-mean hint."""
    root = Path(importlib.import_module("vmas.scenarios").__file__).parent  # vmas.scenarios is also a list
    files = list(root.rglob(f"{scenario}.py"))
    text = files[0].read_text() if files else ""
    return sorted(set(re.findall(r"kwargs\.(?:pop|get)\(\s*[\"'](\w+)[\"']", text)))


def make(scenario: str, num_envs: int, kwargs: dict):
    """One VMAS environment of ``num_envs`` entries; keyword arguments the scenario does not use
    are an error here (vmas only warns)."""
    import vmas

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            env = vmas.make_env(scenario, num_envs=num_envs, seed=0, **SET_BY_THE_CORE, **kwargs)
        except Exception as err:  # whatever the scenario rejects: a bad value, a missing argument
            raise Unplayable("kwargs", f"vmas.make_env({scenario!r}, **kwargs) failed: {failure(err)}") from None
    unused = [str(w.message) for w in caught if "passed but not used by the scenario" in str(w.message)]
    if unused:
        keys = [key for key in kwargs if f"{key!r}:" in unused[0]] or list(kwargs)
        known = scenario_kwargs(scenario)
        close = difflib.get_close_matches(keys[0], known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        reads = f" (it reads {', '.join(known)})" if known else ""
        raise Unplayable("kwargs", f"scenario {scenario!r} does not use {', '.join(map(repr, keys))}{hint}{reads}")
    return env


def failure(err: Exception) -> str:
    """An exception in words; a bare ``assert`` is shown by its source line."""
    text = str(err)
    if not text and err.__traceback__ is not None:
        text = (traceback.extract_tb(err.__traceback__)[-1].line or "").strip()
    return f"{type(err).__name__}: {text}"


def observe(env) -> torch.Tensor:
    """Every entry's observations ``[B, N, obs_dim]``, computed without any reward (VMAS rewards
    can change scenario state)."""
    (obs,) = env.get_from_scenario(get_observations=True, get_rewards=False, get_infos=False, get_dones=False)
    return torch.stack(obs, 1)


def reset_entry(env, index: int, seed: int) -> None:
    """Reset entry ``index`` with VMAS's generators seeded by ``seed`` alone."""
    env.seed(seed)
    env.reset_at(index, return_observations=False)


def probe_actions(t: int, seeds: list[int], n_agents: int, n_actions: int) -> list[torch.Tensor]:
    """Step ``t``'s joint actions in the determinism checks: a fixed spread, each entry's a
    function of its seed (each agent's action as a batch, the way VMAS takes them)."""
    grid = torch.tensor(seeds).unsqueeze(1) * 5 + torch.arange(n_agents) * 3 + t * 7
    return list((grid % n_actions).T)


def describe_env(env, scenario: str) -> dict:
    from gym import spaces

    names = [agent.name for agent in env.agents]
    if not names:
        raise Unplayable("scenario", f"scenario {scenario!r} has no agents")
    actions = [env.get_agent_action_space(agent) for agent in env.agents]
    if not all(isinstance(space, spaces.Discrete) for space in actions):
        raise Unplayable("scenario", f"scenario {scenario!r} has agents without a Discrete action space: {actions}")
    counts = {int(space.n) for space in actions}
    if len(counts) != 1:
        listed = ", ".join(f"{a}: Discrete({s.n})" for a, s in zip(names, actions))
        raise Unplayable(
            "scenario", f"agents' action spaces differ ({listed}); this kind needs the same Discrete(n) for every agent"
        )
    (obs,) = env.get_from_scenario(get_observations=True, get_rewards=False, get_infos=False, get_dones=False)
    if not all(isinstance(o, torch.Tensor) and o.dim() == 2 for o in obs):
        raise Unplayable("scenario", f"scenario {scenario!r} observes a dict, not one vector per agent")
    dims = [int(o.shape[1]) for o in obs]
    if len(set(dims)) != 1:
        listed = ", ".join(f"{a}: {d}" for a, d in zip(names, dims))
        raise Unplayable("scenario", f"agents' observation lengths differ ({listed}); this kind needs one length for every agent")
    return {"agents": names, "n_actions": counts.pop(), "obs_dim": dims[0]}


def trajectory(env, entry: int, seeds: list[int], shape: dict) -> list[torch.Tensor]:
    """Entry ``entry``'s observations, rewards and ends over the probe's steps, every entry reset
    from its seed; steps must leave VMAS's random state alone."""
    for index, seed in enumerate(seeds):
        reset_entry(env, index, seed)
    out = [observe(env)[entry]]
    for t in range(PROBE_STEPS):
        before = state_key(random_state())
        obs, rewards, dones, _ = env.step(probe_actions(t, seeds, len(shape["agents"]), shape["n_actions"]))
        if state_key(random_state()) != before:
            raise Unplayable(
                "scenario",
                f"scenario {shape['scenario']!r} draws random numbers on its steps "
                "(e.g. action or observation noise): they would be drawn for the whole batch at once, so a seed's "
                "numbers would depend on its block; this kind needs scenarios whose steps are deterministic",
            )
        out += [torch.stack(obs, 1)[entry], torch.stack(rewards, 1)[entry], dones[entry]]
    return out


def probe(scenario: str, kwargs: dict) -> dict:
    """``{"agents", "n_actions", "obs_dim"}`` of the scenario, or :class:`Unplayable`."""
    shape = {**describe_env(make(scenario, 1, kwargs), scenario), "scenario": scenario}
    alone = trajectory(make(scenario, 1, kwargs), 0, [7], shape)
    again = trajectory(make(scenario, 1, kwargs), 0, [7], shape)
    in_block = trajectory(make(scenario, 3, kwargs), 1, [11, 7, 3], shape)
    if not all(torch.equal(a, b) for a, b in zip(alone, again)):
        raise Unplayable("scenario", f"scenario {scenario!r} does not repeat a reset from the same seed")
    if not all(torch.equal(a, b) for a, b in zip(alone, in_block)):
        raise Unplayable(
            "scenario",
            f"scenario {scenario!r}: an environment's reset or steps depend on the other environments of its batch "
            "(e.g. a reset that draws numbers for the whole batch), so a seed's numbers would depend on its block",
        )
    del shape["scenario"]
    return shape


def answer(query: dict) -> dict:
    """The JSON answer to one query: the shape, or the problem (``field``, ``message``)."""
    try:
        return {"shape": probe(query["scenario"], query["kwargs"])}
    except Unplayable as err:
        return {"problem": {"field": err.field, "message": str(err)}}


if __name__ == "__main__":
    json.dump(answer(json.load(sys.stdin)), sys.stdout)
