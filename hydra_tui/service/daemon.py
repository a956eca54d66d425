"""``hydra-tui daemon``: the download engine as a per-user service.

One per user: it holds an ``flock`` on ``service.lock`` in the 0700 runtime folder for
its whole life (a second one refuses with one line), then listens on ``service.sock``
(0600) there, and only answers peers with its own uid. It restores the saved queue,
runs the ``DownloadManager``, and rewrites the queue file atomically whenever it
changed (checked after every client message and twice a second). SIGTERM/SIGINT or a
``stop`` message: the queue is saved first (so running downloads are still running in
it), then downloads are cancelled with their ``.part`` files and resume store closed.
After a ``kill -9`` the next start resumes every unfinished download from the same files.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import socket
import struct
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO

from hydra_tui.engine.backends.manager import DownloadManager
from hydra_tui.engine.io.queue_file import QueueStore, SavedEntry
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import AlreadyRunningError
from hydra_tui.service import paths
from hydra_tui.service.session import Session

__all__ = ["SAVE_INTERVAL", "Service"]

log = logging.getLogger(__name__)
#: how often the queue file is compared with the queue (and rewritten if it changed)
SAVE_INTERVAL = 0.5

#: an extra server to run beside the socket (the aria2 RPC): given the manager, returns
#: a coroutine that serves until cancelled
Extra = Callable[[DownloadManager], Coroutine[None, None, None]]


class Service:
    def __init__(
        self,
        options: DownloadOptions | None = None,
        *,
        max_active: int = 3,
        state_dir: Path | None = None,
        extra: Extra | None = None,
    ) -> None:
        self.manager = DownloadManager(options, max_active=max_active, state_dir=state_dir)
        self._saved = QueueStore(paths.queue_file())
        self._extra = extra
        self._stop = asyncio.Event()
        self._stopping = False

    def stop(self) -> None:
        self._stop.set()

    async def serve(self) -> None:
        """Run until stopped; raise ``AlreadyRunningError`` if a service already runs."""
        paths.secure_runtime_dir()
        lock = _take_lock(paths.lock_file())
        try:
            await self._serve_locked()
        finally:
            lock.close()

    async def _serve_locked(self) -> None:
        sock_path = paths.socket_file()
        listener = _listen(sock_path)
        self.restore()
        if self.manager.controls():
            log.info("service: restored %d downloads", len(self.manager.controls()))
        server = await asyncio.start_unix_server(self._client, sock=listener)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stop)
        tasks = [
            asyncio.create_task(self.manager.run(), name="hydra engine"),
            asyncio.create_task(self._save_forever(), name="queue saver"),
        ]
        if self._extra is not None:
            tasks.append(asyncio.create_task(self._extra(self.manager), name="service extra"))
        waiter = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:  # an extra server that failed to start ends the service
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            self.save()  # before cancelling: running downloads stay queued in the file
            self._stopping = True
            waiter.cancel()
            server.close()
            with contextlib.suppress(FileNotFoundError):
                sock_path.unlink()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            log.info("service: stopped")

    def restore(self) -> None:
        """Add the saved queue's downloads to the manager (same ids, paused stays paused)."""
        for entry in self._saved.load():
            if not entry.finished:
                paused = entry.state == "paused"
                self.manager.add(entry.url, entry.options, id=entry.id, paused=paused)

    def save(self) -> None:
        """Write the unfinished downloads to the queue file if they changed."""
        if self._stopping:
            return
        entries = [
            SavedEntry.from_snapshot(c.url, c.options, snap)
            for c in self.manager.controls()
            if not (snap := c.snapshot()).state.finished
        ]
        try:
            self._saved.save(entries)
        except OSError as exc:
            log.error("could not save the service queue: %s", exc)  # noqa: TRY400 - one line

    async def _save_forever(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL)
            self.save()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is None or not _same_user(sock):
            log.warning("service: refused a client of another user")
            writer.close()
            return
        # a client that stops reading stalls only its own session (asyncio buffers)
        await Session(self.manager, changed=self.save, stop=self.stop).serve(reader, writer)


def _take_lock(path: Path) -> IO[str]:
    """Lock ``path`` for this process's life and write our pid in it."""
    f = path.open("a+", encoding="ascii")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        pid = f.read().strip() or "?"
        f.close()
        raise AlreadyRunningError(f"a hydra-tui service is already running (pid {pid})") from None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def _listen(path: Path) -> socket.socket:
    """A listening Unix socket at ``path``, 0600 from the start (the lock is ours, so a
    file already there is a dead service's)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    path.chmod(0o600)
    sock.listen(64)
    sock.setblocking(False)
    return sock


def _same_user(sock: socket.socket) -> bool:
    """Is the peer our own user? (Linux's SO_PEERCRED; elsewhere the 0700 folder decides.)"""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None:  # pragma: no cover - not Linux
        return True
    creds = sock.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.getuid())
