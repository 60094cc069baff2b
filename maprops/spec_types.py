"""The field types every spec model shares: strict numbers and immutable, closed models.

They live apart from the models that use them so that a game or sampler kind module
(``maprops/kinds/``) can declare its settings without importing the run spec that collects
every kind.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

FLOAT32_MAX = 3.4028234663852886e38
"""Largest finite float32: training computes in float32, so a larger spec number would be inf."""


def _within_float32(value: float) -> float:
    if abs(value) > FLOAT32_MAX:
        raise ValueError(f"{value:g} is outside the float32 range training uses (|x| <= {FLOAT32_MAX:.7g})")
    return value


Float = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(_within_float32)]
"""A number field: an int or a float (never a string or a boolean), finite and within float32."""

Int = Annotated[int, Field(strict=True)]
"""An integer field: never a string, a boolean or a float (not even 2.0)."""


class Frozen(BaseModel):
    """Base for every spec model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def quoted_number_hint(text: str) -> str:
    """The end of a "got the string ..." message: a string that reads as a number was quoted."""
    try:
        float(text)
    except ValueError:
        return ""
    return " (a quoted number is text in YAML: drop the quotes)"
