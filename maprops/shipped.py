"""The shipped spec folder and its hyperparameter tables, read as plain data.

The paper's values (and this project's documented assumptions) live in one place, the YAML
tables of ``specs/hyperparams/``; the run-spec models repeat none of them as Python defaults.
Code that builds runs without a spec folder -- tests, benchmarks -- reads them from the shipped
folder here (:func:`shipped_table`), through the constructors in :mod:`maprops.config`
(``ppo_config``, ``mle_config``, ``sampler_config``). A spec folder's own tables (``--config
specs=DIR``) are read by the spec library, never from here.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

SHIPPED_SPECS = Path(__file__).resolve().parents[1] / "specs"
"""``specs/`` of the checkout this package is imported from."""


def default_specs() -> str:
    """The spec folder a command reads when given none: ``specs/`` in the working directory if
    it holds games, else the shipped one (``maprops gradient``, ``maprops premise``)."""
    here = Path("specs")
    if (here / "games").is_dir():
        return str(here)
    return str(SHIPPED_SPECS)


@functools.cache
def _read(name: str) -> dict:
    path = SHIPPED_SPECS / "hyperparams" / f"{name}.yaml"
    try:
        return yaml.safe_load(path.read_text())
    except OSError as err:
        raise FileNotFoundError(f"{path}: the shipped table {name!r} is not there (a maprops checkout has it): {err}") from None


def shipped_table(name: str) -> dict:
    """``specs/hyperparams/<name>.yaml`` of the shipped folder as plain data (a copy: edit freely)."""
    return copy.deepcopy(_read(name))


@dataclass(frozen=True)
class TableDefault:
    """A model field's default read from a shipped table (a ``default_factory``), for a field a
    table sets that may be absent from a run spec read back from its JSON."""

    table: str
    key: str

    def __call__(self):
        return shipped_table(self.table)[self.key]
