"""Fixtures the fault-matrix modules share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runs import files_under


@pytest.fixture
def cwd(tmp_path: Path, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty current folder (after ``isolated_dirs``) that must still be empty at the
    end: a usage error writes nothing."""
    path = tmp_path / "cwd"
    path.mkdir()
    monkeypatch.chdir(path)
    yield path
    assert files_under(path) == []
