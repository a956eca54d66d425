"""TokenBucket with a fake clock: readers that sleep off their debt get exactly the rate."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.plan.ratelimit import TokenBucket


class Reader:
    """Reads random sizes, "sleeps" the returned debt, and spends a little time per read."""

    def __init__(self, bucket: TokenBucket, t: list[float], rng: random.Random) -> None:
        self.bucket = bucket
        self.t = t
        self.rng = rng
        self.total = 0
        self.reads = 0

    def run_until(self, end: float, max_read: int, rate: int) -> None:
        while self.t[0] < end:
            n = self.rng.randint(1, max_read)
            delay = self.bucket.take(n)
            assert delay >= 0.0
            self.total += n
            self.reads += 1
            # sleep off the debt, plus processing time far shorter than the read's budget
            self.t[0] += delay + self.rng.uniform(0.0, 0.01) * n / rate


def read_sizes(rate: int) -> st.SearchStrategy[int]:
    """Up to 256 KiB per read, but never more than ~20 000 reads per 10 s."""
    return st.integers(min(rate // 1000 + 1, 256 * 1024), 256 * 1024)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(50_000, 200_000_000).flatmap(lambda r: st.tuples(st.just(r), read_sizes(r))),
    st.integers(0, 2**32),
)
def test_achieved_rate_is_within_5_percent(rate_read: tuple[int, int], seed: int) -> None:
    rate, max_read = rate_read
    t = [0.0]
    bucket = TokenBucket(rate, clock=lambda: t[0])
    reader = Reader(bucket, t, random.Random(seed))
    reader.run_until(10.0, max_read, rate)
    assert reader.reads <= 30_000
    achieved = reader.total / t[0]
    assert achieved == pytest.approx(rate, rel=0.05)


@settings(max_examples=30, deadline=None)
@given(st.integers(100_000, 10_000_000), st.integers(100_000, 10_000_000), st.integers(0, 2**32))
def test_set_rate_takes_effect_at_run_time(before: int, after: int, seed: int) -> None:
    t = [0.0]
    bucket = TokenBucket(before, clock=lambda: t[0])
    reader = Reader(bucket, t, random.Random(seed))
    reader.run_until(5.0, 64 * 1024, before)
    first, t_first = reader.total, t[0]
    assert first / t_first == pytest.approx(before, rel=0.05)
    bucket.set_rate(after)
    assert bucket.rate == after
    reader.run_until(15.0, 64 * 1024, after)
    second = reader.total - first
    assert second / (t[0] - t_first) == pytest.approx(after, rel=0.05)


@pytest.mark.parametrize("rate", [None, 0, -5])
def test_none_or_non_positive_is_unlimited(rate: int | None) -> None:
    t = [0.0]
    bucket = TokenBucket(rate, clock=lambda: t[0])
    assert bucket.rate is None
    assert all(bucket.take(1 << 30) == 0.0 for _ in range(100))


def test_switching_between_limited_and_unlimited() -> None:
    t = [0.0]
    bucket = TokenBucket(1000, clock=lambda: t[0])
    assert bucket.take(1000) == pytest.approx(1.0)  # the bucket starts empty
    t[0] = 1.0
    bucket.set_rate(None)
    assert bucket.rate is None
    assert bucket.take(10**9) == 0.0
    t[0] = 2.0
    bucket.set_rate(4000)
    assert bucket.rate == 4000
    assert bucket.take(2000) == pytest.approx(0.5)


def test_debt_is_exact_and_idle_time_saves_only_a_burst() -> None:
    t = [0.0]
    bucket = TokenBucket(100_000, clock=lambda: t[0], burst=0.5)
    assert bucket.take(100_000) == pytest.approx(1.0)
    t[0] = 1.0  # debt paid
    assert bucket.take(50_000) == pytest.approx(0.5)
    t[0] = 100.0  # long idle: only 0.5 s (50 000 bytes) worth of tokens were kept
    assert bucket.take(50_000) == 0.0
    assert bucket.take(100_000) == pytest.approx(1.0)


def test_consume_unlimited_returns_at_once() -> None:
    t = [0.0]
    bucket = TokenBucket(None, clock=lambda: t[0])
    asyncio.run(bucket.consume(10**6))


def test_a_parent_bucket_caps_its_children_together() -> None:
    t = [0.0]
    total = TokenBucket(1000, clock=lambda: t[0])
    a = TokenBucket(None, clock=lambda: t[0], parent=total)
    b = TokenBucket(800, clock=lambda: t[0], parent=total)
    assert a.rate == 1000 and a.own_rate is None  # the run's cap is a's effective limit
    assert b.rate == 800 and b.own_rate == 800
    # buckets start empty: each byte is paid for at the rate
    assert a.take(1000) == 1.0  # 1000 bytes at the run's 1000 bytes/s
    assert b.take(1000) == 2.0  # behind a in the run's bucket (its own 800/s says 1.25)
    t[0] = 2.0
    assert a.take(500) == 0.5  # the run's debt is paid off; a's own bucket has no limit
    total.set_rate(None)
    assert a.rate is None and b.rate == 800
