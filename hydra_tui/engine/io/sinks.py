"""Where fetched bytes go: a ``.part`` file written at offsets, or the stream reorderer.

Both sinks take ``write(offset, pieces)`` with a list of ``bytes`` (no concatenation in
the hot path): the disk sink hands them to ``os.pwritev`` on its file's own writer
thread, the stream sink pushes them onto the min-heap for the consumer.

One writer thread per file, not the engine's shared I/O pool: several threads writing
one file spin on its inode lock (``rwsem_spin_on_owner``; bench/PROFILE.md "One writer
thread per file" has the figures), and one thread per file keeps the writes of
different files apart. Each write is still awaited before its range is committed, so
the resume store never claims a byte that is not in the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from hydra_tui.engine.http.error_map import local_error
from hydra_tui.engine.io.direct_io import DirectReader, DirectWriter, slice_views
from hydra_tui.engine.io.partfile import PartFile
from hydra_tui.engine.io.reorder import Piece, Reorderer
from hydra_tui.engine.io.writeback import start_writeback_range
from hydra_tui.errors import LocalIOError
from hydra_tui.units import format_size

__all__ = ["DiskSink", "Sink", "StreamSink", "drop_written", "hash_file"]

log = logging.getLogger(__name__)

_IOV_MAX = 512


class Sink(Protocol):
    #: True when the sink holds on to the pieces after ``write`` returns (so a writer
    #: must not refill a buffer it handed over); False when they were copied out
    keeps_pieces: bool

    async def write(self, offset: int, pieces: Sequence[Piece]) -> None: ...


def drop_written(views: list[memoryview], written: int) -> None:
    """Remove the first ``written`` bytes from ``views`` after a partial (p)writev."""
    while written and views:
        first = views[0]
        if written >= len(first):
            written -= len(first)
            views.pop(0)
        else:
            views[0] = first[written:]
            written = 0


def _pwritev_all(fd: int, pieces: Sequence[Piece], offset: int) -> None:
    """Write every piece at ``offset`` onwards, retrying partial writes."""
    views = [memoryview(p) for p in pieces if p]
    while views:
        written = os.pwritev(fd, views[:_IOV_MAX], offset)
        offset += written
        drop_written(views, written)


def _write_back(fd: int, pieces: Sequence[Piece], offset: int) -> None:
    """``_pwritev_all``, then ask the kernel to start writing those pages to the device
    (``sync_file_range``, no durability promise): the final fdatasync then waits for the
    last blocks only, not for the whole file's writeback."""
    _pwritev_all(fd, pieces, offset)
    start_writeback_range(fd, offset, sum(len(p) for p in pieces))


def _write(fd: int, direct: DirectWriter, pieces: Sequence[Piece], offset: int) -> None:
    """The whole pages of a write go around the cache (``direct_io``), its unaligned
    head and tail (or all of it, where direct writes are off) through it."""
    views = [memoryview(p) for p in pieces if p]
    total = sum(len(v) for v in views)
    start, end = direct.write(views, offset, total)  # start == end == offset: none
    if start > offset:
        _write_back(fd, slice_views(views, 0, start - offset), offset)
    if end < offset + total:
        _write_back(fd, slice_views(views, end - offset, offset + total - end), end)


class DiskSink:
    """Writes a claimed ``NAME.part`` (``engine/io/partfile.py``) at offsets from the file's
    own writer thread (started on the first ``write``; ``write_now`` writes inline)."""

    keeps_pieces = False

    def __init__(self, file: PartFile, executor: Executor) -> None:
        self.file = file
        self.path = file.path
        self.fd = file.fd
        self._executor = executor
        self._writer: ThreadPoolExecutor | None = None
        self._direct = DirectWriter(self.fd)
        #: reads the file back as it was written (around the cache where writes were)
        self.reader = DirectReader(self.fd)
        self.closed = False

    async def write(self, offset: int, pieces: Sequence[Piece]) -> None:
        loop = asyncio.get_running_loop()
        writer = self._writer
        if writer is None:
            if self.closed:
                raise LocalIOError(f"{self.path}: written after it was closed")
            writer = self._writer = ThreadPoolExecutor(1, thread_name_prefix="hydra-write")
        try:
            await loop.run_in_executor(writer, _write, self.fd, self._direct, pieces, offset)
        except OSError as exc:
            raise local_error(exc, self.path) from exc

    @property
    def direct_bytes(self) -> int:
        """Bytes this sink wrote around the page cache (``direct_io``)."""
        return self._direct.written

    def write_now(self, offset: int, pieces: Sequence[Piece]) -> None:
        try:
            _pwritev_all(self.fd, pieces, offset)
        except OSError as exc:
            raise local_error(exc, self.path) from exc

    def sync(self) -> None:
        """Make written bytes durable before the resume store claims them."""
        try:
            os.fdatasync(self.fd)
        except OSError as exc:
            raise local_error(exc, self.path) from exc

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            writer, self._writer = self._writer, None
            if writer is not None:
                # a write of a cancelled worker may still run: the descriptor must not
                # close (and its number be reused by another file) under it
                writer.shutdown(wait=True)
            direct = self._direct
            direct.close()
            self.reader.close()
            if direct.offered:
                then = f"; then through it: {direct.why}" if direct.why else ""
                log.info(
                    "%s: %s of %s written around the page cache%s",
                    self.path.name, format_size(direct.written), format_size(direct.offered), then,
                )  # fmt: skip
            self.file.close()  # also drops the flock


class StreamSink:
    """Pushes pieces onto the reorderer and wakes the consumer."""

    keeps_pieces = True

    def __init__(self, reorderer: Reorderer) -> None:
        self.reorderer = reorderer
        self.ready = asyncio.Event()

    async def write(self, offset: int, pieces: Sequence[Piece]) -> None:
        self.reorderer.push(offset, pieces)
        if self.reorderer.ready():
            self.ready.set()


def hash_file(path: Path, algorithm: str) -> str:
    """Hex digest of a file, read in 4 MiB blocks (call from a thread)."""
    h = hashlib.new(algorithm)
    with path.open("rb") as f:
        while block := f.read(4 * 1024 * 1024):
            h.update(block)
    return h.hexdigest()
