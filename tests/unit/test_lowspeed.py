"""The low-speed watch (issue 19 item 9) with an injected clock: no test waits 60 s."""

from __future__ import annotations

import pytest

from hydra_tui.engine.plan.lowspeed import LowSpeedWatch
from hydra_tui.errors import TooSlow


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_byte_every_five_seconds_trips_after_the_period() -> None:
    clock = Clock()
    watch = LowSpeedWatch(1024, 60.0, clock=clock, retries=2)
    watch.start(0)
    total, tripped_at = 0, None
    while tripped_at is None and clock.now < 300:
        clock.now += 5.0
        total += 1
        try:
            watch.check(total, opened=100.0)
        except TooSlow as exc:
            tripped_at = clock.now
            assert exc.retryable  # one trip of three allowed
    assert tripped_at == 160.0


def test_a_fast_download_never_trips() -> None:
    clock = Clock()
    watch = LowSpeedWatch(1024, 10.0, clock=clock, retries=0)
    watch.start(0)
    total = 0
    for _ in range(1000):
        clock.now += 0.1
        total += 200  # 2000 B/s
        watch.check(total, opened=100.0)


def test_a_stall_after_a_fast_start_trips_one_period_later() -> None:
    clock = Clock()
    watch = LowSpeedWatch(1024, 10.0, clock=clock, retries=5)
    watch.start(0)
    for _ in range(100):  # 10 s at 1 MiB/s
        clock.now += 0.1
        watch.check(int((clock.now - 100) * 1048576), opened=100.0)
    total = int((clock.now - 100) * 1048576)
    stalled_at = clock.now
    with pytest.raises(TooSlow):
        for _ in range(200):
            clock.now += 0.25
            watch.check(total, opened=100.0)
    assert 10.0 <= clock.now - stalled_at <= 10.0 + 10.0 / 8 + 0.25


def test_after_retries_trips_the_error_is_final_and_older_connections_restart() -> None:
    clock = Clock()
    watch = LowSpeedWatch(1000, 1.0, clock=clock, retries=1)
    watch.start(0)
    clock.now += 1.0
    with pytest.raises(TooSlow) as first:
        watch.check(10, opened=100.0)
    assert first.value.retryable
    # another connection opened before the trip is restarted at its next look
    with pytest.raises(TooSlow):
        watch.check(10, opened=100.5)
    opened = clock.now
    clock.now += 1.0
    with pytest.raises(TooSlow) as second:
        watch.check(20, opened=opened)
    assert not second.value.retryable
    assert "2 times" in str(second.value)


def test_off_and_under_our_own_rate_limit() -> None:
    clock = Clock()
    off = LowSpeedWatch(0, 1.0, clock=clock, retries=0)
    throttled = LowSpeedWatch(1024, 1.0, clock=clock, retries=0)
    for watch in (off, throttled):
        watch.start(0)
    clock.now += 5.0
    off.check(0, opened=100.0)
    # --limit-rate leaves each connection 500 B/s: slowness we impose is not the server's
    throttled.check(0, opened=100.0, share=500.0)
