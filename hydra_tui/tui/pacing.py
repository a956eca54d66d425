"""How often the screen is drawn: every poll, or every third one while the machine is busy.

The UI reads snapshots ten times a second. A frame costs the UI little, which is
nothing until the download itself keeps the machine busy: then every frame's CPU is
taken from the download, and drawing every third poll costs it as little as drawing
none, within the noise (``bench/PROFILE.md``, "The TUI's ratio, measured with a
control", has the figures). So while the app and its engine together use most of a core
(``cpu_clock``: the TUI passes its own CPU time plus the engine process's), only every
third poll is drawn. Polls still happen every time: notifications, the saved queue and
``--exit-when-done`` do not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["BUSY_CPU_SHARE", "BUSY_EVERY", "Pacing"]

#: CPU seconds per second (as ``cpu_clock`` counts them) above which the machine is busy
BUSY_CPU_SHARE = 0.75
#: while busy, one poll in BUSY_EVERY is drawn (3.3 Hz at ten polls a second)
BUSY_EVERY = 3


class Pacing:
    """Called once per poll; says whether that poll is drawn."""

    def __init__(
        self,
        *,
        busy_share: float = BUSY_CPU_SHARE,
        window: float = 0.3,
        busy_every: int = BUSY_EVERY,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self._busy_share = busy_share
        self._window = window
        self._busy_every = busy_every
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._since = clock()
        self._cpu_since = cpu_clock()
        self._polls = 0
        #: whether the last full window was busy
        self.busy = False

    def draw(self) -> bool:
        now = self._clock()
        elapsed = now - self._since
        if elapsed >= self._window:
            cpu = self._cpu_clock()
            self.busy = (cpu - self._cpu_since) / elapsed >= self._busy_share
            self._since, self._cpu_since = now, cpu
        self._polls += 1
        return not self.busy or self._polls % self._busy_every == 0
