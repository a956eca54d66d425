"""``ProcessBackend``: the download manager in a child process of its own.

Python lets one thread at a time run Python code (the GIL), and the engine needs it for
every socket read. With the engine on a thread beside the UI, each frame the UI drew held
the engine up for as long as the frame took, while the same load in another process
costs the download nothing measurable (``bench/PROFILE.md``, "The engine in a process of
its own", has the figures). So the TUI runs the engine here, in a process started with
``spawn`` (no fork of a threaded parent; the child's side is ``process_child``), and the
two share nothing but a pipe:

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
import multiprocessing
import pickle
import sys
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from hydra_tui.engine.backends.channel import Channel
from hydra_tui.engine.backends.process_child import ENGINE_LOGGER, STOP_TIMEOUT, serve
from hydra_tui.engine.backends.proxy import PUBLISH_INTERVAL, ProxyQueue
from hydra_tui.engine.backends.snapshot_wire import SnapshotDecoder
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import HydraError

__all__ = ["ProcessBackend"]

log = logging.getLogger(__name__)


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
        super().__init__(max_active=max_active)
        #: what the child's ``serve`` is called with (besides the pipe and the log level)
        self._serve_kwargs: dict[str, object] = {
            "options": options,
            "max_active": max_active,
            "state_dir": state_dir,
            "stderr_path": stderr_path,
        }
        self._decoder = SnapshotDecoder()
        self._conn: Channel | None = None
        self._process: BaseProcess | None = None
        self._waiting = 0  # messages sent whose answer has not arrived
        #: CPU seconds the engine's process had used at its last answer
        self.engine_cpu = 0.0
        self._ran = False

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
            level = logging.getLogger(ENGINE_LOGGER).getEffectiveLevel()
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
