"""No test module imports another: what tests share lives in ``tests.support``.

A test file that imports another test file or a conftest ties two files that look
independent, and under pytest's ``prepend`` import mode may load the other one a second
time under another name (``service.conftest`` and ``tests.service.conftest``). Helpers
go to ``tests/support/`` (a module named for what it holds); fixtures stay in conftest
files, which pytest finds on its own, and a conftest may import from ``tests.support``.
Imports inside functions count. Built with ``ast``, like tests/test_import_cycles.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.imports import imported_names

TESTS = Path(__file__).parent
# What a test could reach without the ``tests.`` prefix, through the folders pytest puts
# on sys.path: ``import conftest``, ``from service.conftest import ...``.
LOCAL_NAMES = frozenset(
    p.stem if p.is_file() else p.name
    for p in TESTS.iterdir()
    if (p.is_file() and p.suffix == ".py") or (p.is_dir() and any(p.rglob("*.py")))
)


def _package(path: Path) -> str:
    """The package relative imports in ``path`` start from (for ``__init__.py``, its own)."""
    return ".".join(path.relative_to(TESTS.parent).parts[:-1])


def is_allowed(name: str) -> bool:
    """``tests.support`` and anything outside tests/; no other test module or conftest."""
    top, _, rest = name.partition(".")
    if top == "tests":
        return rest == "support" or rest.startswith("support.")
    return top not in LOCAL_NAMES


def offenders(source: str, package: str) -> list[tuple[str, int]]:
    return [
        (name, line)
        for name, line in imported_names(ast.parse(source), package)
        if not is_allowed(name)
    ]


def test_no_test_module_imports_another() -> None:
    report = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name, line in offenders(path.read_text(), _package(path))
    ]
    assert report == []


def test_the_check_sees_each_way_in() -> None:
    """The gate is only as good as what it recognises: each form of import is seen."""
    source = "\n".join(
        [
            "import json",
            "from tests.service.conftest import Daemon",  # 2
            "from .conftest import hydra",  # 3
            "import conftest",  # 4
            "from tests import cli",  # 5
            "from service.conftest import ls",  # 6
            "from tests.support.service import Daemon",
            "from tests import support",
            "import tests.support.helpers",
            "from hydra_tui.service import paths",
            "def f():",
            "    import tests.unit.test_resume_store",  # 12
        ]
    )
    assert [line for _name, line in offenders(source, "tests.service")] == [2, 3, 4, 5, 6, 12]
    assert offenders("from .helpers import cli\nfrom . import pilot", "tests.support") == []


def test_packages_resolve_like_python() -> None:
    assert _package(TESTS / "service" / "test_tui_attach.py") == "tests.service"
    assert _package(TESTS / "support" / "__init__.py") == "tests.support"
    assert _package(TESTS / "conftest.py") == "tests"
