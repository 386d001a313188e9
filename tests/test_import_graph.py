"""The layers hold: ``cli -> agent -> tools, retrieval -> workflows``, no upward or sideways
edges between packages, and no import cycle between modules. Read from the source with ``ast``
(every import counts, the lazy ones inside functions too)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# package -> the packages it may import (besides itself)
ALLOWED = {
    "workflows": set(),
    "retrieval": {"workflows"},
    "tools": {"workflows"},
    "agent": {"tools", "retrieval", "workflows"},
    "cli": {"agent", "tools", "retrieval", "workflows"},
}


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return "flowsleuth." + ".".join(parts)


def _imports(path: Path, modules: set[str]) -> list[tuple[str, bool]]:
    """(imported flowsleuth module, at module level) for every import in ``path``:
    ``from pkg import sub`` imports the module ``pkg.sub`` when there is one, else ``pkg``."""
    tree = ast.parse(path.read_text(), str(path))
    top = set(map(id, tree.body))
    out: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = [m for m in subs if m in modules]
            if len(names) < len(subs):
                names.append(node.module)
        out += [(n, id(node) in top) for n in names if n.startswith("flowsleuth.")]
    return out


def _graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """(module -> modules it imports at module level, every import edge)."""
    files = [p for pkg in ALLOWED for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module(p) for p in files}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    edges = []
    for path in files:
        src = _module(path)
        for target, at_top in _imports(path, modules):
            # Importing a module runs its parent packages first: not an edge of its own.
            if target not in modules or target == src or src.startswith(target + "."):
                continue
            edges.append((src, target))
            if at_top:
                graph[src].add(target)
    return graph, edges


def test_no_upward_or_sideways_edges() -> None:
    _, edges = _graph()
    assert len(edges) > 100  # the scan sees the real imports
    bad = [
        f"{a} -> {b}"
        for a, b in edges
        if (pa := a.split(".")[1]) != (pb := b.split(".")[1]) and pb not in ALLOWED[pa]
    ]
    assert bad == []


def test_no_import_cycles() -> None:
    graph, _ = _graph()
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(err.args[1])}") from None


def test_the_checks_can_fail() -> None:
    sorter = graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}})
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return
    raise AssertionError("a two-module cycle was not detected")
