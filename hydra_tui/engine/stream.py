"""Stream mode: many connections, one in-order byte stream, bounded memory.

The planner never requests bytes past ``consumed + buffer`` (``consumed`` = what the
reader has taken), so the reorderer plus the workers' unflushed batches never hold more
than ``buffer`` bytes, however slow the reader. Bytes handed out cannot be taken back:
a remote that changes mid-stream is an error, never a splice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Sequence

from hydra_tui.engine.download import Download, Probed
from hydra_tui.engine.io.checksums import check_digests, expected_digests, names_of, new_hashers
from hydra_tui.engine.io.filename import download_name
from hydra_tui.engine.io.reorder import Piece, Reorderer
from hydra_tui.engine.io.sinks import StreamSink
from hydra_tui.engine.one_connection import fetch_single
from hydra_tui.engine.plan.planner import Planner
from hydra_tui.engine.signals import RangeIgnored
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.engine.transfer import FLUSH_BYTES, TransferRun, unwrap
from hydra_tui.errors import HydraError, ProtocolViolation, RemoteChangedError

__all__ = ["stream_blocks", "stream_chunk_size"]

log = logging.getLogger(__name__)
MiB = 1024 * 1024


def stream_chunk_size(buffer: int, threads: int) -> int:
    """Requests small enough that the window holds two per connection: one finishing
    connection need not wait for the slowest before it can start the next."""
    return max(256 * 1024, min(16 * MiB, buffer // max(1, 2 * threads)))


async def stream_blocks(
    dl: Download, *, verify: bool = True, probed: Probed | None = None, start: int = 0
) -> AsyncGenerator[Sequence[Piece], None]:
    """Yield the file as in-order lists of ``bytes`` (each list a contiguous run).

    Checksums in ``dl.options`` are verified at the end when ``verify`` is true (the CLI
    passes False and hashes on its writer thread instead). ``start`` > 0 (``--save``
    resuming, ``engine/io/kept_stream.py``) yields from that offset on; only a ranged
    remote (or the probe's whole body) can start there, and ``verify`` needs 0.
    """
    total = start
    with dl.running(stopped=DownloadState.CANCELLED):
        if probed is None:
            probed = await dl.probe()
        remote = probed.remote
        dl.expected_digests = expected_digests(dl.options, names_of(dl.options, remote, dl.url))
        hashers = new_hashers(dl.expected_digests) if verify else {}
        dl.name = download_name(
            dl.options.filename, remote.disposition_name, remote.final_url, dl.url
        )
        dl.state = DownloadState.DOWNLOADING
        if start and not (remote.multi_connection or probed.head_complete):
            raise ProtocolViolation("cannot start a stream mid-file without ranges")
        if remote.multi_connection:
            source = _ranged(dl, probed, start)
        else:
            source = _single(dl, probed, start)
        # aclosing: when our reader stops early, the inner generator (and its workers)
        # are closed right now, not later by the loop's finalizer after the client closed
        async with dl.sampling(), contextlib.aclosing(source):
            async for block in source:
                for piece in block:
                    for h in hashers.values():
                        h.update(piece)
                    total += len(piece)
                yield block
        if remote.size is not None and total != remote.size:
            raise ProtocolViolation(f"stream ended after {total} of {remote.size} bytes")
        if hashers:
            found = {alg: h.hexdigest() for alg, h in hashers.items()}
            dl.checksum = check_digests(dl.expected_digests, found)
        dl.state = DownloadState.DONE


async def _ranged(
    dl: Download, probed: Probed, start: int
) -> AsyncGenerator[Sequence[Piece], None]:
    remote = probed.remote
    assert remote.size is not None
    buffer = max(FLUSH_BYTES * 2, dl.options.stream_buffer)
    reorderer = Reorderer(start)
    sink = StreamSink(reorderer)
    consumed = [start]
    chunk = dl.options.chunk_size or stream_chunk_size(buffer, dl.threads)
    planner = Planner(
        remote.size,
        chunk_size=chunk,
        clock=dl.ctx.clock,
        min_split=256 * 1024,
        window=buffer,
        done=[(0, start)] if start else (),
    )
    dl.planner = planner
    if len(probed.head) > start:
        await sink.write(start, [probed.head[start:]])
        planner.done.add(start, len(probed.head))
    run = TransferRun(dl, remote, planner, sink, limit=lambda: consumed[0] + buffer)
    dl.transfer = run
    task = asyncio.create_task(_run(run))
    fallback = False
    try:
        while reorderer.emitted < remote.size:
            if reorderer.ready():
                block = reorderer.pop_ready_block()
                yield block
                consumed[0] = reorderer.emitted
                run.wake()
                continue
            if task.done():
                exc = task.exception()
                if isinstance(exc, RangeIgnored):
                    fallback = True
                    break
                if exc is not None:
                    raise exc
                if not reorderer.ready():
                    raise ProtocolViolation("transfer ended with bytes missing")
                continue
            sink.ready.clear()
            waiter = asyncio.create_task(sink.ready.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, HydraError):
            await task
        dl.transfer = None
    if fallback:
        log.warning("%s: server ignores Range; continuing over one connection", dl.shown_url)
        dl.planner = None
        dl.single_done = reorderer.emitted
        reorderer.clear()
        async with contextlib.aclosing(_single_from(dl, probed, dl.single_done)) as rest:
            async for block in rest:
                yield block


async def _run(run: TransferRun) -> None:
    try:
        await run.run()
    except BaseExceptionGroup as group:
        raise unwrap(group) from None


async def _single(
    dl: Download, probed: Probed, start: int
) -> AsyncGenerator[Sequence[Piece], None]:
    if probed.head_complete:
        dl.single_done = len(probed.head)
        if len(probed.head) > start:
            yield [probed.head[start:]]
        return
    async with contextlib.aclosing(_single_from(dl, probed, 0)) as whole:
        async for block in whole:
            yield block


async def _single_from(
    dl: Download, probed: Probed, skip: int
) -> AsyncGenerator[Sequence[Piece], None]:
    """One connection through a bounded queue (the reader's pace is the download's)."""
    remote = probed.remote
    if skip and not (remote.etag or remote.last_modified):
        raise RemoteChangedError(
            "cannot continue the stream safely: the server offers no validator"
        )
    queue: asyncio.Queue[Sequence[Piece] | None] = asyncio.Queue(
        maxsize=max(2, dl.options.stream_buffer // FLUSH_BYTES)
    )

    class QueueSink:
        keeps_pieces = True

        async def write(self, offset: int, pieces: Sequence[Piece]) -> None:
            await queue.put(pieces)

    dl.single_done = skip

    async def produce() -> None:
        await fetch_single(dl, remote, QueueSink(), resumable_skip=True)
        await queue.put(None)

    task = asyncio.create_task(produce())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                exc = task.exception()
                if exc is not None:
                    raise exc
                continue
            block = getter.result()
            if block is None:
                break
            yield block
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, HydraError):
            await task
