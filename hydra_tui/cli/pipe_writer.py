"""Writing the stream to stdout from a dedicated thread, a few blocks ahead of the loop.

A blocking ``write`` to a pipe waits for the reader; doing it on its own thread keeps the
event loop downloading, and queueing a few blocks (instead of one executor round trip
per block) keeps the reader fed while the loop is busy. At most ``depth`` blocks wait
in the queue: a fixed overhead on top of ``--buffer``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import queue
import stat
import threading
from collections.abc import Sequence
from typing import Any

from hydra_tui.engine.io.reorder import Piece
from hydra_tui.engine.io.sinks import drop_written

__all__ = ["PipeWriter", "write_all"]

_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def write_all(fd: int, pieces: Sequence[Piece], hashers: list[Any]) -> None:
    """Write a block to ``fd`` (blocking) and feed it to the hashers."""
    for h in hashers:
        for p in pieces:
            h.update(p)
    views = [memoryview(p) for p in pieces if p]
    while views:
        drop_written(views, os.writev(fd, views[:512]))


def _widen_pipe(fd: int) -> None:
    """A 1 MiB pipe buffer (Linux) means fewer wake-ups for both ends."""
    with contextlib.suppress(OSError, ValueError):
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)


class PipeWriter:
    """``await write(pieces, hashers)`` queues; ``await flush()`` waits for the disk/pipe."""

    def __init__(self, fd: int, *, depth: int = 4) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._space = asyncio.Semaphore(depth)
        self._error: BaseException | None = None
        _widen_pipe(fd)
        self._thread = threading.Thread(target=self._run, name="hydra-stdout", daemon=True)
        self._thread.start()

    async def write(self, pieces: Sequence[Piece], hashers: list[Any]) -> None:
        self._check()
        await self._space.acquire()
        self._queue.put((pieces, hashers))

    async def flush(self) -> None:
        done: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(done)
        await done
        self._check()

    def close(self) -> None:
        self._queue.put(None)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, asyncio.Future):
                self._loop.call_soon_threadsafe(_resolve, item)
                continue
            pieces, hashers = item
            try:
                if self._error is None:
                    write_all(self._fd, pieces, hashers)
            except BaseException as exc:  # handed to the loop side by _check()
                self._error = exc
            finally:
                with contextlib.suppress(RuntimeError):  # the loop may be gone at exit
                    self._loop.call_soon_threadsafe(self._space.release)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
