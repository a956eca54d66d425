"""Planner: dispatch, stealing and takeover, driven by simulated workers and a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from hydra_tui.engine.plan.chunk_map import chunk_grid
from hydra_tui.engine.plan.planner import (
    Assignment,
    Planner,
    choose_chunk_size,
)
from hydra_tui.engine.snapshot import ChunkState

KiB = 1024
MiB = 1024 * KiB


class Sim:
    """Workers that take, receive, commit, fail and finish assignments, checking invariants."""

    def __init__(
        self,
        planner: Planner,
        t: list[float],
        workers: int,
        limit: Callable[[Planner], int | None],
    ) -> None:
        self.p = planner
        self.t = t
        self.limit_of = limit
        self.workers: list[Assignment | None] = [None] * workers
        self.commits = [0] * planner.size
        self.steals = 0
        self.takeovers = 0

    # -- actions ---------------------------------------------------------------------
    def take(self, i: int) -> bool:
        p = self.p
        limit = self.limit_of(p)
        before = [(a, a.pos, a.end) for a in p.active]
        gap = p.claimed().first_gap(0, p.size)
        a = p.next(limit)
        changed = [(v, pos, end) for v, pos, end in before if v.end != end]
        if a is None:
            assert not changed
            return False
        assert a in p.active
        assert a.start < a.end <= p.size
        assert a.pos == a.committed == a.start
        if limit is not None:
            assert a.end <= limit, "(3) no assignment ends past limit_end"
        if not changed:  # a fresh gap
            assert gap is not None
            assert not a.takeover
            assert a.start == gap[0]
            assert a.end <= gap[1]
        else:
            assert len(changed) == 1
            victim, pos, end = changed[0]
            assert victim.pos == pos
            assert a.end == end
            if a.takeover:
                self.takeovers += 1
                assert victim.end == pos == a.start
            else:
                self.steals += 1
                assert end - pos >= 2 * p.min_split, "(4) only big ranges are split"
                assert victim.end == a.start
                assert victim.end - pos >= p.min_split
                assert a.end - a.start >= p.min_split
        self.workers[i] = a
        return True

    def receive(self, i: int, n: int) -> None:
        a = self.workers[i]
        assert a is not None
        want = max(0, min(n, a.end - a.pos))
        pos = a.pos
        assert self.p.receive(a, n) == want
        assert a.pos == pos + want

    def commit(self, i: int, upto: int) -> None:
        a = self.workers[i]
        assert a is not None
        assert self.p.done.overlap(a.committed, upto) == 0
        for b in range(a.committed, upto):
            self.commits[b] += 1
            assert self.commits[b] == 1, f"(2) byte {b} committed twice"
        self.p.commit(a, upto)
        assert a.committed == max(upto, a.committed)

    def release(self, i: int) -> None:
        a = self.workers[i]
        assert a is not None
        self.p.release(a)
        assert a not in self.p.active
        assert a.end <= a.committed
        self.workers[i] = None

    def finish(self, i: int) -> None:
        a = self.workers[i]
        assert a is not None
        self.receive(i, a.remaining)
        self.commit(i, a.pos)
        self.release(i)

    # -- invariants ------------------------------------------------------------------
    def check(self) -> None:
        p = self.p
        busy = [a for a in self.workers if a is not None]
        assert len(busy) == len(p.active)
        assert all(any(a is b for b in p.active) for a in busy)
        for a in p.active:
            assert a.start <= a.committed <= a.pos <= a.end
        spans = list(p.done) + [(a.committed, a.end) for a in p.active if a.end > a.committed]
        spans.sort()
        for (_, e1), (s2, _) in pairwise(spans):
            assert e1 <= s2, f"(1) claims overlap: {spans}"
        assert p.done_bytes == sum(self.commits)
        assert all(s >= 0 and e <= p.size for s, e in p.done)
        limit = self.limit_of(p)
        if limit is not None:
            assert all(a.end <= limit for a in p.active)

    def drain(self) -> None:
        """Every worker finishes and takes more work until there is none."""
        for _ in range(10 * self.p.size + 10):
            for i, a in enumerate(self.workers):
                if a is not None:
                    self.finish(i)
            self.check()
            took = [self.take(i) for i in range(len(self.workers))]
            self.check()
            if not any(took):
                break
        else:  # pragma: no cover - only reached if the planner livelocks
            pytest.fail("planner never ran out of work")
        assert not self.p.active
        assert self.p.next(self.limit_of(self.p)) is None


def run_random(sim: Sim, data: st.DataObject, steps: int) -> None:
    for _ in range(steps):
        i = data.draw(st.integers(0, len(sim.workers) - 1), label="worker")
        a = sim.workers[i]
        if a is None:
            sim.take(i)
        else:
            action = data.draw(
                st.sampled_from(
                    ["receive", "receive", "commit", "fail", "finish", "clock", "clock"]
                ),
                label="action",
            )
            if action == "receive":
                # worker 0 is a slow connection, so takeovers happen
                sim.receive(i, data.draw(st.integers(1, 4 if i == 0 else 400), label="n"))
            elif action == "commit":
                sim.commit(i, data.draw(st.integers(a.committed, a.pos), label="upto"))
            elif action == "fail":
                sim.release(i)
            elif action == "finish":
                sim.finish(i)
            else:
                sim.t[0] += data.draw(st.floats(0.0, 1.5), label="dt")
        sim.check()


def make_planner(
    data: st.DataObject, size: int, window: int | None = None
) -> tuple[Planner, list[float]]:
    t = [0.0]
    planner = Planner(
        size,
        chunk_size=data.draw(st.integers(1, 1000), label="chunk"),
        clock=lambda: t[0],
        min_split=data.draw(st.integers(1, 300) | st.integers(1, 30), label="min_split"),
        takeover_age=data.draw(st.sampled_from([0.25, 0.5, 1.0, 2.0]), label="takeover_age"),
        # a stream tells the planner its window (or not: the older, simpler rule)
        window=window if data.draw(st.booleans(), label="planner knows window") else None,
    )
    return planner, t


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_simulated_workers_fetch_every_byte_exactly_once(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 3000), label="size")
    window = data.draw(st.none() | st.integers(1, 1500), label="window")
    planner, t = make_planner(data, size, window)

    def limit(p: Planner) -> int | None:
        # a stream: never request past what the consumer has + the buffer (monotonic)
        return None if window is None else p.done.prefix_end(0) + window

    sim = Sim(planner, t, data.draw(st.integers(1, 5), label="workers"), limit)
    run_random(sim, data, data.draw(st.integers(0, 80), label="steps"))
    sim.drain()
    event(f"steals: {min(sim.steals, 3)}, takeovers: {min(sim.takeovers, 1)}")
    assert planner.complete
    assert list(planner.done) == [(0, size)]
    assert sim.commits == [1] * size


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fixed_limit_end_is_never_exceeded(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 3000), label="size")
    planner, t = make_planner(data, size)
    limit_end = data.draw(st.integers(1, size + 100), label="limit_end")
    sim = Sim(planner, t, data.draw(st.integers(1, 5), label="workers"), lambda _: limit_end)
    run_random(sim, data, data.draw(st.integers(0, 80), label="steps"))
    sim.drain()
    assert list(planner.done) == [(0, min(size, limit_end))]
    assert sum(sim.commits) == min(size, limit_end)


# -- deterministic dispatch --------------------------------------------------------------
def clocked(size: int, **kw: int | float) -> tuple[Planner, list[float]]:
    t = [0.0]
    return Planner(size, clock=lambda: t[0], **kw), t  # type: ignore[arg-type]


def test_dispatch_cuts_chunks_and_absorbs_slivers() -> None:
    p, _ = clocked(1000, chunk_size=400, min_split=10_000)
    spans = []
    while (a := p.next()) is not None:
        spans.append((a.start, a.end))
    assert spans == [(0, 400), (400, 800), (800, 1000)]

    p, _ = clocked(1000, chunk_size=450, min_split=10_000)
    spans = []
    while (a := p.next()) is not None:
        spans.append((a.start, a.end))
    # 100 bytes would be left after [450, 900): less than chunk/4, so it joins
    assert spans == [(0, 450), (450, 1000)]


def test_dispatch_skips_what_is_done_and_respects_limit_end() -> None:
    p, _ = clocked(1000, chunk_size=300, min_split=10_000, done=[(0, 100), (900, 5000)])
    assert list(p.done) == [(0, 100), (900, 1000)]  # clipped to the file
    a = p.next(limit_end=250)
    assert a is not None
    assert (a.start, a.end) == (100, 250)
    # the lowest gap now starts at the limit: nothing to hand out (stealing is off)
    assert p.next(limit_end=250) is None
    b = p.next(limit_end=10_000)
    assert b is not None
    assert (b.start, b.end) == (250, 550)


def test_steal_takes_the_upper_half_of_the_biggest_remainder() -> None:
    p, _ = clocked(10_000, chunk_size=10_000, min_split=1000)
    a = p.next()
    assert a is not None
    assert (a.start, a.end) == (0, 10_000)
    p.receive(a, 2000)
    b = p.next()
    assert b is not None
    assert not b.takeover
    assert (a.end, b.start, b.end) == (6000, 6000, 10_000)
    # a has 4000 left, b has 4000: both >= 2 * min_split, the first biggest is split
    c = p.next()
    assert c is not None
    assert (a.end, c.start, c.end) == (4000, 4000, 6000)
    # keep stealing until no range has 2 * min_split left
    while p.next() is not None:
        pass
    assert all(1000 <= x.remaining < 2000 for x in p.active)
    claims = sorted((x.pos, x.end) for x in p.active)
    assert claims[0][0] == 2000
    assert claims[-1][1] == 10_000
    for (_, e1), (s2, _) in pairwise(claims):
        assert e1 == s2


def stolen() -> tuple[Planner, Assignment, Assignment]:
    """One connection 2,000 bytes into the file, and a second that stole its upper half."""
    p, _ = clocked(10_000, chunk_size=10_000, min_split=1000)
    a = p.next()
    assert a is not None
    p.receive(a, 2000)
    b = p.next()
    assert b is not None
    assert (a.end, b.start, b.end) == (6000, 6000, 10_000)
    return p, a, b


def test_refused_steal_hands_its_bytes_back_to_the_running_victim() -> None:
    p, a, b = stolen()
    p.release(b)  # the server refused the extra connection: b received nothing
    assert (a.pos, a.end) == (2000, 10_000)
    assert p.active == [a]
    assert p.claimed().first_gap(0, 10_000) is None  # nothing left waiting for a worker
    p.receive(a, 8000)
    assert a.remaining == 0


def test_steal_that_got_bytes_or_outlived_its_victim_is_released_as_usual() -> None:
    p, a, b = stolen()
    p.receive(b, 500)
    p.commit(b, b.pos)
    p.release(b)  # b fetched [6000, 6500): the rest is a gap, a keeps stopping at 6000
    assert a.end == 6000
    assert p.claimed().first_gap(0, 10_000) == (6500, 10_000)
    c = p.next()
    assert c is not None
    assert (c.start, c.end) == (6500, 10_000)
    p.commit(a, a.pos)
    p.release(a)  # the victim is gone before its thief gives up: nothing to hand back
    p.release(c)
    assert p.active == []
    assert list(p.done) == [(0, 2000), (6000, 6500)]


def test_steal_needs_twice_min_split() -> None:
    p, _ = clocked(1999, chunk_size=10_000, min_split=1000)
    assert p.next() is not None
    assert p.next() is None
    p, _ = clocked(2000, chunk_size=10_000, min_split=1000)
    assert p.next() is not None
    assert p.next() is not None


def four_running(takeover_age: float = 2.0) -> tuple[Planner, list[float], list[Assignment]]:
    p, t = clocked(10_000, chunk_size=2500, min_split=1 << 30, takeover_age=takeover_age)
    workers = [p.next() for _ in range(4)]
    assert all(w is not None for w in workers)
    return p, t, [w for w in workers if w is not None]


def test_slow_connection_is_taken_over_after_takeover_age() -> None:
    p, t, (slow, *fast) = four_running()
    for now in (1.0, 1.5, 1.99):
        t[0] = now
        for w in fast:
            p.receive(w, w.start + int(now * 1000) - w.pos)
        p.receive(slow, int(now * 10) - slow.pos)
        assert p.next() is None, "no takeover before takeover_age"
    t[0] = 2.5
    for w in fast:
        p.receive(w, w.start + 2400 - w.pos)
    p.receive(slow, 25 - slow.pos)
    p.commit(slow, 20)
    new = p.next()
    assert new is not None
    assert new.takeover
    assert (new.start, new.end) == (25, 2500)
    assert slow.end == slow.pos == 25
    assert slow.remaining == 0
    assert p.receive(slow, 100) == 0, "the slow one stops at the bytes it has"
    # its received-but-uncommitted bytes [20, 25) are still its own
    claims = sorted((a.committed, a.end) for a in p.active)
    assert claims[0] == (20, 25)
    assert claims[1] == (25, 2500)
    # the old one failing returns only its uncommitted bytes to the pool
    p.release(slow)
    again = p.next()
    assert again is not None
    assert (again.start, again.end) == (20, 25)


def test_no_takeover_when_everyone_is_equally_slow() -> None:
    p, t, workers = four_running()
    t[0] = 5.0
    for w in workers:
        p.receive(w, 50)
    assert p.next() is None


def test_no_takeover_with_a_single_connection() -> None:
    p, t = clocked(10_000, chunk_size=20_000, min_split=1 << 30)
    a = p.next()
    assert a is not None
    t[0] = 10.0
    p.receive(a, 1)
    assert p.next() is None


def test_no_takeover_of_an_almost_finished_connection() -> None:
    p, t, (slow, *fast) = four_running()
    t[0] = 3.0
    for w in fast:
        p.receive(w, 2000)
    # 100 B/s with 10 bytes left: done in a tenth of a second, not worth a new request
    p.receive(slow, 2490)
    slow.started = 3.0 - 2490 / 100
    assert p.next() is None


def test_a_lone_slow_connection_is_taken_over_when_finished_ones_were_fast() -> None:
    # chunks of 1 MiB: big enough to count as peers' rates (small ones finish in a burst)
    p, t = clocked(4 * MiB, chunk_size=1 * MiB, min_split=1 << 30, takeover_age=0.5)
    slow, *others = [p.next() for _ in range(4)]
    assert slow is not None
    t[0] = 1.0
    for a in others:
        assert a is not None
        p.receive(a, a.remaining)
        p.commit(a, a.pos)
        p.release(a)
    p.receive(slow, 1000)
    assert p.active == [slow]
    new = p.next()
    assert new is not None
    assert new.takeover
    assert (new.start, new.end) == (1000, 1 * MiB)
    assert slow.end == 1000


def test_a_burst_of_small_finished_requests_does_not_set_the_pace() -> None:
    p, t = clocked(4 * MiB, chunk_size=1 * MiB, min_split=1 << 30, takeover_age=0.5)
    a, b = p.next(), p.next()
    assert a is not None and b is not None
    t[0] = 0.001
    small = p._add(3 * MiB, 3 * MiB + 4096, 0.0)  # a tiny request, finished at once
    p.receive(small, small.remaining)
    p.commit(small, small.pos)
    p.release(small)
    assert p.typical_rate == 0.0
    t[0] = 1.0
    p.receive(a, 300 * KiB)
    p.receive(b, 300 * KiB)
    assert not any(x.takeover for x in [p.next()] if x is not None)


# -- views and helpers -------------------------------------------------------------------
def test_chunk_views_report_states() -> None:
    p, _ = clocked(400, chunk_size=100, min_split=1 << 30, done=[(0, 100)])
    a = p.next()
    b = p.next()
    assert a is not None
    assert b is not None
    assert (a.start, a.end, b.start, b.end) == (100, 200, 200, 300)
    p.receive(a, 30)
    p.commit(a, 110)
    b.retrying = True
    p.failed.add(350, 360)
    views = p.chunk_views([(0, 100), (100, 200), (200, 300), (300, 400)])
    assert [v.state for v in views] == [
        ChunkState.DONE,
        ChunkState.ACTIVE,
        ChunkState.RETRYING,
        ChunkState.FAILED,
    ]
    assert [v.done for v in views] == [100, 10, 0, 0]
    assert views[0].fraction == 1.0
    p2, _ = clocked(400, chunk_size=100)
    assert {v.state for v in p2.chunk_views(chunk_grid(400))} == {ChunkState.PENDING}


def test_complete_and_unclaimed() -> None:
    p, _ = clocked(100, chunk_size=100)
    assert not p.complete
    assert p.has_unclaimed()
    a = p.next()
    assert a is not None
    assert not p.has_unclaimed()
    p.receive(a, 100)
    p.commit(a, 60)
    p.release(a)
    assert p.has_unclaimed()
    assert p.done_bytes == 60
    b = p.next()
    assert b is not None
    assert (b.start, b.end) == (60, 100)
    p.receive(b, 40)
    p.commit(b, 100)
    p.release(b)
    assert p.complete
    assert p.next() is None


@given(st.integers(0, 1 << 40), st.integers(0, 64))
def test_choose_chunk_size_is_bounded(size: int, threads: int) -> None:
    chunk = choose_chunk_size(size, threads)
    assert 1 * MiB <= chunk <= 64 * MiB


def test_choose_chunk_size_examples() -> None:
    assert choose_chunk_size(100 * MiB, 8) == 100 * MiB // 16
    assert choose_chunk_size(10 * KiB, 8) == 1 * MiB
    assert choose_chunk_size(100 * 1024 * MiB, 4) == 64 * MiB


@given(st.integers(-5, 1 << 36), st.integers(1, 512))
def test_chunk_grid_tiles_the_file(size: int, cells: int) -> None:
    grid = chunk_grid(size, cells)
    if size <= 0:
        assert grid == []
        return
    assert len(grid) <= cells
    assert grid[0][0] == 0
    assert grid[-1][1] == size
    for (_, e1), (s2, _) in pairwise(grid):
        assert e1 == s2
    assert all(e - s >= 64 * KiB for s, e in grid[:-1])
    assert all(e > s for s, e in grid)


def test_stream_window_waits_for_a_whole_chunk_of_room() -> None:
    """A slow reader frees the window a little at a time; requests wait for a chunk's
    worth (or half the window, if that is smaller) instead of going out per sliver."""
    planner = Planner(100, chunk_size=10, clock=lambda: 0.0, window=40)
    first = planner.next(40)
    assert first is not None and (first.start, first.end) == (0, 10)
    # the reader took 3 bytes: the window ends at 43, the lowest gap starts at 10
    planner.receive(first, 10)
    planner.commit(first, 10)
    planner.release(first)
    for _ in range(3):
        a = planner.next(40)
        assert a is not None
        planner.receive(a, a.remaining)
        planner.commit(a, a.end)
        planner.release(a)
    assert planner.next(43) is None  # room for 3 bytes only
    assert planner.next(49) is None  # 9
    a = planner.next(50)
    assert a is not None and (a.start, a.end) == (40, 50)
    small = Planner(100, chunk_size=50, clock=lambda: 0.0, window=20)
    b = small.next(6)
    assert b is None  # 6 < min(chunk 50, window/2 10)
    b = small.next(10)
    assert b is not None and (b.start, b.end) == (0, 10)


def test_stream_hedges_a_crawling_head_of_line_before_fetching_further_ahead() -> None:
    """A stream writes nothing past its slowest byte: a crawling connection at the cursor
    is taken over before a fresh gap beyond it is handed out (on disk, gaps come first)."""
    for stream in (True, False):
        p, t = clocked(100_000, chunk_size=2500, min_split=500, takeover_age=0.5)
        head, *rest = (p.next(None if not stream else 100_000) for _ in range(4))
        assert head is not None and all(w is not None for w in rest)
        t[0] = 1.0
        p.receive(head, 10)
        for w in rest:
            assert w is not None
            p.receive(w, 1000)
        new = p.next(100_000 if stream else None)
        assert new is not None
        if stream:
            assert new.takeover and (new.start, new.end) == (10, 2500)
            assert head.end == head.pos == 10
        else:
            assert not new.takeover and new.start == 10_000  # the next fresh gap


def test_stream_splits_only_a_taken_over_head_among_idle_workers() -> None:
    p, t = clocked(8000, chunk_size=4000, min_split=500, takeover_age=0.5)
    head, tail = p.next(8000), p.next(8000)
    assert head is not None and tail is not None
    t[0] = 1.0
    p.receive(head, 10)
    p.receive(tail, 1000)
    hedge = p.next(8000)
    assert hedge is not None and hedge.takeover and (hedge.start, hedge.end) == (10, 4000)
    # the window holds no gap: an idle worker splits the taken-over head...
    split = p.next(8000)
    assert split is not None and not split.takeover
    assert (hedge.end, split.start, split.end) == (2005, 2005, 4000)
    # ...but never the other running range (the tail: streams do not steal)
    while (more := p.next(8000)) is not None:
        assert more.stolen_from is hedge
    assert (tail.pos, tail.end) == (5000, 8000)


def test_hedge_takes_a_crawler_over_while_gaps_remain() -> None:
    # 4 running of a file with more chunks to come: next() would hand out a fresh gap,
    # hedge() takes the crawler's remainder at once (for a connection above the window)
    p, t = clocked(100_000, chunk_size=2500, min_split=1 << 30, takeover_age=0.5)
    slow, *fast = [p.next() for _ in range(4)]
    assert slow is not None
    assert p.hedge() is None, "nothing crawls before anyone is measured"
    t[0] = 0.6
    for w in fast:
        assert w is not None
        p.receive(w, 1200)
    p.receive(slow, 10)
    hedge = p.hedge()
    assert hedge is not None and hedge.takeover
    assert (hedge.start, hedge.end) == (10, 2500)
    assert slow.end == slow.pos == 10, "the crawler stops at the bytes it has"
    assert p.receive(slow, 100) == 0
    assert p.hedge() is None, "a taken-over range is not hedged twice"
    fresh = p.next()
    assert fresh is not None and not fresh.takeover and fresh.start == 10_000
    # no byte has two owners
    claims = sorted((a.committed, a.end) for a in p.active)
    assert all(b[0] >= a[1] for a, b in pairwise(claims))


def test_no_hedge_when_everyone_is_equally_slow() -> None:
    p, t = clocked(100_000, chunk_size=2500, min_split=1 << 30, takeover_age=0.5)
    workers = [p.next() for _ in range(4)]
    t[0] = 1.0
    for w in workers:
        assert w is not None
        p.receive(w, 50)
    assert p.hedge() is None


def test_a_request_backing_off_is_not_hedged() -> None:
    p, t = clocked(100_000, chunk_size=2500, min_split=1 << 30, takeover_age=0.5)
    waiting, *fast = [p.next() for _ in range(4)]
    assert waiting is not None
    t[0] = 1.0
    for w in fast:
        assert w is not None
        p.receive(w, 1200)
    waiting.retrying = True  # its connection failed; it waits out its backoff
    assert p.hedge() is None
    waiting.retrying = False
    assert p.hedge() is not None
