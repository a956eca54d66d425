"""Several sources for one file: ``--mirror URL`` and Metalink 4 (``engine/mirrors/metalink.py``).

Probing (``engine/mirrors/probe.py``): every mirror is probed like the first URL (its own
``Download``, so its own host gate and AIMD window); a mirror is dropped with one
warning line when its size differs, when its first bytes differ from the first URL's,
when it cannot serve ranges, or (plain ``--mirror``) when both send Last-Modified and
the dates differ. ETags are not compared across hosts: two web servers give one file
different ETags (Apache puts the inode in it), while mirror sync tools keep the date.

Fetching (``MirrorRun``): the file is cut into units (the metalink's pieces, else
``engine/mirrors/units.py``: 256 KiB - 1 MiB, the last ones smaller); each mirror runs
up to ``threads`` connections under its own host gate, and an idle connection takes the
next unit, so each mirror gets work in proportion to its throughput. A connection whose
mirror would finish the next unit after the whole swarm is expected to be done takes
the last (smallest) unit instead when it can finish that one in time, else leaves the
work to faster mirrors; at the end a fast idle connection races a slow one for its unit
(the first whole, verified copy wins).

A unit is held in memory until it is complete; with piece hashes it is verified before
its first byte reaches the disk, so a lying mirror never writes a wrong byte: it is
dropped and the piece is fetched elsewhere. Any mirror that answers a wrong
Content-Range, a 404, a 200 to a range, or fails ``retries`` times in a row is dropped
and its units go back to the others; the download fails only when none is left.

Expiring URLs (401/403/410 once the run is going, ``engine/http/renew.py``): each source
renews through its own ``Download``'s renewer. The first URL renews as a single-source
download does (``--url-cmd``, else its redirect chain followed again); a mirror has no
command (``--url-cmd`` belongs to the first URL, never run for a mirror) and renews only
by following its own redirects again, else it is dropped with one warning. Either way
the fresh URL must serve the same size and validators. An expired URL answers before
any byte of its body (a body started in time is sent to its end, as S3 does), so a unit
loses nothing unless a short 206 had to be followed by a request that expired: then
that one unit is fetched again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from hydra_tui.engine.http.error_map import check_pushback
from hydra_tui.engine.http.headers import parse_content_range
from hydra_tui.engine.http.urls import redact_url
from hydra_tui.engine.mirrors.units import unit_spans
from hydra_tui.engine.plan.planner import Assignment, Planner
from hydra_tui.engine.plan.retry import Attempts
from hydra_tui.engine.plan.wakeup import WakeUp
from hydra_tui.engine.signals import RangeIgnored
from hydra_tui.engine.snapshot import MirrorView
from hydra_tui.engine.speed import SpeedMeter
from hydra_tui.errors import (
    HTTPStatusError,
    HydraError,
    NetworkError,
    ProtocolViolation,
    RemoteChangedError,
    UrlExpired,
)

if TYPE_CHECKING:
    from hydra_tui.engine.download import Download
    from hydra_tui.engine.http.probe import RemoteFile
    from hydra_tui.engine.io.sinks import Sink
    from hydra_tui.engine.mirrors.metalink import PieceHashes
    from hydra_tui.engine.plan.aimd import Slot

__all__ = ["Mirror", "MirrorRun", "MirrorSet"]

log = logging.getLogger(__name__)
#: how long a connection with nothing to take waits before it looks again
IDLE_TICK = 0.1
#: a mirror this many times slower than the best leaves the last units to the others
SLOWER = 2.0
#: an idle fast connection races a slow one for its unit when it would be this much sooner
RACE_GAIN = 1.5


@dataclass(eq=False)
class Mirror:
    """One source of the file and what it did so far."""

    dl: Download
    remote: RemoteFile
    received: int = 0
    active: int = 0
    dropped: str | None = None
    #: one connection's throughput on whole units (bytes/s, smoothed); None until one
    conn_rate: float | None = None
    meter: SpeedMeter = field(default_factory=SpeedMeter)
    #: its failures in a row and the wait before the next try: the engine's one retry
    #: rule (``plan/retry.py``) on this mirror's own host window; past ``retries`` the
    #: mirror is dropped, not the download
    attempts: Attempts = field(init=False)

    def __post_init__(self) -> None:
        self.attempts = Attempts(self.dl.gate.controller, self.dl.options.retries)

    @property
    def shown(self) -> str:
        return self.dl.shown_url

    def tick(self, now: float) -> None:
        """Sampled by the download's one ticker (``Download.tick``)."""
        self.meter.sample(now, self.received)

    @property
    def speed(self) -> float:
        return self.meter.speed

    def learn(self, nbytes: int, seconds: float) -> None:
        rate = nbytes / max(1e-3, seconds)
        self.conn_rate = rate if self.conn_rate is None else 0.6 * self.conn_rate + 0.4 * rate

    def view(self) -> MirrorView:
        speed = 0.0 if self.dropped else self.speed
        return MirrorView(self.shown, speed, self.received, self.active, self.dropped)


@dataclass(eq=False)
class MirrorSet:
    """The mirrors of one download (the first URL first) and its piece hashes."""

    mirrors: list[Mirror]
    pieces: PieceHashes | None = None

    def views(self) -> tuple[MirrorView, ...]:
        return tuple(m.view() for m in self.mirrors)

    @property
    def live(self) -> list[Mirror]:
        return [m for m in self.mirrors if m.dropped is None]


@dataclass(eq=False)
class _Unit:
    start: int
    end: int
    index: int
    done: bool = False
    #: mirrors fetching it now (two while a fast one races a slow one)
    owners: list[tuple[Mirror, Assignment]] = field(default_factory=list)

    @property
    def length(self) -> int:
        return self.end - self.start


class MirrorRun:
    """Fill ``planner``'s missing ranges into ``sink`` from every live mirror."""

    def __init__(self, dl: Download, mset: MirrorSet, planner: Planner, sink: Sink) -> None:
        self.dl = dl
        self.mset = mset
        self.planner = planner
        self.sink = sink
        self.size = planner.size
        self.changed = WakeUp()
        self.todo: deque[_Unit] = deque()
        self.flying: list[_Unit] = []
        self.last_error: HydraError | None = None

    # -- the plan ---------------------------------------------------------------------
    def _units(self) -> list[_Unit]:
        pieces = self.mset.pieces
        if pieces is not None:
            count = -(-self.size // pieces.length)
            if count != len(pieces.digests):
                raise ProtocolViolation(
                    f"the metalink has {len(pieces.digests)} piece hashes for {count} pieces"
                )
            spans = [pieces.span(i, self.size) for i in range(count)]
        else:
            spans = unit_spans(self.size, len(self.mset.live), self.dl.threads)
        return [_Unit(start, end, i) for i, (start, end) in enumerate(spans)]

    def _verified_on_disk(self, unit: _Unit) -> bool:
        """A piece already on disk (the probe's head, a resumed run) is read back and
        checked before it counts: nothing unverified stays."""
        pieces = self.mset.pieces
        if pieces is None:
            return True
        fd = getattr(self.sink, "fd", None)
        if fd is None:
            return False
        import os

        data = os.pread(fd, unit.length, unit.start)
        return hashlib.new(pieces.algorithm, data).hexdigest() == pieces.digests[unit.index]

    async def run(self) -> None:
        planner = self.planner
        loop = asyncio.get_running_loop()
        executor = self.dl.ctx.executor
        for unit in self._units():
            if planner.done.contains(unit.start, unit.end):
                ok = await loop.run_in_executor(executor, self._verified_on_disk, unit)
                if ok:
                    continue
                planner.done.remove(unit.start, unit.end)
            self.todo.append(unit)
        leased = [m for m in self.mset.mirrors[1:] if m.dropped is None]
        for m in leased:
            m.dl.begin()
        for m in self.mset.mirrors:
            m.dl.renewer.delivered = lambda m=m: m.received
        try:
            async with asyncio.TaskGroup() as tg:
                workers = [
                    tg.create_task(self._worker(m))
                    for m in self.mset.live
                    for _ in range(self.dl.threads)
                ]
                # done once every byte is in: a mirror backing off after a failure, or a
                # racer that lost, is not waited for
                while not planner.complete and not all(w.done() for w in workers):
                    ticket = self.changed.ticket()
                    await WakeUp.wait(ticket, 0.25)
                for task in workers:
                    task.cancel()
        finally:
            for m in leased:
                m.dl.end()
            for m in self.mset.mirrors:
                m.dl.renewer.delivered = None
        if not planner.complete:
            if self.last_error is not None:
                raise self.last_error
            raise ProtocolViolation("every mirror was dropped")

    def spawn(self, target: int) -> None:
        """Threads changed at run time: the next run uses them (kept simple)."""

    def wake(self) -> None:
        self.changed.wake()

    # -- choosing work ----------------------------------------------------------------
    def _swarm_rate(self) -> float:
        total = 0.0
        for m in self.mset.live:
            if m.conn_rate is not None:
                total += m.conn_rate * max(1, min(self.dl.threads, m.dl.gate.controller.window))
        return total

    def _left_bytes(self) -> int:
        left = sum(u.length for u in self.todo)
        for u in self.flying:
            if u.owners:
                left += min(u.end - a.pos for _, a in u.owners)
        return left

    def _pick(self, mirror: Mirror) -> _Unit | None:
        swarm = self._swarm_rate()
        if self.todo:
            unit = self.todo[0]
            mine = mirror.conn_rate
            # only a mirror far slower than the best leaves work to others: between
            # near equals, an idle connection always beats a waiting one
            faster = any(
                m.conn_rate is not None and m.conn_rate > SLOWER * (mine or 0)
                for m in self.mset.live
            )
            if not faster or mine is None or swarm <= 0:
                return self.todo.popleft()
            left = self._left_bytes() / swarm  # seconds until the swarm is done
            if unit.length / mine <= left:
                return self.todo.popleft()
            last = self.todo[-1]
            if last.length / mine <= left:
                return self.todo.pop()  # the tail's small units fit a slow mirror
            return None  # faster mirrors will have it sooner
        if mirror.conn_rate is None:
            return None
        mine_for = None
        best: _Unit | None = None
        for u in self.flying:
            if u.done or len(u.owners) != 1 or u.owners[0][0] is mirror:
                continue
            other, a = u.owners[0]
            other_rate = other.conn_rate or a.rate(self.dl.ctx.clock())
            their_left = (u.end - a.pos) / max(1.0, other_rate)
            mine_for = u.length / mirror.conn_rate
            if mine_for * RACE_GAIN < their_left and (best is None or u.start < best.start):
                best = u
        return best

    # -- one connection ---------------------------------------------------------------
    async def _worker(self, mirror: Mirror) -> None:
        dl = self.dl
        gate = mirror.dl.gate
        controller = gate.controller
        while not self.planner.complete and mirror.dropped is None:
            ticket = self.changed.ticket()
            slot: Slot | None = await gate.acquire(dl)
            unit = self._pick(mirror)
            if unit is None:
                gate.release(slot)
                if not self.todo and not self.flying:
                    return
                await WakeUp.wait(ticket, IDLE_TICK)
                continue
            if unit not in self.flying:
                self.flying.append(unit)
            a = Assignment(unit.start, unit.end, self.dl.ctx.clock())
            unit.owners.append((mirror, a))
            self.planner.active.append(a)
            mirror.active += 1
            delay = 0.0
            used = mirror.dl.transfer_url
            expired: UrlExpired | None = None
            try:
                assert slot is not None
                await self._fetch(mirror, unit, a, slot)
            except UrlExpired as exc:
                expired = exc  # renewed below, once the slot is given back
            except HydraError as exc:  # a Pushback too
                delay = self._failed(mirror, exc, slot, unit)
            else:
                mirror.attempts.progressed()
                controller.on_success()
            finally:
                # ownership ends here, before any backoff: a unit nobody holds any more
                # is work again at once (also when this task is cancelled)
                mirror.active -= 1
                unit.owners = [(m, x) for m, x in unit.owners if x is not a]
                if not unit.owners:
                    self.flying.remove(unit)
                    if not unit.done:
                        self.todo.appendleft(unit)
                self.planner.release(a)
                if slot is not None:
                    gate.release(slot)
                self.wake()
            if expired is not None:
                await self._renew(mirror, used, expired)
            if delay > 0:
                await asyncio.sleep(delay)

    async def _renew(self, mirror: Mirror, used: str, exc: UrlExpired) -> None:
        """A fresh URL for ``mirror`` (its ``Download``'s renewer: ``--url-cmd`` only for
        the first URL), or the mirror is dropped and its units go to the others."""
        renewer = mirror.dl.renewer
        if mirror.dropped is not None:
            return
        if not renewer.possible():
            self.last_error = exc
            self._drop(mirror, f"{exc}; no way to renew it (no --url-cmd for it, no redirect)")
            return
        try:
            await renewer.renew(used, exc)
        except HydraError as err:
            self.last_error = err
            self._drop(mirror, str(err))

    def _failed(self, mirror: Mirror, exc: HydraError, slot: Slot | None, unit: _Unit) -> float:
        """The seconds ``mirror``'s connection waits before its next try; 0 when the
        mirror is dropped."""
        self.last_error = exc
        self.dl.retries += 1
        # a wrong byte, a wrong Content-Range, a 404 or a 200 to a range: this mirror is
        # not to be trusted again; a cut connection or push-back may be a passing fault
        # (an expired URL is no lie: ``_renew`` deals with it)
        lied = isinstance(exc, ProtocolViolation | RemoteChangedError | HTTPStatusError)
        if exc.retryable and not lied:
            delay = mirror.attempts.delay_after(exc, slot, f"at {unit.start}")
            if delay is not None:
                log.info("mirror %s: %s; reconnecting", mirror.shown, exc)
                return delay
        self._drop(mirror, str(exc))
        return 0.0

    def _drop(self, mirror: Mirror, why: str) -> None:
        if mirror.dropped is not None:
            return
        mirror.dropped = why
        live = len(self.mset.live)
        log.warning("mirror %s dropped: %s (%d left)", mirror.shown, why, live)
        mirror.dl.gate.controller.note("mirror", f"dropped: {why}")
        if live == 0:
            for u in self.todo:
                self.planner.failed.add(u.start, u.end)

    async def _fetch(self, mirror: Mirror, unit: _Unit, a: Assignment, slot: Slot) -> None:
        """Fetch ``unit`` whole from ``mirror`` (a short 206 is followed by another
        request), verify its piece hash, then write it, unless a racer was first."""
        buf = bytearray(unit.length)
        pos = unit.start
        began = self.dl.ctx.clock()
        while pos < unit.end:
            pos = await self._request(mirror, unit, a, slot, buf, pos)
            if unit.done:
                return  # a racer finished it first
        pieces = self.mset.pieces
        if pieces is not None:
            got = hashlib.new(pieces.algorithm, buf).hexdigest()
            if got != pieces.digests[unit.index]:
                raise ProtocolViolation(
                    f"piece {unit.index} (bytes {unit.start}-{unit.end - 1}) fails its "
                    f"{pieces.algorithm} check"
                )
        mirror.learn(unit.length, self.dl.ctx.clock() - began)
        if unit.done:
            return
        unit.done = True
        await self.sink.write(unit.start, [bytes(buf)])
        self.planner.commit(a, unit.end)

    async def _request(  # noqa: PLR0917 (one request's state, passed down once)
        self, mirror: Mirror, unit: _Unit, a: Assignment, slot: Slot, buf: bytearray, pos: int
    ) -> int:
        mdl, dl = mirror.dl, self.dl
        remote = mirror.remote
        headers = mdl.range_headers(pos, unit.end, remote.validator)
        controller = mdl.gate.controller
        streaming = False
        try:
            async with mdl.get(headers) as resp:
                stop = self._check(mirror, resp, pos, unit.end)
                controller.body_started(slot)
                streaming = True
                async for piece in resp.aiter_raw():
                    n = min(len(piece), stop - pos)
                    if n <= 0:
                        break
                    buf[pos - unit.start : pos - unit.start + n] = piece[:n]
                    pos += n
                    a.pos = pos
                    mirror.received += n
                    delay = dl.arrived(n, controller)
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if unit.done:
                        return pos
                if pos < stop:
                    raise NetworkError("connection closed early (short body)")
                return pos
        finally:
            if streaming:
                controller.body_ended()

    def _check(self, mirror: Mirror, resp: httpx.Response, start: int, end: int) -> int:
        """Validate the answer to ``bytes=start-(end-1)``; return where its body ends."""
        status, headers, url = resp.status_code, resp.headers, redact_url(str(resp.url))
        if status == 206:
            cr = parse_content_range(headers.get("content-range"))
            if cr is None or cr.first != start or cr.end is None or cr.end > end:
                sent = headers.get("content-range")
                raise ProtocolViolation(f"sent Content-Range {sent!r} for bytes={start}-{end - 1}")
            if cr.total != self.size:
                sent = headers.get("content-range")
                raise ProtocolViolation(f"sent Content-Range {sent!r} for a {self.size}-byte file")
            if not mirror.remote.same_version(headers):
                raise RemoteChangedError("the file changed on this mirror")
            return cr.end
        check_pushback(status, headers.get("retry-after"))
        if status == 200:
            raise RangeIgnored("it answered a range request with the whole file")
        if status in (401, 403, 410):
            raise UrlExpired(status, url, resp.reason_phrase)
        raise HTTPStatusError(status, url, resp.reason_phrase)
