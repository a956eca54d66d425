"""The low-speed limit: curl's ``--speed-limit``/``--speed-time``, aria2c's
``--lowest-speed-limit``.

A server that sends a byte every few seconds never trips the stall timeout (bytes do
arrive), so without this a download could last forever. ``LowSpeedWatch`` looks at one
download's received bytes over the last ``period`` seconds: below ``limit`` bytes/s for
the whole period trips it. A trip restarts every connection that was open before it;
after ``retries`` trips the download fails. Pure: the clock is injected, so a test
drives it without waiting (and the engine's own tests use a small ``--speed-time``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from hydra_tui.errors import TooSlow
from hydra_tui.units import format_rate

__all__ = ["LowSpeedWatch"]

#: samples per period: the window slides in steps of period/8
_STEPS = 8


class LowSpeedWatch:
    """Trips when fewer than ``limit`` bytes/s arrived over the last ``period`` seconds."""

    def __init__(
        self, limit: int, period: float, *, clock: Callable[[], float], retries: int
    ) -> None:
        #: bytes per second; 0 turns the watch off
        self.limit = limit
        self.period = period
        self.retries = retries
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        #: times the download was found too slow
        self.trips = 0
        self._tripped_at = float("-inf")

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.period > 0

    def start(self, total: int) -> None:
        """(Re)start the window now, with ``total`` bytes received so far."""
        self._samples.clear()
        self._samples.append((self._clock(), total))

    def check(self, total: int, opened: float, *, share: float | None = None) -> None:
        """Raise ``TooSlow`` if the connection opened at ``opened`` must be restarted.

        ``total`` is the download's received byte count; ``share`` is the per-connection
        rate a ``--limit-rate`` allows (a throttle we impose is never "too slow").
        """
        if not self.enabled or (share is not None and share < self.limit):
            return
        now = self._clock()
        if opened < self._tripped_at:
            raise self._error()
        samples = self._samples
        if not samples:
            samples.append((now, total))
            return
        if now - samples[-1][0] >= self.period / _STEPS:
            samples.append((now, total))
        while len(samples) > 1 and samples[1][0] <= now - self.period:
            samples.popleft()
        t0, b0 = samples[0]
        if now - t0 >= self.period and total - b0 < self.limit * (now - t0):
            self.trips += 1
            self._tripped_at = now
            samples.clear()
            samples.append((now, total))
            raise self._error()

    def _error(self) -> TooSlow:
        return TooSlow(
            f"too slow: under {format_rate(self.limit)} for {self.period:g} s "
            f"(--speed-limit/--speed-time), {self.trips} time{'s' if self.trips != 1 else ''}",
            retryable=self.trips <= self.retries,
        )
