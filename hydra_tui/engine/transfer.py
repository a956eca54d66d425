"""Range workers: many connections filling one file (or stream) through the planner.

Each worker loops: take a slot from the host's AIMD gate, take an assignment from the
planner, fetch it with a validated range request, hand the bytes to the sink in ~1 MiB
batches, and on failure back off (full jitter) and retry the same remaining range.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from hydra_tui.engine.aimd import Slot
from hydra_tui.engine.headers import parse_content_range, parse_retry_after
from hydra_tui.engine.planner import Assignment, Planner
from hydra_tui.engine.translate import network_error
from hydra_tui.errors import (
    HTTPStatusError,
    HydraError,
    NetworkError,
    ProtocolViolation,
    RemoteChangedError,
)

if TYPE_CHECKING:
    from hydra_tui.engine.download import Download
    from hydra_tui.engine.probe import RemoteFile
    from hydra_tui.engine.sinks import Sink

__all__ = ["FLUSH_BYTES", "Pushback", "RangeIgnored", "TransferRun", "unwrap"]

FLUSH_BYTES = 1024 * 1024


class Pushback(HydraError):
    """429/503: the server asks us to slow down."""

    retryable = True

    def __init__(self, kind: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {kind} (server busy)")
        self.kind = kind
        self.retry_after = retry_after


class RangeIgnored(HydraError):
    """A 200 to a range request from the same version: fall back to one connection."""


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
        self.changed = asyncio.Event()
        self._tg: asyncio.TaskGroup | None = None
        self._workers = 0

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            self.spawn(self.dl.threads)
        self._tg = None

    def spawn(self, target: int) -> None:
        """Run ``target`` workers (more are added when threads are raised at run time)."""
        if self._tg is None:
            return
        while self._workers < target:
            self._tg.create_task(self._worker(self._workers))
            self._workers += 1

    def wake(self) -> None:
        self.changed.set()

    async def _wait_change(self, timeout: float) -> None:
        self.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)

    async def _worker(self, index: int) -> None:
        planner, gate, dl = self.planner, self.dl.gate, self.dl
        controller = gate.controller
        a: Assignment | None = None
        failures = 0
        try:
            while True:
                if index >= dl.threads and a is None:
                    return
                slot: Slot | None = await gate.acquire()
                try:
                    if a is None:
                        a = planner.next(self.limit())
                        if a is None:
                            if planner.complete:
                                return
                            gate.release()
                            slot = None
                            await self._wait_change(0.25)
                            continue
                    elif a.remaining == 0:
                        # while this worker backed off, others took the rest of its range
                        planner.release(a)
                        a = None
                        self.wake()
                        continue
                    before = a.committed
                    await self._fetch(a, slot)
                except (Pushback, HydraError) as exc:
                    assert a is not None
                    if not exc.retryable:
                        planner.failed.add(a.committed, a.end)
                        raise
                    if a.committed > before:
                        failures = 0
                    failures += 1
                    dl.retries += 1
                    if failures > dl.options.retries:
                        planner.failed.add(a.committed, a.end)
                        raise
                    if isinstance(exc, Pushback):
                        delay = controller.on_pushback(exc.kind, slot, exc.retry_after)
                    elif isinstance(exc, NetworkError) and "reset" in str(exc):
                        delay = controller.on_pushback("reset", slot, None)
                    else:
                        if "stalled" in str(exc):
                            controller.note("stall", f"at {a.pos}")
                        delay = controller.backoff_delay(failures - 1)
                    if slot is not None:
                        gate.release()
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
                finally:
                    if slot is not None:
                        gate.release()
                # success (or a shorter 206): keep the assignment while bytes remain
                failures = 0
                controller.on_success()
                if a.remaining == 0:
                    planner.release(a)
                    a = None
                    self.wake()
        finally:
            if a is not None:
                planner.release(a)
                self.wake()

    async def _fetch(self, a: Assignment, slot: Slot | None) -> None:
        remote, dl, planner = self.remote, self.dl, self.planner
        start, req_end = a.pos, a.end
        if req_end <= start:
            return  # nothing left (taken by another worker): never send an empty range
        headers = dict(dl.request_headers)
        headers["Range"] = f"bytes={start}-{req_end - 1}"
        if remote.validator:
            headers["If-Range"] = remote.validator
        pieces: list[bytes] = []
        buffered = 0
        offset = start
        controller = dl.gate.controller
        bucket = dl.bucket
        streaming = False
        try:
            async with dl.ctx.client.stream("GET", dl.transfer_url, headers=headers) as resp:
                stop = self._check_response(resp, start, req_end)
                controller.body_started()
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
                    dl.received += n
                    controller.on_bytes(n)
                    if bucket.rate is not None:
                        delay = bucket.take(n)
                        if delay > 0:
                            await asyncio.sleep(delay)
                    if buffered >= FLUSH_BYTES:
                        await self.sink.write(offset, pieces)
                        planner.commit(a, a.pos)
                        offset = a.pos
                        pieces = []
                        buffered = 0
                    if a.pos >= a.end and a.end < stop:
                        break  # the rest was stolen: give up this connection
                # reading to the end of the body lets the connection be reused
                if a.pos < min(a.end, stop):
                    raise NetworkError("connection closed early (short body)")
        except httpx.HTTPError as exc:
            raise network_error(exc) from exc
        finally:
            if streaming:
                controller.body_ended()
            if pieces:
                await self.sink.write(offset, pieces)
                planner.commit(a, offset + buffered)

    def _check_response(self, resp: httpx.Response, start: int, req_end: int) -> int:
        """Validate the answer to ``bytes=start-(req_end-1)``; return where its body ends."""
        status = resp.status_code
        remote = self.remote
        if status == 206:
            cr = parse_content_range(resp.headers.get("content-range"))
            if (
                cr is None
                or cr.first != start
                or cr.end is None
                or cr.end > req_end
                or cr.total != remote.size
            ):
                raise ProtocolViolation(
                    f"server sent Content-Range {resp.headers.get('content-range')!r} "
                    f"for bytes={start}-{req_end - 1}"
                )
            length = resp.headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) != cr.end - start):
                raise ProtocolViolation(
                    f"Content-Length {length} does not match Content-Range "
                    f"{resp.headers.get('content-range')!r}"
                )
            if not remote.same_version(resp):
                raise RemoteChangedError("the file changed on the server during the download")
            return cr.end
        if status == 200:
            # with If-Range, a 200 carrying another validator means a new version
            if remote.validator and not remote.same_version(resp):
                raise RemoteChangedError("the file changed on the server during the download")
            raise RangeIgnored("the server ignored a Range request")
        if status in (429, 503):
            raise Pushback(str(status), parse_retry_after(resp.headers.get("retry-after")))
        if status == 416:
            raise RemoteChangedError("the server no longer has these bytes (416): the file changed")
        raise HTTPStatusError(status, str(resp.url), resp.reason_phrase)


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
