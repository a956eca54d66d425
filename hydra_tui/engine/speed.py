"""Throughput over the last few seconds, from the byte counts the sampling ticker reads.

One meter per download and one per mirror, fed by the same ticker
(``Download.sampling``), so the speed a row shows and a mirror's line agree on what a
second is.
"""

from __future__ import annotations

from collections import deque

__all__ = ["SpeedMeter"]

#: the speed is averaged over about this many seconds of samples
WINDOW_SECONDS = 3.0


class SpeedMeter:
    """Bytes per second over the last ``WINDOW_SECONDS`` of samples."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=64)
        self.speed = 0.0

    def sample(self, now: float, total: int) -> float:
        """Record ``total`` bytes received by ``now``; returns the speed since the oldest
        sample still inside the window (keeping two, however old)."""
        samples = self._samples
        samples.append((now, total))
        while len(samples) > 2 and now - samples[0][0] > WINDOW_SECONDS:
            samples.popleft()
        t0, b0 = samples[0]
        self.speed = (total - b0) / (now - t0) if now > t0 else 0.0
        return self.speed
