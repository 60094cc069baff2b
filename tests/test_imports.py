"""The import structure of the package: no import circles, and no module imports a higher layer.

Layers, bottom first. A module may import modules of its own group and of every lower layer;
the groups of one layer are siblings and never import each other.

0. **foundation**: numbers, files, tensors and random streams (``maprops`` itself for its
   version, ``spec_types``, ``shipped``, ``io``, ``results``, ``progress``, ``rng``, ``nets``,
   ``joint_actions``).
1. **registry**: ``maprops.kinds``, every game kind and sampler: settings models and entries.
   Entries name cores and samplers by class *path*, looked up when a run is built
   (``kinds.base.load_class``): that is how the bottom knows the engine without importing it.
2. **run spec**: ``maprops.config``, the run spec (the union of the registry's models).
3. **networks**: ``action_heads``, ``policies``, the policies' tensor code.
4. **specs | games | samplers | learning**: reading spec files (``maprops.specs``, which never
   imports torch); the game cores (``maprops.games``); the samplers (``maprops.samplers``); PPO,
   the buffers and the sampling-error measures (``ppo``, ``history``, ``metrics``, ``kl_error``).
5. **training | analysis**: the training loop and its process (``train``, ``checkpoint``,
   ``provenance``, ``train_cli``) | the policy-gradient checks (``premise``, ``gradient``).
6. **pipeline**: the workflow's modules (``pipeline/``), built on the library.
7. **command**: ``maprops.cli``, which dispatches to the library and to the pipeline.

No module imports another's private names (``_name``): what a module shares, it names
publicly. Every import counts, wherever it is written: one inside a function (a lazy import) ties the
modules as much as one at the top. An import names the module it imports from (``from
maprops.games import make_game``: ``maprops.games``; ``from maprops.kinds import vmas_probe``:
``maprops.kinds.vmas_probe``), not the packages above it. A new module must be placed in a
group below, or this test names it.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("maprops", "pipeline")

LAYERS: list[dict[str, tuple[str, ...]]] = [
    {
        "foundation": (
            "maprops",
            "maprops.spec_types",
            "maprops.shipped",
            "maprops.io",
            "maprops.results",
            "maprops.progress",
            "maprops.rng",
            "maprops.nets",
            "maprops.joint_actions",
        )
    },
    {"registry": ("maprops.kinds", "maprops.kinds.*")},
    {"run spec": ("maprops.config",)},
    {"networks": ("maprops.action_heads", "maprops.policies")},
    {
        "specs": ("maprops.specs", "maprops.specs.*"),
        "games": ("maprops.games", "maprops.games.*"),
        "samplers": ("maprops.samplers", "maprops.samplers.*"),
        "learning": ("maprops.ppo", "maprops.history", "maprops.metrics", "maprops.kl_error"),
    },
    {
        "training": ("maprops.train", "maprops.checkpoint", "maprops.provenance", "maprops.train_cli"),
        "analysis": ("maprops.premise", "maprops.gradient"),
    },
    {"pipeline": ("pipeline", "pipeline.*")},
    {"command": ("maprops.cli",)},
]


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file, for every module of the packages under ``root``."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules that module ``name`` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()

    def known(module: str) -> str | None:
        while module and module not in modules:
            module = module.rpartition(".")[0]
        return module or None

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1 packages
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES and (module := known(target)) and module != name:
                found.add(module)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = module_files(root)
    return {name: imported(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: every strongly connected set of two or more modules (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def place(module: str) -> tuple[int, str] | None:
    """(layer, group) of a module: the group with the most specific matching pattern."""
    best = None
    for layer, groups in enumerate(LAYERS):
        for group, patterns in groups.items():
            for pattern in patterns:
                if fnmatchcase(module, pattern) and (best is None or len(pattern) > best[0]):
                    best = (len(pattern), layer, group)
    return None if best is None else best[1:]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b (layer x group -> layer y group)`` for every import of a higher layer or of a
    sibling group."""
    out = []
    for module, targets in sorted(graph.items()):
        here = place(module)
        for target in sorted(targets):
            there = place(target)
            if here is None or there is None or there[1] == here[1]:
                continue
            if there[0] >= here[0]:
                out.append(f"{module} -> {target} ({here[0]} {here[1]} -> {there[0]} {there[1]})")
    return out


def private_imports(root: Path = ROOT) -> list[str]:
    """``module: from other import _name`` for every private name imported from another module."""
    out = []
    for name, path in module_files(root).items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                out += [
                    f"{name}: from {node.module} import {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return out


def test_every_module_has_a_place_in_the_layers():
    graph = import_graph()
    assert len(graph) > 90 and "maprops.kinds.base" in graph and "pipeline.expand" in graph  # it sees the modules
    assert [m for m in graph if place(m) is None] == []


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_no_module_imports_a_higher_layer_or_a_sibling():
    assert upward_imports(import_graph()) == []


def test_no_module_imports_private_names():
    assert private_imports() == []


def test_the_checks_see_circles_lazy_imports_and_upward_imports(tmp_path):
    """What the checks above would say of a package with a circle through a lazy import, a
    registry module that imports a game core, and a private import."""
    for package, files in {
        "maprops": {
            "__init__.py": "",
            "kinds/__init__.py": "",
            "kinds/vmas.py": "def probe():\n    from maprops.games.vmas_probe import answer\n",
            "games/__init__.py": "",
            "games/vmas_probe.py": "answer = 1\n",
            "samplers/__init__.py": "",
            "samplers/props.py": "def make():\n    from maprops.samplers.gaussian import G\n",
            "samplers/gaussian.py": "from maprops.samplers.props import make\nclass G: ...\n",
            "samplers/pairwise.py": "from maprops.samplers.gaussian import _head\n",
        },
        "pipeline": {"__init__.py": "from maprops.kinds import vmas\n"},
    }.items():
        for file, text in files.items():
            (tmp_path / package / file).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / package / file).write_text(text)
    graph = import_graph(tmp_path)
    assert graph["pipeline"] == {"maprops.kinds.vmas"}
    assert circles(graph) == [["maprops.samplers.gaussian", "maprops.samplers.props"]]
    assert upward_imports(graph) == ["maprops.kinds.vmas -> maprops.games.vmas_probe (1 registry -> 4 games)"]
    assert private_imports(tmp_path) == ["maprops.samplers.pairwise: from maprops.samplers.gaussian import _head"]
