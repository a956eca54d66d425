"""Where hydra-tui keeps its files, per platform, via platformdirs.

Every path is computed when asked for, never at import, so tests (and users) can point
``XDG_CONFIG_HOME``/``XDG_STATE_HOME`` elsewhere per process or per test.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

__all__ = [
    "APP_NAME",
    "config_dir",
    "config_file",
    "log_dir",
    "log_file",
    "presets_file",
    "state_dir",
]

APP_NAME = "hydra-tui"


def config_dir() -> Path:
    """The folder with ``config.toml`` and ``presets.toml`` (``$XDG_CONFIG_HOME/hydra-tui``)."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def config_file() -> Path:
    """The hand-edited config file; hydra-tui reads it and never rewrites it."""
    return config_dir() / "config.toml"


def presets_file() -> Path:
    """The app-owned presets file written by ``config save-preset`` and the TUI."""
    return config_dir() / "presets.toml"


def state_dir() -> Path:
    """Resume store and TUI queue: data that matters but that nobody edits by hand."""
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    """Folder of the rotating log file."""
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def log_file() -> Path:
    """The log file itself (rotated copies get ``.1``, ``.2``, … appended)."""
    return log_dir() / "hydra-tui.log"
