"""The exception tree's rules, read from the source (``ast``, nothing imported).

Errors a person sees live in ``errors.py``, the engine's private signals in
``engine/signals.py``; ``retryable`` is decided when an error is made, never changed
later; and no decision reads an exception's message text.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def test_pushback_is_made_in_one_place_with_an_enum_kind() -> None:
    """429/503 become ``Pushback`` through ``error_map.check_pushback`` only, so every
    request loop reads the same statuses and Retry-After; its kind is a ``PushbackKind``."""
    made = [
        f"{name}:{node.lineno}"
        for name, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Pushback"
    ]
    assert [m.split(":")[0] for m in made] == ["engine/http/error_map.py"], made
    from hydra_tui.engine.http.error_map import check_pushback
    from hydra_tui.errors import Pushback, PushbackKind

    check_pushback(200, None)  # not a push-back: nothing raised
    for status, kind in ((429, PushbackKind.TOO_MANY_REQUESTS), (503, PushbackKind.UNAVAILABLE)):
        with pytest.raises(Pushback) as caught:
            check_pushback(status, "7")
        assert caught.value.kind is kind and caught.value.retry_after == 7.0
        assert str(caught.value) == f"HTTP {status} (server busy)"


def test_no_wait_for_where_the_engine_fetches() -> None:
    # On Python 3.11 ``asyncio.wait_for`` drops a cancel that arrives as its awaitable
    # completes: a range worker cancelled as its TLS connect finished went on, and a
    # stream whose reader hung up early waited forever for it (bench/PROFILE.md,
    # "A stream that hung after its reader hung up"). ``asyncio.timeout`` keeps the cancel.
    fetching = ("engine/http/", "engine/plan/", "engine/transfer.py", "engine/stream.py",
                "engine/one_connection.py", "engine/download.py", "engine/mirrors/")  # fmt: skip
    found = [
        f"{name}:{node.lineno}"
        for name, tree in _trees()
        if name.startswith(fetching)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "wait_for"
    ]
    assert found == []
