"""No import cycles inside hydra_tui, counting imports inside functions.

A function-level import hides a cycle from Python (it runs late) but not from the design:
two modules that need each other are one module, or share a piece that belongs lower
down. Imports under ``if TYPE_CHECKING:`` are left out: they never run. Built with
``ast`` only, so the gate runs in the test venv (import-linter lives in its own).
"""

from __future__ import annotations

import ast
from pathlib import Path

import hydra_tui
from tests.support.imports import imported_names

ROOT = Path(hydra_tui.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """module → {hydra_tui module it imports: line}."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for target, line in imported_names(
            ast.parse(path.read_text()), package, skip_type_checking=True
        ):
            while target and target not in modules:  # `from a import func` → a
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    graph = import_graph()
    report = [
        f"{a} -> {b} (line {graph[a][b]})"
        for component in cycles(graph)
        for a in component
        for b in graph[a]
        if b in component
    ]
    assert report == []


def test_the_graph_sees_imports_inside_functions() -> None:
    """The gate is only as good as its graph: a known function-level import is in it."""
    graph = import_graph()
    assert "hydra_tui.cli.event_loop" in graph["hydra_tui.cli.daemon"]
    assert "hydra_tui.cli.tui_launch" in graph["hydra_tui.cli.main"]


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert cycles(graph) == [["a", "b", "c"]]
