"""Every config test gets private XDG folders, so nothing touches the real home."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hydra_tui.cli.logsetup import close_logging


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every XDG base folder into tmp_path; return the hydra-tui config folder."""
    for var in ("CONFIG", "STATE", "DATA", "CACHE"):
        monkeypatch.setenv(f"XDG_{var}_HOME", str(tmp_path / var.lower()))
    return tmp_path / "config" / "hydra-tui"


@pytest.fixture
def write_config(xdg: Path) -> Callable[..., Path]:
    """Write config.toml (dedented) and return its path."""

    def write(text: str, name: str = "config.toml") -> Path:
        xdg.mkdir(parents=True, exist_ok=True)
        path = xdg / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _no_leftover_log_handlers() -> Iterator[None]:
    yield
    close_logging()
