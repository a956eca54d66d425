"""The exception tree's rules, read from the source (``ast``, nothing imported).

Errors a person sees live in ``errors.py``, the engine's private signals in
``engine/signals.py``; ``retryable`` is decided when an error is made, never changed
later; and no decision reads an exception's message text.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import hydra_tui

ROOT = Path(hydra_tui.__file__).parent
HOMES = {"errors.py", "engine/signals.py"}


def _trees() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(ROOT.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


def test_hydra_errors_are_defined_in_their_two_homes() -> None:
    tree = ast.parse((ROOT / "errors.py").read_text())
    ours = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    outside = [
        f"{name}: {node.name}"
        for name, tree in _trees()
        if name not in HOMES
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id in ours for base in node.bases)
    ]
    assert ours >= {"HydraError", "NetworkError", "Pushback"}
    assert outside == []


def test_retryable_is_never_set_after_construction() -> None:
    found = [
        f"{name}:{node.lineno}"
        for name, tree in _trees()
        if name != "errors.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AugAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and target.attr == "retryable"
    ]
    assert found == []


def test_no_decision_on_an_exception_message() -> None:
    """``"reset" in str(exc)`` and the like: decide by type or errno instead."""
    found = [
        f"{name}:{node.lineno}"
        for name, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        and any(
            isinstance(side, ast.Call)
            and isinstance(side.func, ast.Name)
            and side.func.id == "str"
            and side.args
            and isinstance(side.args[0], ast.Name)
            and side.args[0].id in {"exc", "e", "err", "error"}
            for side in node.comparators
        )
    ]
    assert found == []
