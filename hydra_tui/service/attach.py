"""``ServiceBackend``: the TUI as a client of the user's service.

The same protocol as the engine's pipe (``engine/backends/process.py``), over the service socket
(``wire``): control messages go out as they happen, a ``poll`` ten times a second while
no answer is due, and each answer carries the whole queue's snapshots as
``snapshot_wire`` differences. The first answer is the full queue, with each download's
rate history, window events and chunk grid as the service kept them, so a TUI attached
late draws the graphs from before it attached.

Other clients (another TUI, ``hydra-tui add``, aria2 RPC) change the queue too: when the
ids in an answer are not those this side knows, it asks for ``entries`` (id, URL and
options of each) and follows. Ending ``run`` detaches: the downloads go on. ``stop``
before that pauses every download and stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from hydra_tui.engine.backends.proxy import PUBLISH_INTERVAL, ProxyControl, ProxyQueue
from hydra_tui.engine.backends.snapshot_wire import SnapshotDecoder
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import ServiceUnavailable
from hydra_tui.service import paths
from hydra_tui.service.session import new_gid
from hydra_tui.service.wire import FrameError, pack, read_frame

__all__ = ["ServiceBackend"]

log = logging.getLogger(__name__)
#: how long detaching or stopping waits for the service's last answer
CLOSE_TIMEOUT = 10.0


class ServiceBackend(ProxyQueue):
    """A ``DownloadBackend`` whose queue lives in the service; one ``run`` per instance."""

    def __init__(self, *, max_active: int = 3) -> None:
        super().__init__(max_active=max_active)
        self._decoder = SnapshotDecoder()
        self._outbox: list[tuple[Any, ...]] = []
        self._waiting = 0  # frames sent whose answer has not arrived
        self._writer: asyncio.StreamWriter | None = None
        self._stopping = False
        #: has the service answered yet (before, the queue here is not the service's)
        self.ready = False
        #: CPU seconds of the service at its last answer (the TUI's pacing reads it)
        self.engine_cpu = 0.0

    def _new_id(self) -> str:
        """A random id, not a counted ``q1``: another TUI attached to the same service
        counts from 1 too."""
        return new_gid()

    def stop_service(self) -> None:
        """Pause every download and stop the service when ``run`` ends (not a detach)."""
        self._stopping = True

    async def run(self) -> None:
        """Attach; follow the service until cancelled (detach), or until it goes away
        (``ServiceUnavailable``)."""
        try:
            reader, writer = await asyncio.open_unix_connection(str(paths.socket_file()))
        except OSError as exc:
            raise ServiceUnavailable(f"could not attach to the service: {exc}") from exc
        self._writer = writer
        self._outbox.append(("entries",))  # what is queued there (with what we added)
        self._flush()
        poller = asyncio.create_task(self._poll_forever())
        try:
            while True:
                answer = await read_frame(reader)
                if answer is None:
                    raise ServiceUnavailable("the service went away")
                self._receive(answer)
        except (FrameError, ConnectionError) as exc:
            raise ServiceUnavailable(f"lost the connection to the service: {exc}") from exc
        finally:
            poller.cancel()
            self._writer = None
            await self._close(reader, writer)

    async def _close(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Detach (or stop the service first), waiting a bounded time for its answer."""
        with contextlib.suppress(Exception):
            if self._stopping:
                messages: list[tuple[Any, ...]] = [
                    ("call", c.id, "pause", ()) for c in self._controls.values()
                ]
                writer.write(pack([*messages, ("stop",)]))
                await asyncio.wait_for(writer.drain(), CLOSE_TIMEOUT)
                # the service answers, then winds down and closes the socket
                await asyncio.wait_for(reader.read(), CLOSE_TIMEOUT)
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), CLOSE_TIMEOUT)

    # -- the socket ---------------------------------------------------------------------------
    def _send(self, message: tuple[Any, ...]) -> None:
        self._outbox.append(message)
        if self._writer is not None and not self._waiting:
            self._flush()

    def _flush(self) -> None:
        """Send what waits as one frame (at most one frame unanswered at a time)."""
        writer = self._writer
        if writer is None or not self._outbox:
            return
        frame, self._outbox = self._outbox, []
        writer.write(pack(frame))
        self._waiting += 1

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(PUBLISH_INTERVAL)
            if not self._waiting and not self._outbox:
                self._send(("poll",))

    def _receive(self, answer: tuple[Any, ...]) -> None:
        _answered, packed, _records, _stopped, self.engine_cpu, replies = answer
        self._waiting = max(0, self._waiting - 1)
        self.published = {s.id: s for s in self._decoder.decode(packed)}
        for reply in replies:
            if isinstance(reply, dict) and "entries" in reply:
                self._follow(reply["entries"])
                self.ready = True
        if set(self.published) != set(self._controls) and not any(
            m[0] == "entries" for m in self._outbox
        ):
            self._outbox.append(("entries",))
        self._flush()

    def _follow(self, entries: list[tuple[str, str, DownloadOptions]]) -> None:
        """Take the service's queue as it is: its entries, in its order."""
        controls: dict[str, ProxyControl] = {}
        for id, url, options in entries:
            control = self._controls.get(id)
            if control is None:
                control = ProxyControl(self, id, url, options)
            controls[id] = control
        # added here and not yet seen there: keep (the ``add`` is on its way)
        for id, control in self._controls.items():
            if id not in controls and any(m[0] == "add" and m[3] == id for m in self._outbox):
                controls[id] = control
        self._controls = controls
