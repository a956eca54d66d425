"""One client of the service: the engine pipe's messages, answered over the socket.

The messages are those ``engine/backends/process_child.py`` reads from the TUI's pipe
(``add``, ``call``, ``remove``, ``move``, ``max_active``, ``poll``, ``stop``, and
``entries``: id, URL and options of every download, for an attached TUI), and the answer
is the pipe's answer
(messages answered, the queue's snapshots as ``snapshot_wire`` differences, log records,
why the engine stopped, its CPU time) with one more element: a reply per message (the id
an ``add`` was given, whether a ``remove`` found its entry). Each client has its own
``SnapshotEncoder``, so any number can attach at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hydra_tui.engine.backends.proxy import apply_call
from hydra_tui.engine.backends.snapshot_wire import SnapshotEncoder
from hydra_tui.service.wire import FrameError, pack, read_frame

if TYPE_CHECKING:
    from hydra_tui.engine.backends.manager import DownloadManager

__all__ = ["Session", "new_gid"]

log = logging.getLogger(__name__)


def new_gid() -> str:
    """A fresh id: 16 hex digits, the shape aria2 clients expect of a GID."""
    return secrets.token_hex(8)


class Session:
    """Answers one connected client until it hangs up."""

    def __init__(
        self,
        manager: DownloadManager,
        *,
        changed: Callable[[], None],
        stop: Callable[[], None],
    ) -> None:
        self._manager = manager
        self._changed = changed
        self._stop = stop
        self._encoder = SnapshotEncoder()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                frame = await read_frame(reader)
                if not isinstance(frame, list):
                    break  # hung up (None), or not one of our clients
                replies = [self.handle(message) for message in frame]
                packed = self._encoder.encode(self._manager.snapshots())
                writer.write(pack((len(frame), packed, [], None, time.process_time(), replies)))
                await writer.drain()
                self._changed()
        except (FrameError, ConnectionError) as exc:
            log.debug("service client dropped: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def handle(self, message: Any) -> object:
        """Apply one message; its reply (``None`` where there is nothing to say)."""
        try:
            kind, *args = message
            if kind == "add":
                url, options, id, paused = args
                return self._manager.add(url, options, id=id or new_gid(), paused=paused).id
            if kind == "remove":
                try:
                    self._manager.remove(args[0], delete_files=bool(args[1:] and args[1]))
                except KeyError:
                    return False
                return True
            if kind == "entries":  # an attached TUI follows the queue others change
                return {"entries": [(c.id, c.url, c.options) for c in self._manager.controls()]}
            if kind == "move":
                with contextlib.suppress(KeyError):
                    self._manager.move(args[0], int(args[1]))
            if kind == "call":
                apply_call(self._manager, *args)
            elif kind == "max_active":
                self._manager.max_active = int(args[0])
                self._manager.kick()
            elif kind == "stop":
                self._stop()
        except Exception:  # a bad message must not take the service down
            log.exception("service message %.40r failed", message)
        return None
