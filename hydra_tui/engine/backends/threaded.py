"""``ThreadedBackend``: the download manager on an event loop of its own, in its own thread.

The in-process backend (tests run every backend test on it and on ``ProcessBackend``).
The TUI used it until the engine moved to a process of its own (``engine/backends/process.py``):
on a thread, the engine shares the GIL with the UI, and any Python the UI runs holds the
range workers up for as long.

Nothing crosses the threads but plain data: control calls are posted to the engine's loop
(``call_soon_threadsafe``), and the engine publishes immutable snapshots of the whole queue
about ten times a second (and right after every control call), which the UI reads by
swapping one reference. It implements ``DownloadBackend``, so a UI over it does not know.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from hydra_tui.engine.backends.manager import DownloadManager
from hydra_tui.engine.backends.proxy import (
    PUBLISH_INTERVAL,
    ProxyControl,
    ProxyQueue,
    apply_call,
)
from hydra_tui.engine.event_loop import new_loop
from hydra_tui.engine.options import DownloadOptions

__all__ = ["ThreadedBackend"]

log = logging.getLogger(__name__)


class ThreadedBackend(ProxyQueue):
    """A ``DownloadManager`` running on a private event loop thread."""

    prefix = "t"

    def __init__(
        self,
        options: DownloadOptions | None = None,
        *,
        max_active: int = 3,
        state_dir: Path | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        super().__init__()
        self.manager = DownloadManager(options, max_active=max_active, state_dir=state_dir)
        self._loop_factory = loop_factory or new_loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stopped = threading.Event()

    @property
    def max_active(self) -> int:
        return self.manager.max_active

    @max_active.setter
    def max_active(self, value: int) -> None:
        def apply() -> None:
            self.manager.max_active = value
            self.manager.kick()

        self.post(apply)

    # -- DownloadBackend -------------------------------------------------------------------
    def add(
        self, url: str, options: DownloadOptions, *, id: str | None = None, paused: bool = False
    ) -> ProxyControl:
        control = self._new_control(url, options, id)
        self.post(lambda: self.manager.add(url, options, id=control.id, paused=paused))
        return control

    def remove(self, id: str, *, delete_files: bool = False) -> None:
        del self._controls[id]
        self.post(lambda: self.manager.remove(id, delete_files=delete_files))

    def move(self, id: str, index: int) -> None:
        self._move_control(id, index)
        self.post(lambda: self.manager.move(id, index))

    async def run(self) -> None:
        """Run the engine thread until cancelled; on cancel, wait for it to wind down
        (tasks cancelled, ``.part`` files and the resume store closed)."""
        loop = self._start()
        ui = asyncio.get_running_loop()
        finished: asyncio.Future[None] = ui.create_future()
        tasks: list[asyncio.Task[None]] = []
        self._stopped.clear()

        def on_done(task: asyncio.Task[None]) -> None:
            self._stopped.set()  # a done callback runs even if cancelled before starting
            exc = None if task.cancelled() else task.exception()
            with contextlib.suppress(RuntimeError):  # the UI loop is gone
                ui.call_soon_threadsafe(_settle, finished, exc)

        def start() -> None:
            task = loop.create_task(self._engine(), name="hydra engine")
            task.add_done_callback(on_done)
            tasks.append(task)

        loop.call_soon_threadsafe(start)
        try:
            await finished
        finally:
            if not self._stopped.is_set():

                def cancel() -> None:  # queued after ``start``, so the task exists
                    tasks[0].cancel()

                loop.call_soon_threadsafe(cancel)
                await asyncio.to_thread(self._stopped.wait)
            self._shutdown()

    def call(self, id: str, method: str, *args: object) -> None:
        self.post(lambda: apply_call(self.manager, id, method, args))

    # -- the engine thread --------------------------------------------------------------------
    def post(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` on the engine's loop, then publish (so the UI sees the effect)."""
        loop = self._start()

        def call() -> None:
            try:
                fn()
            except Exception:  # a bad call must not kill the engine loop
                log.exception("engine call failed")
            self._publish()

        loop.call_soon_threadsafe(call)

    def _start(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = self._loop_factory()
            self._thread = threading.Thread(
                target=self._serve, args=(self._loop,), name="hydra-engine", daemon=True
            )
            self._thread.start()
            self._started.wait()
        return self._loop

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(self._started.set)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _engine(self) -> None:
        publisher = asyncio.create_task(self._publish_forever())
        try:
            await self.manager.run()
        finally:
            publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publisher
            self._publish()

    async def _publish_forever(self) -> None:
        while True:
            self._publish()
            await asyncio.sleep(PUBLISH_INTERVAL)

    def _publish(self) -> None:
        self.published = {s.id: s for s in self.manager.snapshots()}

    def _shutdown(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        self._started.clear()
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
