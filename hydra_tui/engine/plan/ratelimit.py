"""One token bucket shared by all connections of a download (``--limit-rate``), and
optionally a parent bucket shared by every download of a run (``--limit-rate-total``).

Debt-based: a reader takes the bytes it just read and sleeps off any deficit, so the
long-run rate is exact whatever the read sizes, and the rate can change at run time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Rate limit in bytes/second; ``rate=None`` means unlimited."""

    def __init__(
        self,
        rate: int | None,
        *,
        clock: Callable[[], float],
        burst: float = 0.05,
        parent: TokenBucket | None = None,
    ) -> None:
        self._clock = clock
        #: a bucket every byte is also taken from (the run's total); its debt counts too
        self.parent = parent
        self._burst_seconds = burst
        self._rate: int | None = None
        self._tokens = 0.0
        self._stamp = clock()
        self.set_rate(rate)

    @property
    def rate(self) -> int | None:
        """The tightest limit this bucket's bytes obey (its own or its parent's)."""
        if self.parent is None or self.parent.rate is None:
            return self._rate
        if self._rate is None:
            return self.parent.rate
        return min(self._rate, self.parent.rate)

    @property
    def own_rate(self) -> int | None:
        """This bucket's own limit (what ``set_rate`` set)."""
        return self._rate

    def set_rate(self, rate: int | None) -> None:
        self._refill()
        self._rate = rate if rate and rate > 0 else None
        self._tokens = min(self._tokens, self._capacity())

    def _capacity(self) -> float:
        return 0.0 if self._rate is None else max(16384.0, self._rate * self._burst_seconds)

    def _refill(self) -> None:
        now = self._clock()
        if self._rate is not None:
            self._tokens = min(self._capacity(), self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def take(self, n: int) -> float:
        """Take ``n`` tokens; return how long the caller should sleep to pay the debt."""
        shared = 0.0 if self.parent is None else self.parent.take(n)
        if self._rate is None:
            return shared
        self._refill()
        self._tokens -= n
        return max(shared, 0.0 if self._tokens >= 0 else -self._tokens / self._rate)

    async def consume(self, n: int) -> None:
        delay = self.take(n)
        if delay > 0:
            await asyncio.sleep(delay)
