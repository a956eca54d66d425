"""Helpers for tests that steer a backend from another loop, as the TUI does."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from hydra_tui.engine.backends.process import ProcessBackend
from hydra_tui.engine.backends.threaded import ThreadedBackend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot

MiB = 1024 * 1024
Backend = ThreadedBackend | ProcessBackend


async def until(
    backend: Backend, id: str, cond: Callable[[DownloadSnapshot], bool], timeout: float
) -> DownloadSnapshot:
    """Wait for the published snapshot of ``id`` to satisfy ``cond`` (woken by the
    engine's publications, not by a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        snap = backend.get(id).snapshot()
        if cond(snap):
            return snap
        assert loop.time() < deadline, f"timed out; last snapshot: {snap}"
        await asyncio.sleep(0.02)  # the engine publishes every 0.1 s


def flock_is_free(path: Path) -> bool:
    """Whether no one holds the lock the engine takes on a ``.part`` it writes."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def options(out: Path, **kw: object) -> DownloadOptions:
    return DownloadOptions(output_dir=out, threads=4, chunk_size=MiB, **kw)  # type: ignore[arg-type]
