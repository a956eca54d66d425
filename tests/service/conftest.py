"""A service per test, on temporary XDG folders, that never outlives its test."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.service import service_pid


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short XDG_RUNTIME_DIR (a Unix socket's path is limited to 107 bytes); at the end,
    no service may be left running."""
    folder = Path(tempfile.mkdtemp(prefix="hy"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    leftover = service_pid()
    shutil.rmtree(folder, ignore_errors=True)
    if leftover is not None:
        os.kill(leftover, signal.SIGKILL)
        pytest.fail(f"a service (pid {leftover}) outlived its test")
