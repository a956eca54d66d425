"""The engine's half of ``ProcessBackend``: the child process's main and its answers.

The UI's half (``engine/backends/process.py``) starts this module's ``serve`` with
``spawn`` and talks to it over one pipe. Here the manager runs on its own event loop; the
child answers every batch of control messages it read with one message (the snapshots
of the whole queue as differences, the log records since, its CPU time), and winds down
on ``stop``, on SIGTERM/SIGHUP or when the pipe closes: downloads cancelled, ``.part``
files and the resume store closed, and a last answer that says why it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import os
import queue
import signal
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra_tui.engine.backends.channel import Channel
from hydra_tui.engine.backends.proxy import apply_call
from hydra_tui.engine.backends.snapshot_wire import SnapshotEncoder
from hydra_tui.engine.event_loop import new_loop
from hydra_tui.engine.options import DownloadOptions

if TYPE_CHECKING:
    from hydra_tui.engine.backends.manager import DownloadManager

__all__ = ["ENGINE_LOGGER", "STOP_TIMEOUT", "serve"]

log = logging.getLogger(__name__)
#: how long the UI waits for the engine to wind down before it kills the process
STOP_TIMEOUT = 15.0
#: the logger whose records the child sends to the UI
ENGINE_LOGGER = "hydra_tui"


def serve(
    pipe: Connection,
    *,
    options: DownloadOptions | None,
    max_active: int,
    state_dir: Path | None,
    stderr_path: Path | None,
    level: int,
) -> None:
    """The child's main: run the manager on uvloop until told to stop or orphaned."""
    # imported here, not at the top: the UI's process needs none of the engine proper,
    # and importing it would delay the app's start (bench/PROFILE.md, "Matched starts,
    # an earlier TUI start, and a lost wake-up")
    from hydra_tui.engine.backends.manager import DownloadManager

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's ^C is the UI's to handle
    _quiet_stdio(stderr_path)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    handler = logging.handlers.QueueHandler(records)
    logger = logging.getLogger(ENGINE_LOGGER)
    logger.setLevel(level)
    logger.addHandler(handler)
    logger.propagate = False
    logging.captureWarnings(True)
    manager = DownloadManager(options, max_active=max_active, state_dir=state_dir)
    loop = new_loop()
    conn = Channel(pipe)
    try:
        loop.run_until_complete(_Engine(conn, manager, records).serve())
    finally:
        conn.close()
        loop.close()


def _quiet_stdio(stderr_path: Path | None) -> None:
    """Point fds 0–2 away from the terminal the UI draws on (C code writes there too)."""
    null = os.open(os.devnull, os.O_RDWR)
    err = null
    if stderr_path is not None:
        with contextlib.suppress(OSError):
            err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(err, 2)
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - lives as long as the process


class _Engine:
    """Answers the UI's messages on the engine's loop."""

    def __init__(
        self,
        conn: Channel,
        manager: DownloadManager,
        records: queue.SimpleQueue[logging.LogRecord],
    ) -> None:
        self._conn = conn
        self._manager = manager
        self._records = records
        self._encoder = SnapshotEncoder()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._error = ""

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self._conn.fileno(), self._readable)
        # multiprocessing terminates a daemon child at the UI's exit, and a closed terminal
        # hangs up on both: wind down as on "stop" (files closed, resume store saved)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._signalled, sig)
        await self._stop.wait()
        loop.remove_reader(self._conn.fileno())
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._answer(0, stopped=self._error)
        # the last answer may not fit the socket at once: the UI waits for it
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._conn.drain(), STOP_TIMEOUT / 2)

    def _signalled(self, sig: signal.Signals) -> None:
        self._error = f"it received {sig.name}"
        self._stop.set()

    def _readable(self) -> None:
        read = 0
        try:
            for message in self._conn.read():
                if message[0] == "stop":
                    self._stop.set()
                    break
                self._handle(message)
                read += 1
        except (EOFError, OSError):  # the UI is gone: stop, and answer no one
            self._stop.set()
            return
        if read:  # one answer for all (restoring a queue of 1,000 is one answer, not 1,000)
            self._answer(read)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind, *args = message
        try:
            if kind == "add":
                url, options, id, paused = args
                self._manager.add(url, options, id=id, paused=paused)
            elif kind == "remove":
                with contextlib.suppress(KeyError):
                    self._manager.remove(args[0], delete_files=args[1])
            elif kind == "move":
                with contextlib.suppress(KeyError):
                    self._manager.move(*args)
            elif kind == "call":
                apply_call(self._manager, *args)
            elif kind == "max_active":
                self._manager.max_active = args[0]
                self._manager.kick()
            elif kind == "run" and self._task is None:
                self._task = asyncio.create_task(self._manager.run(), name="hydra engine")
                self._task.add_done_callback(self._ended)
        except Exception:  # a bad call must not kill the engine
            log.exception("engine call %r failed", kind)

    def _ended(self, task: asyncio.Task[None]) -> None:
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            log.error("the download engine stopped: %s", exc)
            self._error = str(exc) or type(exc).__name__
            self._stop.set()

    def _answer(self, answered: int, *, stopped: str | None = None) -> None:
        packed = self._encoder.encode(self._manager.snapshots())
        records = []
        with contextlib.suppress(queue.Empty):
            while True:
                records.append(self._records.get_nowait().__dict__)
        with contextlib.suppress(OSError):  # the UI is gone
            self._conn.send((answered, packed, records, stopped, time.process_time()))
