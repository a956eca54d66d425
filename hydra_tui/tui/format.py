"""Short text forms of snapshot fields for the narrow cells of the queue and detail pane.

Pure functions, so the table's in-place diffing and the tests can share them.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.units import format_duration, format_rate, format_size

__all__ = [
    "BAR_EIGHTHS",
    "LEVELS",
    "WAITING_FOR_HOST",
    "connections_text",
    "display_name",
    "eta_text",
    "progress_bar",
    "rate_limit_text",
    "short_rate",
    "short_size",
    "speed_text",
    "state_label",
]

#: vertical fill levels 0..8, used by the chunk grid and the rate graph
LEVELS = " ▁▂▃▄▅▆▇█"
#: horizontal fill levels 0..8, used by progress bars
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"

_TRANSFERRING = (DownloadState.PROBING, DownloadState.DOWNLOADING, DownloadState.VERIFYING)
#: the state column of a download whose host has no free connection for it
WAITING_FOR_HOST = "waiting for host"


def short_size(n: float | None) -> str:
    """``1.5 G`` rather than ``1.5 GiB``: the queue's size column has 8 cells."""
    return format_size(n).replace("iB", "")


def short_rate(bytes_per_s: float) -> str:
    """``12.3 MiB/s``: the one speed format of the TUI (queue, title, details, graph).

    At most 11 cells: a value of 1,000 or more moves to the next unit (``1.0 MiB/s``,
    never ``1017.7 KiB/s``, which the speed column would cut).
    """
    value = float(bytes_per_s)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 999.95:
            return f"{value:.0f} {unit}/s" if unit == "B" else f"{value:.1f} {unit}/s"
        value /= 1024
    return f"{value:.1f} TiB/s"


def display_name(snapshot: DownloadSnapshot) -> str:
    """The file name once known, else the last path segment of the URL, else the URL."""
    if snapshot.name:
        return snapshot.name
    parts = urlsplit(snapshot.url)
    tail = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return tail or parts.netloc or snapshot.url


def state_label(snapshot: DownloadSnapshot) -> str:
    """The state word, with the reason for a failure (the detail pane has the full text)."""
    if snapshot.state is DownloadState.FAILED and snapshot.error:
        return f"failed: {snapshot.error}"
    if snapshot.waiting_for_host and snapshot.state in _TRANSFERRING:
        return WAITING_FOR_HOST
    return snapshot.state.value


def progress_bar(fraction: float | None, width: int) -> str:
    """A bar of ``width`` cells in eighths plus a percentage, e.g. ``███▌  70%``."""
    if fraction is None:
        return " " * width + "   ?"
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    bar = "█" * full + (BAR_EIGHTHS[rest] if full < width else "")
    return f"{bar:<{width}}{int(fraction * 100):>4d}%"


def speed_text(snapshot: DownloadSnapshot) -> str:
    """Blank unless bytes are flowing, so a paused row does not show a stale speed."""
    if snapshot.state in _TRANSFERRING and snapshot.speed > 0:
        return short_rate(snapshot.speed)
    return ""


def eta_text(snapshot: DownloadSnapshot) -> str:
    if snapshot.state is DownloadState.DOWNLOADING and not snapshot.waiting_for_host:
        return format_duration(snapshot.eta)
    return ""


def connections_text(snapshot: DownloadSnapshot) -> str:
    """``active/window``: how many connections are open out of how many are allowed;
    ``10→7`` while connections above a lowered ceiling are closing."""
    if snapshot.state not in (DownloadState.PROBING, DownloadState.DOWNLOADING):
        return ""
    if snapshot.waiting_for_host:
        return ""
    if snapshot.max_window and snapshot.active > snapshot.max_window:
        return f"{snapshot.active}→{snapshot.max_window}"
    return f"{snapshot.active}/{snapshot.window}"


def rate_limit_text(limit: int | None) -> str:
    return "unlimited" if not limit else format_rate(limit)
