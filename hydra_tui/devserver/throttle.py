"""Throttles: a per-connection pacer and a link shared by all connections of a resource.

Both schedule against a monotonic clock (absolute targets, so sleep jitter does not add
up) and answer "how long to wait before sending n more bytes"; the caller sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["LinkBucket", "Pacer", "slice_size"]

Clock = Callable[[], float]
#: how far behind schedule a pacer may fall before it forgets the debt (no catch-up burst)
MAX_LAG = 0.05


def slice_size(rate: int, unthrottled: int = 256 * 1024) -> int:
    """Bytes per write: about 100 writes a second when throttled, so the rate looks smooth."""
    if rate <= 0:
        return unthrottled
    return max(1, min(64 * 1024, rate // 100))


class Pacer:
    """Spreads one body evenly at ``rate`` bytes/s."""

    def __init__(self, rate: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._start = clock()
        self._sent = 0

    def delay(self, n: int) -> float:
        """Seconds to wait, then send ``n`` bytes: they are due when the clock allows them."""
        now = self._clock()
        due = self._start + (self._sent + n) / self.rate
        if due < now - MAX_LAG:  # the client did not read for a while: restart the schedule
            self._start = now - self._sent / self.rate
            due = self._start + (self._sent + n) / self.rate
        self._sent += n
        return max(0.0, due - now)


class LinkBucket:
    """A shared link of ``rate`` bytes/s: each reservation takes the next free slot on it."""

    def __init__(self, rate: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._next_free = 0.0

    def reserve(self, n: int) -> float:
        """Seconds to wait, then send ``n`` bytes; the link is busy with them until then."""
        now = self._clock()
        start = max(now, self._next_free)
        self._next_free = start + n / self.rate
        return self._next_free - now
