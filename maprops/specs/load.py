"""Read one spec file into a Pydantic model, turning every validation error into ``FILE:LINE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from maprops.specs.errors import SpecError, SpecErrors
from maprops.specs.yaml_lines import line_of, load_yaml_with_lines


def load_file(path: str | Path, model: Any) -> tuple[Any, dict]:
    """Validate ``path`` against ``model`` (a model class or an annotated union type).

    Returns the validated object and the YAML line table, for later cross-reference errors.
    """
    data, lines = load_yaml_with_lines(path)
    adapter = TypeAdapter(model)
    try:
        return adapter.validate_python(data), lines
    except ValidationError as err:
        raise SpecErrors([_locate(str(path), data, lines, e) for e in err.errors()]) from None


def _locate(file: str, data: Any, lines: dict, error: dict) -> SpecError:
    """Map a Pydantic error to the YAML line of its field.

    Pydantic's ``loc`` can contain entries that are not keys of the data (a discriminated
    union's tag, ``[key]`` of dict validation); keeping only the entries found while walking the
    data gives the path a reader recognises.
    """
    at: list = []
    node = data
    consumed = False
    for part in error["loc"]:
        consumed = False
        if isinstance(node, dict) and part in node:
            at.append(part)
            node = node[part]
            consumed = True
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            at.append(part)
            node = node[part]
            consumed = True
    line = line_of(lines, tuple(at))
    if error["loc"] and not consumed and isinstance(node, dict) and isinstance(error["loc"][-1], str):
        at.append(error["loc"][-1])  # a check on a field the file leaves out: name that field
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "union_tag_invalid":
        at.append("kind")
        ctx = error.get("ctx", {})
        message = f"unknown kind {ctx.get('tag')!r}; known: {ctx.get('expected_tags')}"
    elif error["type"] == "missing":
        message = "required field is missing"
    message = message.removeprefix("Value error, ")
    field = ".".join(str(p) for p in at) if error["type"] != "missing" else ".".join(str(p) for p in error["loc"])
    return SpecError(file, line, field, message)


def field_error(file: str | Path, lines: dict, at: tuple, message: str) -> SpecError:
    """A cross-reference error (e.g. a figure naming an unknown game) at the field's line."""
    return SpecError(str(file), line_of(lines, at), ".".join(str(p) for p in at), message)

