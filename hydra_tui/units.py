"""Parsing and printing of byte sizes and rates (``64MiB``, ``1G``, ``500K``, ``5M/s``).

Sizes follow the convention of curl and aria2c: a bare ``K``/``M``/``G`` is binary
(1024-based), as is ``KiB``/``MiB``/``GiB``; ``KB``/``MB``/``GB`` are decimal.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from hydra_tui.errors import UsageError

__all__ = ["format_duration", "format_rate", "format_size", "parse_rate", "parse_size"]

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kib": 1024,
    "kb": 1000,
    "m": 1024**2,
    "mib": 1024**2,
    "mb": 1000**2,
    "g": 1024**3,
    "gib": 1024**3,
    "gb": 1000**3,
    "t": 1024**4,
    "tib": 1024**4,
    "tb": 1000**4,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
MAX_SIZE = 1 << 60


def parse_size(text: str | int, *, what: str = "size") -> int:
    """Parse ``64MiB``/``1G``/``500K``/``1048576`` into bytes; raise UsageError otherwise."""
    if isinstance(text, bool):
        raise UsageError(f"invalid {what}: {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise UsageError(f"invalid {what}: {text} (must not be negative)")
        return text
    match = _SIZE_RE.match(text)
    if not match:
        raise UsageError(f"invalid {what}: {text!r} (expected e.g. 64MiB, 1G, 500K)")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise UsageError(f"invalid {what}: {text!r} (unknown unit {unit!r})")
    amount = Decimal(number)  # exact: float() would round above 2**53 and overflow to inf
    if amount > MAX_SIZE or amount * factor > MAX_SIZE:
        raise UsageError(f"invalid {what}: {text!r} (too large)")
    return int(amount * factor)


def parse_rate(text: str | int, *, what: str = "rate") -> int:
    """Parse a rate such as ``5M`` or ``5M/s`` into bytes per second (0 means unlimited)."""
    if isinstance(text, str) and text.lower().endswith("/s"):
        text = text[:-2]
    return parse_size(text, what=what)


def format_size(n: float | None) -> str:
    """Human-readable binary size: ``1.5 GiB``."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def format_rate(bytes_per_s: float) -> str:
    """Human-readable rate: ``12.3 MiB/s``."""
    return f"{format_size(bytes_per_s)}/s"


def format_duration(seconds: float | None) -> str:
    """Compact duration for ETAs: ``42s``, ``3m05s``, ``2h10m``; ``--`` when unknown."""
    if seconds is None or math.isnan(seconds) or seconds < 0 or seconds > 99 * 3600:
        return "--"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
