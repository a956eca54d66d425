"""The settings a user can give on the command line or keep in a file.

``Settings`` is what the CLI, ``config show`` and the TUI see; the engine sees only the
``DownloadOptions`` built from it by ``Settings.download_options``. Command-only options
(URLs, ``--stream``, ``--md5``) are not settings: they make no sense in a file.
``preset_values`` goes the other way, from a download's options to the settings a preset
saved from it keeps, as option_table.py declares per option.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra_tui.config import option_table
from hydra_tui.config.fields import DEFAULT_THREADS, Headers, OnQuit, ProgressMode, Threads
from hydra_tui.engine.options import DownloadOptions

__all__ = ["Settings", "preset_values"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Every option that makes sense in a file; checked (and normalized) on construction.

    What each field means is written once, in ``config/option_table.py`` (its --help
    line and its starter-file comment); here are the types and built-in values.
    """

    threads: Threads = DEFAULT_THREADS
    output: Path = field(default_factory=Path)
    max_downloads: int = 4
    buffer: int | None = None
    chunk_size: int | None = None
    limit_rate: int | None = None
    retries: int = 5
    timeout: float = 15.0
    stall_timeout: float = 20.0
    headers: Headers = ()
    user_agent: str | None = None
    insecure: bool = False
    ca_certificate: Path | None = None
    progress: ProgressMode = "auto"
    quiet: bool = False
    no_ui: bool = False
    speed_limit: int = 1024
    speed_time: float = 60.0
    accept_html: bool = False
    on_quit: OnQuit = "detach"

    def __post_init__(self) -> None:
        # One checker per field, shared with the files and the command line, so a bad
        # value fails the same way wherever it came from. Checkers also normalize
        # (e.g. "64MiB" -> 67108864), hence the setattr on a frozen instance.
        for name in option_table.FIELD_NAMES:
            object.__setattr__(self, name, option_table.coerce(name, getattr(self, name)))

    def download_options(self, **overrides: Any) -> DownloadOptions:
        """The engine's options, each setting mapped by its entry in the option table
        (``Option.engine_values``); ``overrides`` set per-download fields (md5,
        filename, ...)."""
        values: dict[str, Any] = {}
        for option in option_table.OPTIONS:
            values.update(option.engine_values(getattr(self, option.name)))
        options = DownloadOptions(**values)
        return dataclasses.replace(options, **overrides) if overrides else options


def preset_values(options: DownloadOptions) -> dict[str, object]:
    """The settings of a download worth keeping in a preset (``Settings`` field names,
    in table order): each option with ``engine`` fields read back from ``options`` and
    kept as its ``in_preset`` says."""
    built_in = DownloadOptions()
    values: dict[str, object] = {}
    for option in option_table.OPTIONS:
        if option.in_preset is None or option.in_preset == "never":
            continue
        value = option.setting_of(options)
        if (
            option.in_preset == "always"
            or (option.in_preset == "set" and value)
            or (option.in_preset == "changed" and value != option.setting_of(built_in))
        ):
            values[option.name] = value
    return values
