"""Raw setting values (TOML values, command-line strings) into checked, typed values.

The command line and the config files share these functions so ``-t 0`` and
``threads = 0`` fail with the same words. Each raises ``UsageError`` with a message that
starts with the field name; callers add where the value came from (file, table, option).
Only ``errors``, ``units`` and ``engine.defaults`` are imported, to keep the command
line fast. Which field takes which checker is ``option_table``'s.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, TypeAlias

from hydra_tui.engine.defaults import DEFAULT_THREADS
from hydra_tui.errors import UsageError
from hydra_tui.units import parse_rate, parse_size

__all__ = [
    "AUTO_THREADS_CEILING",
    "DEFAULT_THREADS",
    "MAX_THREADS",
    "MIN_BUFFER",
    "MIN_CHUNK_SIZE",
    "ON_QUIT_MODES",
    "PROGRESS_MODES",
    "Headers",
    "OnQuit",
    "ProgressMode",
    "Threads",
    "boolean",
    "merge_headers",
    "normalize_key",
    "parse_header",
    "show",
]

Threads: TypeAlias = int | Literal["auto"]
ProgressMode: TypeAlias = Literal["auto", "plain", "jsonl", "none"]
Headers: TypeAlias = tuple[tuple[str, str], ...]

MAX_THREADS = 1024
#: ``-t auto`` grows the window while throughput grows, up to this many connections
AUTO_THREADS_CEILING = 16
MIB = 1024 * 1024
MIN_BUFFER = MIB
#: smaller chunks would spend more time on request overhead than on data
MIN_CHUNK_SIZE = 4 * 1024
MAX_DOWNLOADS = 256
MAX_RETRIES = 1000
MAX_SECONDS = 24 * 3600.0
PROGRESS_MODES: tuple[ProgressMode, ...] = ("auto", "plain", "jsonl", "none")
OnQuit: TypeAlias = Literal["detach", "stop"]
#: what ``q`` does in a TUI attached to the service
ON_QUIT_MODES: tuple[OnQuit, ...] = ("detach", "stop")

# RFC 9110 token characters, the only ones allowed in a header name
_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def show(value: object) -> str:
    """A value the way the user wrote it in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # escapes quotes and line breaks
    if isinstance(value, list | tuple | dict):
        return type(value).__name__ if not isinstance(value, dict) else "a table"
    return repr(value)


def normalize_key(key: str) -> str:
    """``max-downloads`` and ``max_downloads`` name the same field."""
    return key.replace("-", "_")


def _int(name: str, value: object, low: int, high: int, what: str = "") -> int:
    """An integer in [low, high]; numeric strings are accepted (the command line)."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be an integer{what}, got {show(value)}")
    if not low <= value <= high:
        raise UsageError(f"{name} must be between {low} and {high}, got {value}")
    return value


def threads(value: object) -> Threads:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _int("threads", value, 1, MAX_THREADS, ' or "auto"')


def output(value: object) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"output must be a folder path, got {show(value)}")
    return Path(value).expanduser()


def _size(name: str, value: object, *, minimum: int, rate: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UsageError(
            f'{name} must be a size like "64MiB" or a number of bytes, got {show(value)}'
        )
    try:
        n = parse_rate(value, what=name) if rate else parse_size(value, what=name)
    except UsageError as exc:
        raise UsageError(str(exc).replace(f"invalid {name}", f"{name} is invalid", 1)) from None
    if n < minimum:
        raise UsageError(f"{name} must be at least {_human(minimum)}, got {_human(n)}")
    return n


def _human(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def buffer(value: object) -> int | None:
    """``None`` or ``"auto"`` means threads x 8 MiB."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    return _size("buffer", value, minimum=MIN_BUFFER)


def chunk_size(value: object) -> int | None:
    """``None`` or ``"auto"`` lets the planner choose from file size and threads."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    return _size("chunk_size", value, minimum=MIN_CHUNK_SIZE)


def limit_rate(value: object) -> int | None:
    """``0``, ``"0"`` or ``"unlimited"`` lift a limit set by a lower layer."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "unlimited"):
        return None
    n = _size("limit_rate", value, minimum=0, rate=True)
    return n or None


def retries(value: object) -> int:
    return _int("retries", value, 0, MAX_RETRIES)


def max_downloads(value: object) -> int:
    return _int("max_downloads", value, 1, MAX_DOWNLOADS)


def _seconds(name: str, value: object) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip().removesuffix("s"))
        except ValueError:
            raise UsageError(f"{name} must be a number of seconds, got {show(value)}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name} must be a number of seconds, got {show(value)}")
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise UsageError(f"{name} must be more than 0 and at most {MAX_SECONDS:.0f} seconds")
    return float(value)


def timeout(value: object) -> float:
    return _seconds("timeout", value)


def stall_timeout(value: object) -> float:
    return _seconds("stall_timeout", value)


def speed_limit(value: object) -> int:
    """Bytes per second (``1K``, ``"1K/s"``); 0 turns the low-speed limit off."""
    return _size("speed_limit", value, minimum=0, rate=True)


def speed_time(value: object) -> float:
    return _seconds("speed_time", value)


def parse_header(text: object) -> tuple[str, str]:
    """``"Name: value"`` into a pair; an empty value removes a header set by a lower layer."""
    if not isinstance(text, str):
        raise UsageError(f'header must be a "Name: value" string, got {show(text)}')
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN_RE.match(name):
        raise UsageError(f'header must look like "Name: value", got {show(text)}')
    if any(c in value for c in "\r\n\0"):
        raise UsageError(f"header {name} has a line break or NUL in its value")
    if not value.isascii():
        # HTTP sends header values as bytes; which encoding a server reads is a guess
        raise UsageError(
            f"header {name} has non-ASCII characters in its value (percent-encode them)"
        )
    return name, value


def headers(value: object) -> Headers:
    """A TOML table ``{ "X-Token" = "abc" }``, a list of ``"Name: value"`` or pairs."""
    if isinstance(value, Mapping):
        items = [f"{k}: {v}" if isinstance(v, str) else _bad_header(k, v) for k, v in value.items()]
        return tuple(parse_header(item) for item in items)
    if isinstance(value, list | tuple):
        pairs: list[tuple[str, str]] = []
        for item in value:
            if isinstance(item, str):
                pairs.append(parse_header(item))
            elif (
                isinstance(item, tuple)
                and len(item) == 2
                and all(isinstance(part, str) for part in item)
            ):
                pairs.append(parse_header(f"{item[0]}: {item[1]}"))
            else:
                raise UsageError(f'headers entries must be "Name: value" strings, got {show(item)}')
        return tuple(pairs)
    raise UsageError(f'headers must be a table or a list of "Name: value", got {show(value)}')


def _bad_header(name: object, value: object) -> str:
    raise UsageError(f"header {name} must have a string value, got {show(value)}")


def merge_headers(lower: Headers, higher: Headers) -> Headers:
    """A name set in the higher layer replaces that name from the lower; ``""`` deletes it."""
    names = {name.lower() for name, _ in higher}
    kept = [(n, v) for n, v in lower if n.lower() not in names]
    return tuple(kept + [(n, v) for n, v in higher if v])


def user_agent(value: object) -> str | None:
    """``""`` (or None) means the built-in ``hydra-tui/<version>``."""
    if value is None:
        return None
    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        raise UsageError(f"user_agent must be a single-line string, got {show(value)}")
    return value.strip() or None


def ca_certificate(value: object) -> Path | None:
    """A PEM bundle that replaces the default trust roots; ``""`` (or None) means none."""
    if value is None or isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise UsageError(f"ca_certificate must be a file path, got {show(value)}")
    if not value.strip():
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise UsageError(f"ca_certificate {value}: no such file")
    return path


def boolean(name: str) -> Callable[[object], bool]:
    """A checker of true or false for the field ``name``."""

    def check(value: object) -> bool:
        if not isinstance(value, bool):
            raise UsageError(f"{name} must be true or false, got {show(value)}")
        return value

    check.__name__ = name
    return check


def progress(value: object) -> ProgressMode:
    for mode in PROGRESS_MODES:
        if value == mode:
            return mode
    choices = ", ".join(PROGRESS_MODES)
    raise UsageError(f"progress must be one of {choices}, got {show(value)}")


def on_quit(value: object) -> OnQuit:
    for mode in ON_QUIT_MODES:
        if value == mode:
            return mode
    raise UsageError(f"on_quit must be one of {', '.join(ON_QUIT_MODES)}, got {show(value)}")
