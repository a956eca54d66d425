"""What the UI holds of an engine that runs elsewhere (a thread of its own, or a process).

A ``ProxyQueue`` keeps the controls it handed out and the snapshots the engine last
published; each ``ProxyControl`` sends its calls on through ``call``. The queue's
changes and those calls become control messages, which each backend sends its own way
(``_send``: ``engine/backends/process.py``, ``service/attach.py``); the threaded backend
posts them to its loop instead (``engine/backends/threaded.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from typing import TYPE_CHECKING, Any, Protocol

from hydra_tui.engine.backends.protocol import DownloadControl, QueueEntry
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState

if TYPE_CHECKING:  # the UI's process of a ProcessBackend never loads the engine proper
    from hydra_tui.engine.backends.manager import DownloadManager

__all__ = [
    "PUBLISH_INTERVAL",
    "ProxiedBackend",
    "ProxyControl",
    "ProxyQueue",
    "apply_call",
]

#: how often the engine publishes (or is asked for) snapshots of the queue
PUBLISH_INTERVAL = 0.1


class ProxiedBackend(Protocol):
    """What a ``ProxyControl`` needs of its backend."""

    published: dict[str, DownloadSnapshot]

    def call(self, id: str, method: str, *args: object) -> None: ...


class ProxyControl(QueueEntry):
    """One queue entry seen from the UI; implements ``DownloadControl`` by sending each
    call to the engine (another thread or another process) and reading the snapshots
    the engine published."""

    def __init__(self, backend: ProxiedBackend, id: str, url: str, options: DownloadOptions):
        super().__init__(id, url, options)
        self._backend = backend
        #: a ceiling sent to the engine and not yet in its snapshots
        self._asked_threads: int | None = None

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
        asked = self._asked_threads
        if asked is not None:
            if snap.max_window == asked or snap.state.finished:
                self._asked_threads = None
            else:  # a ceiling just changed: show it now (``10→7``), not at the engine's answer
                return dataclasses.replace(snap, max_window=asked, window=min(snap.window, asked))
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
        self._asked_threads = self._new_threads(threads)
        self._backend.call(self._id, "set_threads", self._asked_threads)

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


class ProxyQueue:
    """The UI's side of a queue: controls by id, and the engine's latest snapshots."""

    #: first letter of the ids this queue makes up
    prefix = "q"

    def __init__(self, *, max_active: int = 3) -> None:
        self._max_active = max_active
        self._controls: dict[str, ProxyControl] = {}
        #: the latest snapshots by id, replaced (never mutated) when the engine publishes
        self.published: dict[str, DownloadSnapshot] = {}
        self._ids = itertools.count(1)

    # -- DownloadBackend, as control messages to the engine -----------------------------------
    def add(
        self, url: str, options: DownloadOptions, *, id: str | None = None, paused: bool = False
    ) -> ProxyControl:
        control = self._new_control(url, options, id)
        self._send(("add", url, options, control.id, paused))
        return control

    def remove(self, id: str, *, delete_files: bool = False) -> None:
        del self._controls[id]
        self._send(("remove", id, delete_files))

    def move(self, id: str, index: int) -> None:
        self._move_control(id, index)
        self._send(("move", id, index))

    def call(self, id: str, method: str, *args: object) -> None:
        self._send(("call", id, method, args))

    @property
    def max_active(self) -> int:
        """How many downloads the engine runs at once; set here, told to the engine."""
        return self._max_active

    @max_active.setter
    def max_active(self, value: int) -> None:
        self._max_active = value
        self._send(("max_active", value))

    def _send(self, message: tuple[Any, ...]) -> None:
        """Send one control message to the engine (a pipe, a socket): each backend's own."""
        raise NotImplementedError

    def _new_id(self) -> str:
        """An id for an entry added without one (the service's backend makes random ones)."""
        return f"{self.prefix}{next(self._ids)}"

    def _new_control(self, url: str, options: DownloadOptions, id: str | None) -> ProxyControl:
        """A control for a new entry: ``id`` if given and free, else a fresh one."""
        entry_id = id or self._new_id()
        while entry_id in self._controls:
            entry_id = f"{self.prefix}{next(self._ids)}"
        control = ProxyControl(self, entry_id, url, options)
        self._controls[entry_id] = control
        return control

    def _move_control(self, id: str, index: int) -> None:
        """Reorder the UI's side as the engine will (``DownloadManager.move``)."""
        control = self._controls[id]
        order = [c for c in self._controls.values() if c is not control]
        order.insert(max(0, min(len(order), index)), control)
        self._controls = {c.id: c for c in order}

    def get(self, id: str) -> ProxyControl:
        return self._controls[id]

    def controls(self) -> list[DownloadControl]:
        return [*self._controls.values()]

    def snapshots(self) -> list[DownloadSnapshot]:
        return [c.snapshot() for c in self._controls.values()]
