"""``ThreadedBackend``: the download manager on an event loop of its own, in its own thread.

The TUI and the engine used to share one event loop, so every layout and paint of the
screen delayed the range workers (an unthrottled download ran at ~0.8 of ``--no-ui``).
The engine's heavy work happens with the GIL released — socket reads inside uvloop's
``uv_run``, ``pwritev`` on I/O threads — so a second thread lets the two use both cores.

Nothing crosses the threads but plain data: control calls are posted to the engine's loop
(``call_soon_threadsafe``), and the engine publishes immutable snapshots of the whole queue
about ten times a second (and right after every control call), which the UI reads by
swapping one reference. It implements ``DownloadBackend``, so the TUI does not know.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from hydra_tui.engine.backend import DownloadControl, QueueEntry
from hydra_tui.engine.manager import DownloadManager
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState

__all__ = [
    "PUBLISH_INTERVAL",
    "ProxyControl",
    "Remote",
    "ThreadedBackend",
    "apply_call",
    "new_loop",
]

log = logging.getLogger(__name__)
PUBLISH_INTERVAL = 0.1
_ids = itertools.count(1)


class Remote(Protocol):
    """What a ``ProxyControl`` needs of its backend."""

    published: dict[str, DownloadSnapshot]

    def call(self, id: str, method: str, *args: object) -> None: ...


class ProxyControl(QueueEntry):
    """One queue entry seen from the UI; implements ``DownloadControl`` by sending each
    call to the engine (another thread or another process) and reading the snapshots
    the engine published."""

    def __init__(self, backend: Remote, id: str, url: str, options: DownloadOptions):
        super().__init__(id, url, options)
        self._backend = backend

    def snapshot(self) -> DownloadSnapshot:
        snap = self._backend.published.get(self._id)
        if snap is None:  # added a moment ago: the engine has not published it yet
            return DownloadSnapshot(
                id=self._id,
                url=self._url,
                state=DownloadState.QUEUED,
                max_window=self._options.threads,
                rate_limit=self._options.limit_rate,
            )
        return snap

    def pause(self) -> None:
        self._backend.call(self._id, "pause")

    def resume(self) -> None:
        self._backend.call(self._id, "resume")

    def cancel(self) -> None:
        self._backend.call(self._id, "cancel")

    def retry(self) -> None:
        self._backend.call(self._id, "retry")

    def set_threads(self, threads: int) -> None:
        self._backend.call(self._id, "set_threads", self._new_threads(threads))

    def set_rate_limit(self, bytes_per_s: int | None) -> None:
        self._backend.call(self._id, "set_rate_limit", self._new_rate_limit(bytes_per_s))


def apply_call(manager: DownloadManager, id: str, method: str, args: tuple[object, ...]) -> None:
    """Run a ``ProxyControl`` call on the engine's side (a removed entry is not an error)."""
    if method not in _CONTROL_METHODS:
        raise ValueError(f"not a control method: {method!r}")
    with contextlib.suppress(KeyError):
        getattr(manager.get(id), method)(*args)


_CONTROL_METHODS = frozenset(
    ("pause", "resume", "cancel", "retry", "set_threads", "set_rate_limit")
)


class ThreadedBackend:
    """A ``DownloadManager`` running on a private event loop thread."""

    def __init__(
        self,
        options: DownloadOptions | None = None,
        *,
        max_active: int = 3,
        state_dir: Path | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self.manager = DownloadManager(options, max_active=max_active, state_dir=state_dir)
        self._loop_factory = loop_factory or new_loop
        self._controls: dict[str, ProxyControl] = {}
        #: the latest snapshots by id, replaced (never mutated) by the engine thread
        self.published: dict[str, DownloadSnapshot] = {}
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
        entry_id = id or f"t{next(_ids)}"
        while entry_id in self._controls:
            entry_id = f"t{next(_ids)}"
        control = ProxyControl(self, entry_id, url, options)
        self._controls[entry_id] = control
        self.post(lambda: self.manager.add(url, options, id=entry_id, paused=paused))
        return control

    def remove(self, id: str) -> None:
        del self._controls[id]
        self.post(lambda: self.manager.remove(id))

    def get(self, id: str) -> ProxyControl:
        return self._controls[id]

    def controls(self) -> list[DownloadControl]:
        return [*self._controls.values()]

    def snapshots(self) -> list[DownloadSnapshot]:
        return [c.snapshot() for c in self._controls.values()]

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


def new_loop() -> asyncio.AbstractEventLoop:
    """A uvloop event loop (stdlib asyncio where uvloop is missing)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
