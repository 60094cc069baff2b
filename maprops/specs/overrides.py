"""Run-spec overrides: change any field of a resolved run by its dotted path.

A figure, a panel or a study setting may carry ``overrides`` such as ``ppo.learning_rate: 0.01``
or ``sampler.target_kl: authors_code_default``. They are applied to the resolved run spec (as
plain data) before the scale's caps, and the result is validated strictly against
:class:`maprops.config.RunSpec`: a typo in a path or a value of the wrong type is an error, never
a silently ignored key or a coerced string. Because a run's identity is its resolved spec, an
override always gives the run a new hash; it can neither reuse nor overwrite another setting's
results.

A path that exists for some cells only (``sampler.target_kl`` means nothing to on-policy
sampling, whose config has no settings) is applied where it exists; it must exist for at least
one cell of whatever carries it.

Named values (``specs/hyperparams/named_values.yaml``) let a spec say *which* reading it applies
(``authors_code_default``) instead of a bare number; the run records the number.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import Field, ValidationError

from maprops.config import Frozen, RunSpec
from maprops.kinds import SAMPLERS

# Fields that say *what* is trained rather than *how*: a figure chooses them with its panels,
# samplers and experiment, never with an override.
NOT_OVERRIDABLE = {
    "game.kind": "choose the game with the panel's 'game'",
    "game.name": "choose the game with the panel's 'game'",
    "game.variant": "choose the reward variant with the panel's 'variant'",
    "sampler.kind": "choose samplers with the figure's 'samplers'",
    "algorithm": "choose the algorithm with the figure's 'algorithm'",
    "fixed_target": "choose the experiment with the figure's 'experiment'",
}


class NamedValue(Frozen):
    """A value that is not the printed paper's, with where it comes from."""

    value: Any
    source: str = Field(min_length=1)


class NamedValues(Frozen):
    """``path -> name -> NamedValue`` (the file ``hyperparams/named_values.yaml``)."""

    paths: dict[str, dict[str, NamedValue]] = {}

    def resolve(self, path: str, value: Any) -> Any:
        """``value``, or the number a string ``value`` names for ``path``."""
        named = self.paths.get(path, {})
        if isinstance(value, str) and value in named:
            return named[value].value
        return value


class OverrideError(ValueError):
    """A bad override; ``path`` is the override key it belongs to (None: not attributable)."""

    def __init__(self, path: str | None, message: str):
        self.path = path
        super().__init__(message)


def _split(path: str) -> list[str]:
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise OverrideError(path, f"malformed path {path!r}: dotted field names such as 'ppo.learning_rate'")
    return parts


def applies(run: dict, path: str) -> bool:
    """Whether ``path`` names an existing field of the resolved run (as plain data)."""
    node = run
    for part in _split(path):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def known_fields(runs: list[dict], path: str) -> list[str]:
    """The fields that exist, in any of ``runs``, where ``path`` stops matching: for messages."""
    known: set[str] = set()
    for run in runs:
        node = run
        prefix = []
        for part in _split(path):
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
            prefix.append(part)
        if isinstance(node, dict):
            known |= {".".join([*prefix, key]) for key in node}
    return sorted(known)


def check_paths(overrides: dict[str, Any], runs: list[dict]) -> None:
    """Every override path must be overridable and exist in at least one of ``runs``."""
    for path in overrides:
        if path in NOT_OVERRIDABLE:
            raise OverrideError(path, f"{path} cannot be overridden: {NOT_OVERRIDABLE[path]}")
        if not any(applies(run, path) for run in runs):
            known = known_fields(runs, path)
            hint = f"; known: {', '.join(known)}" if known else ""
            if path.startswith("sampler.") and all(not SAMPLERS[run["sampler"]["kind"]].has_behavior_update for run in runs):
                hint = f" ({', '.join(sorted({SAMPLERS[run['sampler']['kind']].name_in_text for run in runs}))} sampling has no settings)"
            raise OverrideError(path, f"unknown run-spec field {path!r}{hint}")


def apply_overrides(run: dict, overrides: dict[str, Any], named: NamedValues) -> dict:
    """A copy of the resolved run (plain data) with every applicable override set."""
    out = copy.deepcopy(run)
    for path, value in overrides.items():
        if not applies(out, path):
            continue
        *parents, leaf = _split(path)
        node = out
        for part in parents:
            node = node[part]
        node[leaf] = copy.deepcopy(named.resolve(path, value))
    return out


def _data_path(run: dict, loc: tuple) -> list[str]:
    """A Pydantic error location as a path into the data: a discriminated union adds its tag
    (``sampler.props.target_kl``), which is not a key of the run."""
    path, node = [], run
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(str(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(str(part))
            node = node[part]
    return path


def validate_run(run: dict, overrides: dict[str, Any], named: NamedValues) -> RunSpec:
    """The run spec, validated strictly (as JSON: no string or boolean passes for a number);
    an error is attributed to the override whose path leads to the bad field."""
    try:
        return RunSpec.model_validate_json(json.dumps(run), strict=True)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(_data_path(run, first["loc"]))
        # None for a model-level check (e.g. the budget) that the overrides together broke
        owner = next((p for p in overrides if loc == p or loc.startswith(p + ".")), None)
        message = first["msg"].removeprefix("Value error, ")
        if owner is not None:
            value = overrides[owner]
            names = named.paths.get(owner, {})
            if isinstance(value, str) and names and value not in names:
                message = f"unknown named value {value!r}; known: {', '.join(names)}"
            elif isinstance(value, str) and not names:
                message = f"{message} (got the string {value!r}; no named values exist for {owner})"
        raise OverrideError(owner, message) from None
