"""Read one spec file into a Pydantic model, turning every validation error into ``FILE:LINE``."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from maprops.spec_types import quoted_number_hint
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
        raw = err.errors()
        # a list whose item failed is also "too short" (the bad item is not counted): one mistake
        raw = [
            e
            for e in raw
            if not (
                e["type"] == "too_short"
                and any(len(o["loc"]) > len(e["loc"]) and o["loc"][: len(e["loc"])] == e["loc"] for o in raw)
            )
        ]
        errors = [_locate(str(path), data, lines, e) for e in raw]
        raise SpecErrors(_merge_misplaced(errors, model, data)) from None


def _locate(file: str, data: Any, lines: dict, error: dict) -> SpecError:
    """Map a Pydantic error to the YAML line of its field.

    Pydantic's ``loc`` can contain entries that are not keys of the data (a discriminated
    union's tag, ``[key]`` of dict validation); keeping only the entries found while walking the
    data gives the path a reader recognises.
    """
    ctx = error.get("ctx") or {}
    # a validator may name the entry it objects to, below its field (``ctx["at"]``)
    loc = (*error["loc"], *ctx.get("at", ()))
    at: list = []
    named: list = []  # loc without a discriminated union's tag: the path a reader writes
    node = data
    consumed = False
    for part in loc:
        consumed = False
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue  # the tag Pydantic puts in front of a union member's fields
        named.append(part)
        if isinstance(node, dict) and part in node:
            at.append(part)
            node = node[part]
            consumed = True
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            at.append(part)
            node = node[part]
            consumed = True
    line = line_of(lines, tuple(at))
    if loc and not consumed and isinstance(node, dict) and isinstance(loc[-1], str):
        at.append(loc[-1])  # a check on a field the file leaves out: name that field
    message = error["msg"]
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        at.append("kind")
        line = line_of(lines, (*at[:-1], "kind"))  # the ``kind:`` line itself, when it is there
        if error["type"] == "union_tag_invalid":
            message = f"unknown kind {ctx.get('tag')!r}; known: {ctx.get('expected_tags')}"
        else:
            message = "required field is missing (it says which kind of spec this is)"
    elif error["type"] == "missing":
        message = "required field is missing"
    elif error["type"] in ("float_type", "int_type") and isinstance(value, (str, bool)):
        number = "a number" if error["type"] == "float_type" else "an integer"
        if isinstance(value, bool):
            message = f"must be {number}, got the boolean {str(value).lower()}"
        else:
            message = f"must be {number}, got the string {value!r}{quoted_number_hint(value)}"
    elif error["type"] == "spec_value":
        message = ctx["message"]
    message = message.removeprefix("Value error, ")
    field = ".".join(str(p) for p in at) if error["type"] != "missing" else ".".join(str(p) for p in named)
    return SpecError(file, line, field, message)


def _merge_misplaced(errors: list[SpecError], model: Any, data: Any) -> list[SpecError]:
    """One mistake, one error: a key written at the wrong place is both an unknown key where it
    is and, if required, a missing field where it belongs. Keep only the unknown key, at its
    line, and say where it belongs (the missing field's place, or a field the model knows)."""
    missing = {e.field.rsplit(".", 1)[-1]: e for e in errors if e.message == "required field is missing"}
    known = _field_places(model, data)
    merged, dropped = [], set()
    for e in errors:
        if e.message != "unknown key":
            merged.append(e)
            continue
        key = e.field.rsplit(".", 1)[-1]
        if key in missing:
            home = missing[key].field.rsplit(".", 1)[0] if "." in missing[key].field else ""
            dropped.add(id(missing[key]))
            e = SpecError(e.file, e.line, e.field, f"unknown key here; {key!r} belongs {_place(home)}, where it is missing")
        elif key in known and known[key] != e.field.rsplit(".", 1)[0]:
            e = SpecError(e.file, e.line, e.field, f"unknown key here; {key!r} belongs {_place(known[key])}")
        else:
            e = SpecError(e.file, e.line, e.field, _did_you_mean(key, e.field, known))
        merged.append(e)
    return [e for e in merged if id(e) not in dropped]


def _did_you_mean(key: str, field: str, known: dict[str, str]) -> str:
    """ "unknown key", with the closest valid key at the same place when one is close (a typo)."""
    place = field.rsplit(".", 1)[0] if "." in field else ""
    here = [name for name, at in known.items() if at == place]
    close = difflib.get_close_matches(key, here, n=1, cutoff=0.75)
    return f"unknown key; did you mean {close[0]!r}?" if close else "unknown key"


def _place(home: str) -> str:
    return f"under {home!r}" if home else "at the top level"


def _field_places(model: Any, data: Any) -> dict[str, str]:
    """Field name -> dotted place, for the fields of the model ``data`` is validated against and
    of its nested (non-list) models: where a misplaced key would go."""
    model = _model_of(model, data)
    places: dict[str, str] = {}

    def walk(cls, prefix: str) -> None:
        for name, info in cls.model_fields.items():
            places.setdefault(name, prefix)
            sub = info.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                walk(sub, f"{prefix}.{name}" if prefix else name)

    if model is not None:
        walk(model, "")
    return places


def _model_of(model: Any, data: Any):
    """The model class validating ``data``: ``model`` itself, or the member of a discriminated
    union that ``data['kind']`` selects."""
    kind = typing.get_args(model)[0] if typing.get_origin(model) is Annotated else model
    members = typing.get_args(kind) or (kind,)
    for m in members:
        if isinstance(m, type) and issubclass(m, BaseModel):
            tag = m.model_fields.get("kind")
            if len(members) == 1 or (
                isinstance(data, dict) and tag is not None and data.get("kind") in typing.get_args(tag.annotation)
            ):
                return m
    return None


def field_error(file: str | Path, lines: dict, at: tuple, message: str) -> SpecError:
    """A cross-reference error (e.g. a figure naming an unknown game) at the field's line."""
    return SpecError(str(file), line_of(lines, at), ".".join(str(p) for p in at), message)
