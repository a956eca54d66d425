"""Throttles keep their rates: measured with time.monotonic over real sockets."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.devserver.throttle import LinkBucket, Pacer
from tests.support.raw_http import fetch

KiB, MiB = 1024, 1 << 20


@pytest.mark.parametrize(("rate", "size"), [(512 * KiB, 512 * KiB), (8 * MiB, 4 * MiB)])
def test_per_connection_rate_is_accurate(srv: DevServer, rate: int, size: int) -> None:
    srv.add("f", bytes(size), Faults(rate=rate))
    start = time.monotonic()
    reply = fetch(srv, "/f")
    elapsed = time.monotonic() - start
    assert len(reply.body) == size
    assert elapsed == pytest.approx(size / rate, rel=0.10)


def test_link_rate_is_shared_by_all_connections(srv: DevServer) -> None:
    srv.add("f", bytes(256 * KiB), Faults(link_rate=512 * KiB))

    def timed() -> float:
        begin = time.monotonic()
        assert len(fetch(srv, "/f").body) == 256 * KiB
        return time.monotonic() - begin

    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        each = list(pool.map(lambda _: timed(), range(2)))
    assert time.monotonic() - start == pytest.approx(1.0, rel=0.10)
    assert min(each) > 0.8  # shared evenly, not one after the other


def test_pacer_spreads_bytes_on_its_clock() -> None:
    now = [100.0]
    pacer = Pacer(1000, clock=lambda: now[0])
    assert pacer.delay(100) == pytest.approx(0.1)
    now[0] = 100.1
    assert pacer.delay(100) == pytest.approx(0.1)
    now[0] = 105.0  # the client stopped reading for seconds: no catch-up burst afterwards
    assert pacer.delay(100) == pytest.approx(0.1)


def test_link_bucket_hands_out_consecutive_slots() -> None:
    now = [0.0]
    link = LinkBucket(1000, clock=lambda: now[0])
    assert link.reserve(500) == pytest.approx(0.5)
    assert link.reserve(500) == pytest.approx(1.0)  # queued behind the first
    now[0] = 10.0
    assert link.reserve(100) == pytest.approx(0.1)  # idle time is not saved up
