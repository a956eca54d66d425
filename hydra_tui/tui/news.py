"""``News``: finished and failed downloads, told as toasts at a pace a person can read.

One toast per download was fine for three downloads; with a queue of 500 small files the
app showed 500 toasts in a few seconds, and Textual's toast rack, which re-queries every
notification per toast, spent more than half the UI's time on them (the TUI took twice
as long as ``--no-ui`` for the same queue). So each kind (finished, failed) is told at
most once per ``interval``: the first at once, what arrives meanwhile as one summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.format import display_name

__all__ = ["ANNOUNCE_INTERVAL", "News", "Toast"]

#: seconds between two toasts of one kind
ANNOUNCE_INTERVAL = 2.0
#: names listed in a summary before "and N more"
LISTED = 3


@dataclass(frozen=True, slots=True)
class Toast:
    """One notification to show."""

    title: str
    message: str
    error: bool


class News:
    """Collects finished and failed downloads; ``due`` says what to show now."""

    def __init__(
        self, *, interval: float = ANNOUNCE_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._waiting: dict[DownloadState, list[DownloadSnapshot]] = {
            DownloadState.DONE: [],
            DownloadState.FAILED: [],
        }
        self._told_at: dict[DownloadState, float] = {}

    def add(self, snap: DownloadSnapshot) -> None:
        """Note a download that just finished or failed (other states are not news)."""
        waiting = self._waiting.get(snap.state)
        if waiting is not None:
            waiting.append(snap)

    def due(self) -> list[Toast]:
        """The toasts to show now (each kind at most once per interval)."""
        now = self._clock()
        toasts = []
        for state, snaps in self._waiting.items():
            told = self._told_at.get(state)
            if not snaps or (told is not None and now - told < self._interval):
                continue
            self._waiting[state] = []
            self._told_at[state] = now
            toasts.append(_toast(state, snaps))
        return toasts


def _toast(state: DownloadState, snaps: list[DownloadSnapshot]) -> Toast:
    failed = state is DownloadState.FAILED
    if len(snaps) == 1:
        [snap] = snaps
        if failed:
            return Toast(f"{display_name(snap)} failed", snap.error or "failed", True)
        return Toast("Download finished", display_name(snap), False)
    more = len(snaps) - LISTED
    if failed:
        lines = [f"{display_name(s)}: {s.error or 'failed'}" for s in snaps[:LISTED]]
        if more > 0:
            lines.append(f"and {more} more (L shows the log)")
        return Toast(f"{len(snaps)} downloads failed", "\n".join(lines), True)
    names = ", ".join(display_name(s) for s in snaps[:LISTED])
    if more > 0:
        names += f" and {more} more"
    return Toast(f"{len(snaps)} downloads finished", names, False)
