"""Named sampler settings (``specs/samplers.yaml``): a registered sampler with some of its
settings changed, drawn in figures as a curve of its own.

A figure's ``samplers:`` may list such a name beside the registered samplers (``on_policy``,
``props``, ``ma_props``, ``ros``); its runs are the base sampler's runs with ``set`` applied, so
they are content-addressed like every other run, and its legend shows ``label``. This is how
beyond-the-paper options (docs/assumptions.md#beyond-the-paper-sampler-options-the-theory-suggests-off-by-default)
join a paper figure as extra curves without a new figure or any code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from maprops.kinds import SAMPLERS
from maprops.kinds.base import Style
from maprops.spec_types import Frozen

SAMPLERS_FILE = "samplers.yaml"  # optional, in the spec folder's root

# Named sampler variants (specs/samplers.yaml) get the k-th entry of each list below, k their
# place in that file, so a variant looks the same in every figure: colours none of the
# registered samplers use, and line styles and markers of their own.
VARIANT_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#d62728", "#000000")
VARIANT_LINESTYLES = (
    (0, (3, 1, 1, 1)),
    (0, (6, 2)),
    (0, (1, 2)),
    (0, (3, 1, 1, 1, 1, 1)),
    (0, (9, 3)),
    (0, (2, 1)),
    (0, (4, 1, 1, 1, 1, 1, 1, 1)),
)
VARIANT_MARKERS = ("v", "P", "X", "*", "h", "<", "p")


class SamplerVariant(Frozen):
    sampler: Literal[tuple(SAMPLERS)]
    label: str = Field(min_length=1, description="the legend's name for this curve")
    why: str = Field(min_length=1, description="what the variant tests, in a sentence")
    set: dict[str, Any] = Field(min_length=1, description="sampler settings that differ from the base sampler's")

    @field_validator("set")
    @classmethod
    def _not_the_kind(cls, settings):
        if "kind" in settings:
            raise ValueError("the base sampler is 'sampler'; 'set' changes its settings only")
        return settings

    def errors(self, tables: dict) -> list[tuple[str, str]]:
        """(key, message) for settings the base sampler's model refuses, checked on top of
        ``tables``, the settings the spec folder's tables give it (the figure's own values are
        checked again when its runs resolve)."""
        try:
            SAMPLERS[self.sampler].config(**{**tables, **self.set})
        except ValidationError as err:
            return [
                (str(e["loc"][0]) if e["loc"] else "", "unknown setting" if e["type"] == "extra_forbidden" else e["msg"])
                for e in err.errors()
            ]
        return []


class SamplerVariants(Frozen):
    variants: dict[str, SamplerVariant] = {}

    @field_validator("variants")
    @classmethod
    def _names_are_free(cls, variants):
        for name in variants:
            if name in SAMPLERS:
                message = f"{name!r} is a registered sampler; a variant needs a name of its own"
                raise PydanticCustomError("spec_value", "{message}", {"message": message, "at": (name,)})
        return variants


def variant_style(index: int, label: str) -> Style:
    """The style of the ``index``-th named sampler variant (cycling past the lists' length)."""
    pick = index % len(VARIANT_COLORS)
    return Style(label, VARIANT_COLORS[pick], VARIANT_LINESTYLES[pick], VARIANT_MARKERS[pick])
