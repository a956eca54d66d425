"""Which bytes each range worker fetches next.

The planner owns two facts: ``done`` (bytes handed to the sink) and the in-flight
``Assignment``s. Everything else — what is left, what to steal — is derived from them, so
a failed worker only has to disappear for its unfinished bytes to become work again.

An idle worker gets, in order of preference:
0. when streaming, the remainder of a crawling connection at the stream's cursor (the
   head of the line: a takeover as in 3, before anything further ahead, since the
   window only fills up behind it);
1. the lowest unclaimed gap, cut to ``chunk_size`` (and, when streaming, never past
   ``limit_end = emitted + buffer``);
2. the upper half of the in-flight range with the most bytes left (work stealing); a
   stream's window is full anyway, so streams steal only from a taken-over range, which
   holds their cursor;
3. the whole remainder of a connection far slower than its peers (a takeover: the slow
   one stops at the bytes it already has), so neither the end of the file nor the
   stream's write cursor waits behind one slow connection.

A takeover needs a connection to run it. ``hedge()`` hands one out to a connection
above the window (``TransferRun`` opens it) as soon as a crawler shows, instead of
waiting until a worker is idle: with every connection busy on its own chunk, that wait
was most of what one crawling connection cost.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from hydra_tui.engine.plan.chunk_map import chunk_views
from hydra_tui.engine.plan.ranges import RangeSet
from hydra_tui.engine.snapshot import ChunkView

__all__ = ["Assignment", "Planner", "choose_chunk_size"]

KiB = 1024
MiB = 1024 * KiB


def choose_chunk_size(size: int, threads: int) -> int:
    """A dispatch size: a few requests per connection, between 1 MiB and 64 MiB."""
    per = size // max(1, threads * 2)
    return max(1 * MiB, min(64 * MiB, per))


@dataclass(eq=False, slots=True)
class Assignment:
    """One range request in flight: bytes ``[committed, end)`` are its responsibility."""

    start: int
    end: int
    started: float
    pos: int = field(init=False)
    committed: int = field(init=False)
    retrying: bool = False
    takeover: bool = False
    #: the running request whose upper half this one took (a steal), if any
    stolen_from: Assignment | None = None
    #: the index of the worker that runs it (one past the ceiling closes early)
    worker: int = 0

    def __post_init__(self) -> None:
        self.pos = self.start
        self.committed = self.start

    @property
    def remaining(self) -> int:
        return max(0, self.end - self.pos)

    def rate(self, now: float) -> float:
        return (self.pos - self.start) / max(1e-3, now - self.started)


class Planner:
    """Dispatch, stealing and takeover over one file of known ``size``."""

    def __init__(
        self,
        size: int,
        *,
        chunk_size: int,
        clock: Callable[[], float],
        min_split: int = 512 * KiB,
        done: Iterable[tuple[int, int]] = (),
        takeover_age: float = 0.5,
        takeover_ratio: float = 0.35,
        window: int | None = None,
    ) -> None:
        self.size = size
        self.chunk_size = max(1, chunk_size)
        self.clock = clock
        self.min_split = max(1, min_split)
        self.takeover_age = takeover_age
        self.takeover_ratio = takeover_ratio
        #: a stream's buffer (``limit_end - consumed``), when the caller has one
        self.window = window
        self.done = RangeSet(done)
        self.done.remove(size, 1 << 62)
        self.active: list[Assignment] = []
        #: ranges whose worker gave up (shown as failed in the chunk map)
        self.failed = RangeSet()
        #: the last chunk map, whose unchanged cells the next one reuses
        self._views: tuple[ChunkView, ...] = ()
        #: smoothed per-connection rate of finished requests (bytes/s), for takeovers
        self.typical_rate = 0.0

    # -- state -------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        return self.done.contains(0, self.size)

    @property
    def done_bytes(self) -> int:
        return self.done.total

    def claimed(self) -> RangeSet:
        claimed = self.done.copy()
        for a in self.active:
            claimed.add(a.committed, a.end)
        return claimed

    def has_unclaimed(self) -> bool:
        return self.claimed().first_gap(0, self.size) is not None

    # -- dispatch ----------------------------------------------------------------------
    def next(self, limit_end: int | None = None) -> Assignment | None:
        """Work for an idle worker, or ``None`` if there is nothing useful right now."""
        now = self.clock()
        if limit_end is not None:
            # a stream writes nothing past a crawling head of line: hedge it before
            # fetching further ahead into a window that only fills up behind it
            hedge = self._takeover(now, head_only=True)
            if hedge is not None:
                return hedge
        limit = self.size if limit_end is None else min(self.size, limit_end)
        gap = self.claimed().first_gap(0, self.size)
        if gap is not None:
            start, gap_end = gap
            end = min(gap_end, start + self.chunk_size)
            if gap_end - end < self.chunk_size // 4:
                end = gap_end  # do not leave a sliver behind
            natural = end
            end = min(end, limit)
            if end > start and (end == natural or self._worth_it(end - start)):
                return self._add(start, end, now)
            # the lowest gap lies beyond the stream window: fall through to stealing,
            # which only ever splits ranges already inside the window
        # stealing splits a running request and closes its connection: worth it at the
        # end of a file, not inside a stream window that is full anyway -- except for a
        # range taken over from a crawling connection: it holds the stream's cursor, so
        # idle workers split it rather than wait for one connection to fetch it all
        stolen = self._steal(now, takeovers_only=limit_end is not None)
        if stolen is not None:
            return stolen
        return self._takeover(now)

    def hedge(self) -> Assignment | None:
        """The remainder of a crawling connection, for a connection above the window.

        The same test as takeover 3 (far slower than its peers, older than
        ``takeover_age``): the crawler stops at the bytes it already has, so no byte
        has two owners; the lowest crawler first (a stream's cursor, or the earliest
        hole of a file). A request backing off before its retry is not crawling.
        """
        return self._takeover(self.clock(), running_only=True)

    def _worth_it(self, length: int) -> bool:
        """May a request cut short by the stream window go out now?

        A window that opened by a sliver waits for more: every request has a fixed cost
        (a slow reader once turned a GiB into ~700 1 MiB requests). With the window's
        size known, a request waits for ``min(chunk, window/2)``: the room reaches that
        whatever happens, since the reader frees it by consuming what is fetched.
        """
        if self.window is not None:
            return length >= min(self.chunk_size, self.window // 2)
        return length >= self.chunk_size // 2 or not self.active

    def _add(self, start: int, end: int, now: float, *, takeover: bool = False) -> Assignment:
        a = Assignment(start, end, now)
        a.takeover = takeover
        self.active.append(a)
        return a

    def _steal(self, now: float, *, takeovers_only: bool = False) -> Assignment | None:
        victims = [
            a
            for a in self.active
            if a.remaining >= 2 * self.min_split and (a.takeover or not takeovers_only)
        ]
        if not victims:
            return None
        victim = max(victims, key=lambda a: a.remaining)
        mid = victim.pos + victim.remaining // 2
        new_end = victim.end
        victim.end = mid
        stolen = self._add(mid, new_end, now)
        stolen.stolen_from = victim
        return stolen

    def _takeover(
        self, now: float, *, head_only: bool = False, running_only: bool = False
    ) -> Assignment | None:
        """Take the whole remainder of a connection far slower than its peers.

        Peers are the other running connections and, since at the stream's cursor the
        slow one may be the only one left running, recently finished ones too.
        """
        old = [
            a
            for a in self.active
            if now - a.started >= self.takeover_age
            and a.remaining
            and not (running_only and a.retrying)
        ]
        if not old:
            return None
        rates = [a.rate(now) for a in old]
        reference = max(statistics.median(rates), max(rates) / 2, self.typical_rate / 2)
        if reference <= 0:
            return None
        slow = [
            a
            for a in old
            if a.rate(now) < self.takeover_ratio * reference
            and a.remaining / max(1.0, a.rate(now)) > 2 * a.remaining / reference + 0.25
        ]
        if not slow:
            return None
        victim = min(slow, key=lambda a: a.pos)  # the stream's cursor first
        if head_only and victim is not min(self.active, key=lambda a: a.committed):
            return None
        start, end = victim.pos, victim.end
        victim.end = victim.pos
        return self._add(start, end, now, takeover=True)

    # -- progress ----------------------------------------------------------------------
    def receive(self, a: Assignment, n: int) -> int:
        """Account ``n`` received bytes; return how many of them are still wanted."""
        keep = max(0, min(n, a.end - a.pos))
        a.pos += keep
        return keep

    def commit(self, a: Assignment, upto: int) -> None:
        """Bytes ``[a.committed, upto)`` reached the sink."""
        if upto > a.committed:
            self.done.add(a.committed, upto)
            a.committed = upto

    def release(self, a: Assignment) -> None:
        """The worker is finished with ``a``; whatever it did not commit is work again.

        A steal that got nothing (the server refused the extra connection) hands its bytes
        back to its victim if that one is still running up to them: otherwise the victim
        would stop halfway and the half would wait for a free connection, a longer tail
        than never stealing at all.
        """
        victim = a.stolen_from
        if (
            victim is not None
            and a.pos == a.start
            and victim.end == a.start
            and victim in self.active
            and a in self.active
        ):
            victim.end = a.end
            a.end = a.start
        a.stolen_from = None
        if a in self.active:
            self.active.remove(a)
            moved = a.pos - a.start
            # small requests (the probe, slivers) finish in a burst and would make
            # every running connection look slow
            if moved >= max(MiB, self.chunk_size // 4):
                rate = a.rate(self.clock())
                self.typical_rate = (
                    rate if not self.typical_rate else 0.7 * self.typical_rate + 0.3 * rate
                )
        a.end = min(a.end, a.committed)
        a.pos = a.committed

    # -- views -------------------------------------------------------------------------
    def chunk_views(self, grid: Sequence[tuple[int, int]]) -> tuple[ChunkView, ...]:
        self._views = chunk_views(grid, self.done, self.active, self.failed, self._views)
        return self._views
