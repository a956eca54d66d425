from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hydra_tui.config import locations

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="XDG layout is Linux's")


def test_paths_follow_xdg(xdg: Path, tmp_path: Path) -> None:
    assert locations.config_dir() == xdg
    assert locations.config_file() == xdg / "config.toml"
    assert locations.presets_file() == xdg / "presets.toml"
    assert locations.state_dir() == tmp_path / "state" / "hydra-tui"
    assert locations.log_dir().is_relative_to(tmp_path / "state" / "hydra-tui")
    assert locations.log_file().name == "hydra-tui.log"


def test_paths_are_computed_per_call(
    xdg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    assert locations.config_file() == tmp_path / "elsewhere" / "hydra-tui" / "config.toml"


def test_asking_for_a_path_creates_nothing(xdg: Path, tmp_path: Path) -> None:
    locations.config_file()
    locations.state_dir()
    locations.log_dir()
    assert not any(tmp_path.iterdir())
