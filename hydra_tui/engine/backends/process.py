"""``ProcessBackend``: the download manager in a child process of its own.

Python lets one thread at a time run Python code (the GIL), and the engine needs it for
every socket read. With the engine on a thread beside the UI, each frame the UI drew held
the engine up for as long as the frame took, while the same load in another process
costs the download nothing measurable (``bench/PROFILE.md``, "The engine in a process of
its own", has the figures). So the TUI runs the engine here, in a process started with
``spawn`` (no fork of a threaded parent), and the two share nothing but a pipe:

- the UI sends control messages (``add``, ``call``, …) and, ten times a second, ``poll``;
- the engine answers the messages it has read, in one go, with the snapshots of its
  whole queue, encoded as differences from the last answer (``snapshot_wire``), the log
  records since, and its CPU time (the UI draws less while the machine is busy);
- it stops on ``stop`` or when the pipe closes (the UI died): downloads are cancelled,
  ``.part`` files and the resume store closed, exactly as in ``ThreadedBackend``.

A poll is sent only when every message has been answered, so a busy UI never makes the
engine wait on a full pipe for its answers. It implements ``DownloadBackend``, so the TUI
does not know.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra_tui.engine.backends.channel import Channel
from hydra_tui.engine.backends.proxy import PUBLISH_INTERVAL, ProxyQueue, apply_call
from hydra_tui.engine.backends.snapshot_wire import SnapshotDecoder, SnapshotEncoder
from hydra_tui.engine.event_loop import new_loop
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import HydraError

if TYPE_CHECKING:
    from hydra_tui.engine.backends.manager import DownloadManager

__all__ = ["ProcessBackend"]

log = logging.getLogger(__name__)
#: how long ``run`` waits for the engine to wind down before it kills the process
STOP_TIMEOUT = 15.0
_LOGGER = "hydra_tui"


class ProcessBackend(ProxyQueue):
    """A ``DownloadManager`` in a child process, steered over a pipe; one ``run`` per
    instance (the queue lives in the child)."""

    prefix = "p"

    def __init__(
        self,
        options: DownloadOptions | None = None,
        *,
        max_active: int = 3,
        state_dir: Path | None = None,
        stderr_path: Path | None = None,
    ) -> None:
        """``stderr_path``: where the child's own stderr goes (a crash's traceback), else
        nowhere: it must never write over the UI's screen."""
        super().__init__()
        #: what the child's ``serve`` is called with (besides the pipe and the log level)
        self._serve_kwargs: dict[str, object] = {
            "options": options,
            "max_active": max_active,
            "state_dir": state_dir,
            "stderr_path": stderr_path,
        }
        self._max_active = max_active
        self._decoder = SnapshotDecoder()
        self._conn: Channel | None = None
        self._process: BaseProcess | None = None
        self._waiting = 0  # messages sent whose answer has not arrived
        #: CPU seconds the engine's process had used at its last answer
        self.engine_cpu = 0.0
        self._ran = False

    @property
    def max_active(self) -> int:
        return self._max_active

    @max_active.setter
    def max_active(self, value: int) -> None:
        self._max_active = value
        self._send(("max_active", value))

    @property
    def process(self) -> BaseProcess | None:
        """The engine's process, once started (tests check it is gone after ``run``)."""
        return self._process

    async def run(self) -> None:
        """Start the engine; read its answers until cancelled, then stop it and wait for
        it to wind down. If the engine process dies, raise ``HydraError``."""
        if self._ran:
            raise RuntimeError("a ProcessBackend runs once")
        self._ran = True
        conn = self._start()
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            try:
                for message in conn.read():
                    stopped = self._receive(message)
                    if stopped is not None and not ended.done():
                        if stopped:
                            ended.set_exception(HydraError(f"the engine stopped: {stopped}"))
                        else:
                            ended.set_result(None)
            except (EOFError, OSError, pickle.UnpicklingError):
                loop.remove_reader(conn.fileno())
                if not ended.done():
                    ended.set_exception(self._died())

        loop.add_reader(conn.fileno(), readable)
        poller = asyncio.create_task(self._poll_forever())
        self._send(("run",))
        try:
            await asyncio.shield(ended)
        finally:
            poller.cancel()
            if not ended.done():  # cancelled: ask the engine to stop, wait for its answer
                with contextlib.suppress(OSError):
                    conn.send(("stop",))
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(ended), STOP_TIMEOUT)
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(conn.fileno())
            conn.close()  # here, on the loop that watches it
            await asyncio.to_thread(self._reap)

    # -- the UI's side of the pipe -----------------------------------------------------------
    def start(self) -> None:
        """Start the engine's process now (it boots while the UI does); else the first
        message starts it."""
        self._start()

    def _start(self) -> Channel:
        if self._conn is None:
            context = multiprocessing.get_context("spawn")
            mine, theirs = context.Pipe()
            level = logging.getLogger(_LOGGER).getEffectiveLevel()
            process = context.Process(
                target=serve,
                args=(theirs,),
                kwargs={**self._serve_kwargs, "level": level},
                name="hydra-engine",
                daemon=True,
            )
            # multiprocessing hands the child sys.stderr's fd; under Textual that is a
            # capture object without one ("bad value(s) in fds_to_keep")
            streams = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            try:
                process.start()
            finally:
                sys.stdout, sys.stderr = streams
            theirs.close()
            self._conn, self._process = Channel(mine), process
        return self._conn

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self._start().send(message)
        except OSError as exc:  # the engine is gone: run() reports why
            log.debug("engine pipe closed: %s", exc)
            return
        self._waiting += 1

    async def _poll_forever(self) -> None:
        while True:
            if not self._waiting:
                self._send(("poll",))
            await asyncio.sleep(PUBLISH_INTERVAL)

    def _receive(self, message: tuple[Any, ...]) -> str | None:
        """Take one answer; once the engine has stopped, why (``""``: it was asked to)."""
        stopped: str | None
        answered, packed, records, stopped, self.engine_cpu = message
        self._waiting = max(0, self._waiting - answered)
        self.published = {s.id: s for s in self._decoder.decode(packed)}
        for fields in records:
            record = logging.makeLogRecord(fields)
            logging.getLogger(record.name).handle(record)
        return stopped

    def _died(self) -> HydraError:
        process = self._process
        if process is not None:
            process.join(timeout=1)  # the pipe closed: it has exited or is about to
        code = None if process is None else process.exitcode
        return HydraError(f"the engine process ended unexpectedly (exit code {code})")

    def _reap(self) -> None:
        process = self._process
        if process is not None:
            process.join(timeout=STOP_TIMEOUT)
            if process.is_alive():
                log.warning("the engine process did not stop in time; killing it")
                process.kill()
                process.join()


# -- the engine's side, in the child process -------------------------------------------------
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
    logger = logging.getLogger(_LOGGER)
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
