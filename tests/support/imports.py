"""What a module imports, read with ``ast``: shared by the import gates
(tests/test_import_cycles.py, tests/test_test_imports.py)."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator

__all__ = ["imported_names"]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(
    tree: ast.AST, package: str, *, skip_type_checking: bool = False
) -> Iterator[tuple[str, int]]:
    """Every name ``tree`` imports, at any depth (inside functions too), with its line,
    in ``ast.walk`` order: ``from a import b`` yields ``a.b``; relative imports are
    resolved against ``package``. With ``skip_type_checking``, the body of
    ``if TYPE_CHECKING:`` is left out (it never runs)."""
    todo: deque[ast.AST] = deque([tree])
    while todo:
        node = todo.popleft()
        if skip_type_checking and isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno
        todo.extend(ast.iter_child_nodes(node))
