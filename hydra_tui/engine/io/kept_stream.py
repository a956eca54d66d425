"""Stream and keep (``-s URL --save FILE``): the in-order stream, also written to FILE.

``KeptStream.blocks()`` yields the whole file from byte 0, in order. FILE is written as
disk mode writes: into ``FILE.part`` claimed through ``engine/io/partfile.py`` (never a
link, never a user's file), published by ``publish()`` only after the caller checked the
digests. Every second the saved prefix ``[0, n)`` goes to the resume store (fdatasync'ed
every ``DURABLE_SECONDS``; written-but-unsynced bytes are trusted only within the same
boot, as disk mode trusts them). Run again after a crash, the same command replays
``[0, n)`` from the ``.part`` to the stream, then downloads ``[n, size)``: a consumer
that starts over (``| tar -xz``) gets the whole file again, with no byte fetched twice.
Only a prefix is ever claimed, and only for the same remote (size and validators).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator, Sequence

from hydra_tui.engine.disk import CHECKPOINT_SECONDS, DURABLE_SECONDS, place_part
from hydra_tui.engine.download import Download, Probed
from hydra_tui.engine.io.checksums import expected_digests, names_of
from hydra_tui.engine.io.partfile import PartFile
from hydra_tui.engine.io.reorder import Piece
from hydra_tui.engine.io.resume import ResumeRecord, boot_id
from hydra_tui.engine.io.sinks import DiskSink
from hydra_tui.engine.plan.ranges import RangeSet
from hydra_tui.engine.stream import stream_blocks
from hydra_tui.errors import HydraError, LocalIOError, ProtocolViolation

__all__ = ["KeptStream"]

log = logging.getLogger(__name__)
#: bytes read back per replayed block
REPLAY_BLOCK = 4 * 1024 * 1024


class KeptStream:
    """One download streamed in order and kept on disk; ``close()`` it in any case."""

    def __init__(self, dl: Download) -> None:
        self.dl = dl
        self._sink: DiskSink | None = None
        self._written = 0
        self._durable = 0
        self._size: int | None = None
        #: bytes replayed from the ``.part`` instead of downloaded
        self.replayed = 0
        self._published = False

    async def blocks(self) -> AsyncGenerator[Sequence[Piece], None]:
        """The file from byte 0: the saved prefix read back, then the download."""
        dl = self.dl
        dl.begin()
        try:
            probed = await dl.probe()
        finally:
            dl.end()
        remote = probed.remote
        self._size = remote.size
        dl.expected_digests = expected_digests(dl.options, names_of(dl.options, remote, dl.url))
        pf, record = place_part(dl, probed)
        self._sink = sink = DiskSink(pf, dl.ctx.executor)
        dl.name, dl.path = pf.final.name, str(pf.final)
        start = self._saved_prefix(pf, probed, record)
        if start:
            log.info("%s: replaying %d saved bytes, then resuming", pf.final.name, start)
        else:
            pf.start_over()
        sink.truncate(start)
        self._written = self._durable = self.replayed = start
        dl.resumed_bytes = start
        loop = asyncio.get_running_loop()
        offset = 0
        while offset < start:
            n = min(REPLAY_BLOCK, start - offset)
            data = await loop.run_in_executor(dl.ctx.executor, os.pread, sink.fd, n, offset)
            if len(data) != n:
                raise LocalIOError(f"{pf.path} is shorter than its saved {start} bytes")
            offset += n
            yield [data]
        ticker = asyncio.create_task(self._checkpoints())
        try:
            live = stream_blocks(dl, verify=False, probed=probed, start=start)
            async with contextlib.aclosing(live):
                async for block in live:
                    await sink.write(self._written, block)
                    self._written += sum(len(p) for p in block)
                    yield block
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    def _saved_prefix(self, pf: PartFile, probed: Probed, record: ResumeRecord | None) -> int:
        """How many leading bytes of the ``.part`` are this very remote's."""
        remote = probed.remote
        if record is None or not pf.matches(record.identity):
            return 0
        if not remote.multi_connection:
            log.warning("%s: the server does not take ranges; starting over", pf.final.name)
            return 0
        if not record.same_remote(remote.size, remote.etag, remote.last_modified):
            log.warning("%s: the remote file changed or proves nothing; starting over",
                        pf.final.name)  # fmt: skip
            return 0
        prefix = next((end for begin, end in record.ranges if begin == 0), 0)
        assert self._sink is not None
        return min(prefix, self._sink.size())

    async def _checkpoints(self) -> None:
        loop = asyncio.get_running_loop()
        last_sync = loop.time()
        saved = -1
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            if self._written == saved:
                continue
            sync = loop.time() - last_sync >= DURABLE_SECONDS
            if sync:
                last_sync = loop.time()
            saved = self._written
            await loop.run_in_executor(self.dl.ctx.executor, self._checkpoint, saved, sync)

    def _checkpoint(self, written: int, sync: bool) -> None:
        """Record ``[0, written)`` as saved; fdatasync first when ``sync`` (or when this
        kernel's boot cannot be told, so nothing volatile would be trusted). I/O thread."""
        store, sink, remote = self.dl.ctx.store, self._sink, self.dl.remote
        if store is None or sink is None or remote is None:
            return
        if sync or boot_id() is None:
            sink.sync()
            self._durable = written
        store.save(sink.file.key, url=self.dl.url, size=remote.size, etag=remote.etag,
                   last_modified=remote.last_modified, durable=RangeSet([(0, self._durable)]),
                   volatile=RangeSet([(0, written)]), identity=sink.file.identity,
                   url_cmd=self.dl.renewer.command())  # fmt: skip

    @property
    def part(self) -> str:
        """The ``.part`` being written (for messages)."""
        return "" if self._sink is None else str(self._sink.path)

    def publish(self) -> None:
        """Every byte is in and the caller's digests matched: FILE appears."""
        sink = self._sink
        assert sink is not None
        if self._size is not None and sink.size() != self._size:
            raise ProtocolViolation(f"{sink.path}: got {sink.size()} bytes, expected {self._size}")
        sink.sync()
        sink.file.publish()
        self._published = True
        store = self.dl.ctx.store
        if store is not None:
            store.forget(sink.file.key)

    def close(self) -> None:
        """Save the prefix for the next run (unless published) and let the file go."""
        sink = self._sink
        if sink is None or sink.closed:
            return
        if self._written and not self._published:
            with contextlib.suppress(OSError, HydraError):
                self._checkpoint(self._written, True)
        sink.close()
