"""Range workers: many connections filling one file (or stream) through the planner.

Each worker loops: take a slot from the host's AIMD gate, take an assignment from the
planner, fetch it with a validated range request, hand the bytes to the sink in ~1 MiB
batches, and on failure back off (full jitter) and retry the same remaining range.
After a clean chunk the worker keeps its slot while the window allows (``HostGate.keep``)
and sends the next request at once over the same kept-alive connection. A refusal read
as over the host's connection limit is not a failure of the range: it costs no retry.

A watcher opens a hedge: one connection above the window that takes over the remainder
of a crawling connection as soon as the planner sees one (``Planner.hedge``), runs that
one range and ends. Without it a takeover waited for an idle worker, and with every
connection busy on its own chunk that wait was most of what one crawler cost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from hydra_tui.engine.http.error_map import check_pushback, lost_error
from hydra_tui.engine.http.headers import parse_content_range
from hydra_tui.engine.http.rawhttp import (
    Block,
    Origin,
    RawPool,
    build_request,
)
from hydra_tui.engine.http.rawhttp import ignore_bytes as _ignore
from hydra_tui.engine.io.direct_io import aligned_block
from hydra_tui.engine.io.reorder import Piece
from hydra_tui.engine.plan.aimd import Slot
from hydra_tui.engine.plan.planner import Assignment, Planner
from hydra_tui.engine.plan.retry import Attempts
from hydra_tui.engine.plan.wakeup import WakeUp
from hydra_tui.engine.signals import RangeIgnored, Unsupported
from hydra_tui.errors import (
    HTTPStatusError,
    HydraError,
    NetworkError,
    ProtocolViolation,
    Pushback,
    RemoteChangedError,
    Stalled,
    UrlExpired,
)

if TYPE_CHECKING:
    from hydra_tui.engine.download import Download
    from hydra_tui.engine.http.probe import RemoteFile
    from hydra_tui.engine.io.sinks import Sink

__all__ = [
    "FLUSH_BYTES",
    "RAW_BLOCKS_BUDGET",
    "RAW_BLOCK_MIN",
    "TransferRun",
    "raw_block_size",
    "unwrap",
]

log = logging.getLogger(__name__)

FLUSH_BYTES = 1024 * 1024
#: how often a worker on the raw path looks at a partly filled block (progress, stalls)
RAW_TICK = 0.25
#: how often the watcher asks the planner for a crawler to hedge
HEDGE_TICK = 0.1
#: hedges running at once (a hedge may crawl too: then a second one takes it over)
MAX_HEDGES = 2


#: what the raw reader's blocks of all connections of a download may hold at once; each
#: connection has two (one being read into, one being written)
RAW_BLOCKS_BUDGET = 16 * 1024 * 1024
RAW_BLOCK_MIN = 256 * 1024


def raw_block_size(threads: int) -> int:
    """1 MiB blocks up to 8 connections, smaller beyond (at least 256 KiB), so that
    double buffering keeps a download's blocks within ``RAW_BLOCKS_BUDGET``."""
    share = RAW_BLOCKS_BUDGET // (2 * max(1, threads))
    return max(RAW_BLOCK_MIN, min(FLUSH_BYTES, share))


def _new_block(size: int, at: int, keeps: bool) -> Block:
    """A block for the body bytes at file offset ``at``: placed for a direct write from
    where it lies when the sink writes it to disk, a plain bytearray for a sink that
    keeps it (the stream)."""
    return bytearray(size) if keeps else aligned_block(size, at)


class TransferRun:
    """The multi-connection transfer of one file's missing ranges into a sink."""

    def __init__(
        self,
        dl: Download,
        remote: RemoteFile,
        planner: Planner,
        sink: Sink,
        *,
        limit: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.dl = dl
        self.remote = remote
        self.planner = planner
        self.sink = sink
        self.limit = limit
        self.changed = WakeUp()
        self._tg: asyncio.TaskGroup | None = None
        self._workers = 0
        self._tasks: set[asyncio.Task[None]] = set()
        #: workers and hedges whose task has not ended (the watcher stops at zero)
        self._running = 0
        self._hedges = 0
        #: False once the server refused a hedge (it caps connections at the window)
        self._hedging = True
        #: the crawler watcher, cancelled when the last worker ends (no tick to wait out)
        self._watcher: asyncio.Task[None] | None = None
        self._raw: tuple[Origin, httpx.URL, list[tuple[str, str]]] | None = None
        #: read bodies with ``rawhttp`` (False once an answer needed more HTTP than it has)
        self.raw_ok = dl.options.raw_http

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            self.spawn(self.dl.threads)
            tg.create_task(self._end_when_complete())
            self._watcher = tg.create_task(self._watch_crawlers())
        self._tg = None
        self._watcher = None

    async def _end_when_complete(self) -> None:
        """Once every byte is in, stop the workers still waiting (a backoff after a cut
        body, a rate limit's pause, a slot of a host busy with other downloads): the
        download is done now, not seconds later (the demo's firmware.bin sat at
        "100 % downloading" for 8.5 s)."""
        while True:
            ticket = self.changed.ticket()
            live = [t for t in self._tasks if not t.done()]
            if not live:
                return
            if self.planner.complete:
                for task in live:
                    task.cancel()
                return
            await WakeUp.wait(ticket, 0.1)

    def spawn(self, target: int) -> None:
        """Run ``target`` workers (more are added when threads are raised at run time)."""
        if self._tg is None:
            return
        while self._workers < target:
            self._running += 1
            self._tasks.add(self._tg.create_task(self._worker(self._workers)))
            self._workers += 1

    async def _watch_crawlers(self) -> None:
        """Open a hedge for each crawler the planner reports (``MAX_HEDGES`` at once).

        Not with one connection: ``-t 1`` asks for one, and a lone connection has no
        peers to be slower than.
        """
        planner = self.planner
        while self._running > 0 and not planner.complete:
            await asyncio.sleep(HEDGE_TICK)
            if self._tg is None or self.dl.threads < 2 or self._hedges >= MAX_HEDGES:
                continue
            if not self._hedging:
                return
            if self.dl.gate.controller.wait_time() > 0:
                continue  # the server asked for a pause (Retry-After): no extra request
            a = planner.hedge()
            if a is None:
                continue
            log.info(
                "%s: hedging bytes %d-%d of a crawling connection", self.dl.url, a.start, a.end - 1
            )
            self._hedges += 1
            self.dl.hedges += 1
            self._running += 1
            self._tasks.add(self._tg.create_task(self._worker(-1, a)))

    def wake(self) -> None:
        self.changed.wake()

    async def _worker(self, index: int, hedge: Assignment | None = None) -> None:
        """Fetch assignments until none is left; a hedge (``index`` -1) fetches only
        ``hedge``, above the host's window (no slot), and ends."""
        planner, gate, dl = self.planner, self.dl.gate, self.dl
        controller = gate.controller
        a: Assignment | None = hedge
        slot: Slot | None = None
        attempts = Attempts(controller, dl.options.retries)
        try:
            while True:
                if a is None and (hedge is not None or index >= dl.threads or planner.complete):
                    return
                if slot is None and hedge is None:
                    slot = await dl.acquire()
                try:
                    if a is None:
                        ticket = self.changed.ticket()
                        a = planner.next(self.limit())
                        if a is not None:
                            a.worker = index
                        if a is None:
                            if planner.complete:
                                return
                            if slot is not None:
                                gate.release(slot)
                                slot = None
                            await WakeUp.wait(ticket, 0.25)
                            continue
                    elif a.remaining == 0:
                        # while this worker backed off, others took the rest of its range
                        planner.release(a)
                        a = None
                        self.wake()
                        continue
                    before = a.committed
                    used = dl.transfer_url
                    await self._fetch(a, slot)
                except (Pushback, HydraError) as exc:
                    assert a is not None and (slot is not None or hedge is not None)
                    if isinstance(exc, UrlExpired):
                        if slot is not None:
                            gate.release(slot)
                            slot = None
                        try:
                            await dl.renewer.renew(used, exc)
                        except HydraError:
                            planner.failed.add(a.committed, a.end)
                            raise
                        continue
                    if not exc.retryable:
                        planner.failed.add(a.committed, a.end)
                        raise
                    if hedge is not None and isinstance(exc, Pushback):
                        # the server refuses a connection above the window: not a reason
                        # to shrink the window; its range is work for the workers again
                        log.info("%s: hedge refused (%s); no more hedges", dl.url, exc)
                        self._hedging = False
                        planner.release(a)
                        a = None
                        self.wake()
                        continue
                    dl.retries += 1
                    log.info("%s: bytes %d-%d: %s; reconnecting", dl.url, a.pos, a.end - 1, exc)
                    if a.committed > before:
                        attempts.progressed()
                    delay = attempts.delay_after(exc, slot, f"at {a.pos}")
                    if delay is None:
                        planner.failed.add(a.committed, a.end)
                        raise
                    if slot is not None:
                        gate.release(slot)
                        slot = None
                    if a.remaining == 0 or isinstance(exc, Pushback):
                        # push-back is about the server, not this range: let a worker
                        # that does get a slot take it rather than park it here
                        planner.release(a)
                        a = None
                        self.wake()
                        if isinstance(exc, Pushback):
                            await asyncio.sleep(delay)
                        continue
                    a.retrying = True
                    await asyncio.sleep(delay)
                    a.retrying = False
                    continue
                # success (or a shorter 206): keep the assignment while bytes remain
                attempts.progressed()
                controller.on_success()
                if a.remaining == 0:
                    planner.release(a)
                    a = None
                    self.wake()
                if slot is not None and not gate.keep(slot):
                    gate.release(slot)
                    slot = None
        finally:
            if slot is not None:
                gate.release(slot)
            self._running -= 1
            if self._running == 0 and self._watcher is not None:
                self._watcher.cancel()
            if hedge is not None:
                self._hedges -= 1
            if a is not None:
                planner.release(a)
                self.wake()

    def _surplus(self, a: Assignment) -> bool:
        """After ``-`` lowered the ceiling, a worker past it hands the rest of its range
        back at this block boundary and closes its connection (not after a whole chunk)."""
        if a.worker < self.dl.threads or a.pos >= a.end:
            return False
        a.end = a.pos
        self.wake()
        return True

    async def _fetch(self, a: Assignment, slot: Slot | None) -> None:
        if a.end <= a.pos:
            return  # nothing left (taken by another worker): never send an empty range
        pool = self.dl.ctx.raw_pool
        if pool is not None and self.raw_ok and self._raw_route(pool):
            try:
                await self._fetch_raw(a, pool, slot)
                return
            except Unsupported as exc:
                # nothing of the body was taken: the same request goes through httpx
                log.info("%s: range reader falls back to httpx: %s", self.dl.transfer_url, exc)
                self.raw_ok = False
        await self._fetch_httpx(a, slot)

    async def _fetch_httpx(self, a: Assignment, slot: Slot | None) -> None:
        remote, dl, planner = self.remote, self.dl, self.planner
        start, req_end = a.pos, a.end
        headers = dl.range_headers(start, req_end, remote.validator)
        pieces: list[bytes] = []
        buffered = 0
        offset = start
        controller = dl.gate.controller
        streaming = False
        try:
            async with dl.get(headers) as resp:
                stop = self._check_response(
                    resp.status_code,
                    resp.headers,
                    str(resp.url),
                    resp.reason_phrase,
                    start=start,
                    req_end=req_end,
                )
                controller.body_started(slot)
                opened = dl.body_opened()
                streaming = True
                async for piece in resp.aiter_raw():
                    # clip to this response's end and to what is still ours (a steal
                    # or a takeover may have shortened the range)
                    n = planner.receive(a, min(len(piece), stop - a.pos))
                    if n <= 0:
                        break
                    if n < len(piece):
                        piece = piece[:n]
                    pieces.append(piece)
                    buffered += n
                    delay = dl.arrived(n)
                    if delay > 0:
                        await asyncio.sleep(delay)
                        dl.paused_by_us()
                    dl.check_speed(opened)
                    if buffered >= FLUSH_BYTES:
                        await self.sink.write(offset, pieces)
                        planner.commit(a, a.pos)
                        offset = a.pos
                        pieces = []
                        buffered = 0
                        if self._surplus(a):
                            break
                    if a.pos >= a.end and a.end < stop:
                        break  # the rest was stolen: give up this connection
                # reading to the end of the body lets the connection be reused
                if a.pos < min(a.end, stop):
                    raise NetworkError("connection closed early (short body)")
        finally:
            if streaming:
                controller.body_ended()
                dl.body_closed()
            if pieces:
                await self.sink.write(offset, pieces)
                planner.commit(a, offset + buffered)

    # -- the raw path ----------------------------------------------------------------------
    def _raw_route(self, pool: RawPool) -> bool:
        """http(s), no proxy, no credentials in the URL, no cookies to send: the raw
        reader fits (each reason it does not is logged once)."""
        dl = self.dl
        if self._raw is None or str(self._raw[1]) != dl.transfer_url:
            url = httpx.URL(dl.transfer_url)
            key = pool.origin(url)
            if key is None:
                self.raw_ok = False
                return False
            headers = httpx.Headers(dl.ctx.default_headers)
            headers.update(dl.request_headers)
            self._raw = (key, url, list(headers.items()))
        if dl.ctx.has_cookies:
            pool.tell(dl.transfer_url, "the server set cookies")
            return False
        return True

    async def _fetch_raw(self, a: Assignment, pool: RawPool, slot: Slot | None) -> None:
        dl, planner, sink = self.dl, self.planner, self.sink
        assert self._raw is not None
        key, url, base = self._raw
        start, req_end = a.pos, a.end
        headers = [*base, ("Range", f"bytes={start}-{req_end - 1}")]
        if self.remote.validator:
            headers.append(("If-Range", self.remote.validator))
        size = min(raw_block_size(dl.threads), req_end - start)
        block = _new_block(size, start, sink.keeps_pieces)
        stall = dl.options.stall_timeout
        conn = await pool.open(key, build_request(url, headers), block, stall=stall)
        controller = dl.gate.controller
        bucket = dl.bucket
        keeps = sink.keeps_pieces
        tick = min(RAW_TICK, stall / 4)
        loop = asyncio.get_running_loop()
        streaming = False
        offset = start  # where ``block`` starts in the file
        written = False  # the current block's taken bytes are already in the sink
        stop = start  # where this response's body ends (known once its head checks out)
        pooled = False
        #: a full block handed to the sink whose write has not returned: the connection
        #: reads on into another block meanwhile (double buffering), so the socket is
        #: never idle while the disk writes
        pending: tuple[int, Piece] | None = None
        spare: Block | None = None

        def take(arrived: int) -> int:
            """Claim up to ``arrived`` new bytes from the planner (clipped to what is
            still ours: a steal or a takeover may have shortened the range)."""
            n = planner.receive(a, min(arrived, stop - a.pos))
            if n > 0:
                conn.seen += n
                dl.received += n
            return n

        try:
            if conn.status == 206 and (conn.content_length is None or conn.chunked):
                raise Unsupported("a range body without Content-Length")
            if 300 <= conn.status < 400:
                raise Unsupported(f"a redirect ({conn.status}) on a range request")
            stop = self._check_response(
                conn.status, conn.headers, str(url), conn.reason, start=start, req_end=req_end
            )
            controller.body_started(slot)
            opened = dl.body_opened()
            streaming = True
            if conn.fill:
                controller.on_bytes(conn.fill)  # what came with the head
            conn.on_bytes = controller.on_bytes
            last_bytes = conn.received
            last_time = loop.time()
            while True:
                new = conn.fill - conn.seen
                if new:
                    n = take(new)
                    if n > 0 and bucket.rate is not None:
                        delay = bucket.take(n)
                        if delay > 0:
                            conn.pause()
                            await asyncio.sleep(delay)
                            conn.resume()
                            last_time = loop.time()  # our pause is not a stall
                            dl.paused_by_us()
                    if n < new or (a.pos >= a.end and a.end < stop):
                        break  # the rest was stolen or taken over: give up this connection
                if streaming and conn.body_done:
                    # the last byte is in: the server's slot is free before our write is
                    streaming = False
                    controller.body_ended()
                if conn.seen and (conn.seen >= len(conn.block) or conn.body_done):
                    full, seen = conn.block, conn.seen
                    piece: Piece
                    if keeps:  # the sink holds on to it: it must be ours alone
                        piece = full if seen == len(full) else bytes(memoryview(full)[:seen])
                    else:
                        piece = memoryview(full)[:seen]
                    last = conn.body_done and conn.fill == seen
                    at, offset = offset, offset + seen
                    if last:
                        written = True
                    else:
                        fresh = spare if spare is not None and not keeps else None
                        if fresh is None:
                            fresh = _new_block(len(full), offset, keeps)
                        conn.new_block(fresh)
                        spare = None
                        written = False
                    pending = (at, piece)
                    try:
                        await sink.write(at, [piece])
                    except Exception:
                        pending = None  # a failed write is not retried here
                        raise
                    pending = None
                    planner.commit(a, offset)
                    if not keeps:
                        spare = full
                    if last:
                        break
                    if self._surplus(a):
                        break
                    continue
                if conn.body_done and conn.fill == conn.seen:
                    break
                if conn.lost is not None:
                    raise lost_error(conn.lost, head_done=conn.head_done)
                await conn.wait(tick)
                dl.check_speed(opened)
                if conn.received != last_bytes:
                    last_bytes = conn.received
                    last_time = loop.time()
                elif loop.time() - last_time >= stall:
                    raise Stalled("stalled: no data within the stall timeout")
            if a.pos < min(a.end, stop):
                raise NetworkError("connection closed early (short body)")
            conn.on_bytes = _ignore
            if conn.finish():
                pool.give_back(conn)
                pooled = True
        finally:
            if not pooled:
                conn.on_bytes = _ignore
                conn.close()
                if pending is not None:  # cancelled while it was written: again, whole
                    await sink.write(pending[0], [pending[1]])
                    planner.commit(a, pending[0] + len(pending[1]))
                # keep what arrived before an error, a steal or a cancel: take the
                # block's unseen bytes (clipped to what is still ours) and write them
                if conn.fill > conn.seen and not written and a.pos < stop:
                    take(conn.fill - conn.seen)
                if conn.seen and not written:
                    rest = bytes(conn.block[: conn.seen])
                    await sink.write(offset, [rest])
                    planner.commit(a, offset + len(rest))
            if streaming:
                controller.body_ended()
                dl.body_closed()

    def _check_response(
        self,
        status: int,
        headers: httpx.Headers,
        url: str,
        reason: str,
        *,
        start: int,
        req_end: int,
    ) -> int:
        """Validate the answer to ``bytes=start-(req_end-1)``; return where its body ends."""
        remote = self.remote
        if status == 206:
            cr = parse_content_range(headers.get("content-range"))
            if (
                cr is None
                or cr.first != start
                or cr.end is None
                or cr.end > req_end
                or cr.total != remote.size
            ):
                raise ProtocolViolation(
                    f"server sent Content-Range {headers.get('content-range')!r} "
                    f"for bytes={start}-{req_end - 1}"
                )
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) != cr.end - start):
                raise ProtocolViolation(
                    f"Content-Length {length} does not match Content-Range "
                    f"{headers.get('content-range')!r}"
                )
            if not remote.same_version(headers):
                raise RemoteChangedError("the file changed on the server during the download")
            return cr.end
        if status == 200:
            # with If-Range, a 200 carrying another validator means a new version
            if remote.validator and not remote.same_version(headers):
                raise RemoteChangedError("the file changed on the server during the download")
            raise RangeIgnored("the server ignored a Range request")
        check_pushback(status, headers.get("retry-after"))
        if status == 416:
            raise RemoteChangedError("the server no longer has these bytes (416): the file changed")
        if status in (401, 403, 410):
            raise UrlExpired(status, url, reason)
        raise HTTPStatusError(status, url, reason)


def unwrap(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error to report from a worker group: a fallback signal first, then a
    fatal error, then a retryable one; anything that is not a ``HydraError`` (a bug) wins.
    """
    leaves: list[BaseException] = []

    def walk(g: BaseExceptionGroup[BaseException]) -> None:
        for e in g.exceptions:
            if isinstance(e, BaseExceptionGroup):
                walk(e)
            else:
                leaves.append(e)

    walk(group)

    def rank(e: BaseException) -> int:
        if not isinstance(e, HydraError):
            return 0
        if isinstance(e, RangeIgnored):
            return 1
        return 3 if e.retryable else 2

    return min(leaves, key=rank)
