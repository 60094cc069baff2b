"""Load YAML and remember the line of every key and item, so errors can point at it.

PyYAML's ``compose`` keeps a source mark on every node; we build plain Python data from the
node tree and record ``path -> line`` for each node. Deviations from PyYAML's defaults, because
specs are written by people (and may come from anyone): ``1e-3`` is a float (YAML 1.1 needs
``1.0e-3``); a repeated key in one mapping is an error instead of silently keeping the last one;
a key must be text (``null:`` or ``1:`` is reported at its own line); aliases may not expand the
document beyond MAX_NODES nodes (a "billion laughs" file is refused at once, not after minutes);
a file that is not UTF-8 is one error naming it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from maprops.specs.errors import SpecError

Path_ = tuple  # a path into the data: keys (str) and list indices (int)
MAX_NODES = 100_000  # nodes after expanding aliases; the largest shipped spec has about 700


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` and ``5E+2`` as floats."""


_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_SpecLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789"))


def load_yaml_with_lines(path: str | Path) -> tuple[Any, dict[Path_, int]]:
    """Parse ``path``; return ``(data, lines)`` with 1-based line numbers keyed by data path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(str(path), None, "", f"cannot read: {err.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(str(path), None, "", "not UTF-8 text") from None
    loader = _SpecLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        raise SpecError(str(path), mark.line + 1 if mark else None, "", f"malformed YAML: {problem}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is None:
        raise SpecError(str(path), 1, "", "empty file")
    return _build(node, (), lines, loader, str(path), [0]), lines


def _build(node: yaml.Node, at: Path_, lines: dict[Path_, int], loader: yaml.SafeLoader, file: str, count: list) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise SpecError(file, node.start_mark.line + 1, _dotted(at), f"more than {MAX_NODES:,} values once aliases are expanded")
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError(file, key_node.start_mark.line + 1, _dotted(at), "a key must be text, not a list or mapping")
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                shown = "null" if key is None else repr(key)
                raise SpecError(file, key_node.start_mark.line + 1, _dotted(at), f"key {shown} must be text (quote it if meant)")
            if key in out:
                raise SpecError(file, key_node.start_mark.line + 1, _dotted(at + (key,)), "duplicate key")
            lines[at + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, at + (key,), lines, loader, file, count)
            lines[at + (key,)] = key_node.start_mark.line + 1  # the key's line, not its value's
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, at + (i,), lines, loader, file, count) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _dotted(at: Path_) -> str:
    return ".".join(str(p) for p in at)


def line_of(lines: dict[Path_, int], at: Path_) -> int | None:
    """Line of the deepest known prefix of ``at`` (a Pydantic loc may go below what YAML holds)."""
    for end in range(len(at), -1, -1):
        if at[:end] in lines:
            return lines[at[:end]]
    return None
