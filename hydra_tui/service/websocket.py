"""aria2's JSON-RPC over WebSocket (``GET /jsonrpc`` with ``Upgrade: websocket``): calls
as text frames, answered in kind, and aria2's notifications (``aria2.onDownloadStart``,
``…Pause``, ``…Stop``, ``…Complete``, ``…Error``) pushed to every open socket.

Just enough of RFC 6455 for JSON-RPC: unfragmented text frames (masked, as clients must
send them), ping/pong and close; a frame over ``MAX_BODY`` closes the connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hydra_tui.engine.snapshot import DownloadState

if TYPE_CHECKING:
    from hydra_tui.engine.backends.manager import DownloadManager

__all__ = ["Notifier", "accept_key", "serve_websocket"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA
#: how often the notifier looks for state changes
NOTIFY_INTERVAL = 0.2
_ACTIVE = (DownloadState.PROBING, DownloadState.DOWNLOADING, DownloadState.VERIFYING)
_EVENTS = {
    DownloadState.PAUSED: "aria2.onDownloadPause",
    DownloadState.DONE: "aria2.onDownloadComplete",
    DownloadState.FAILED: "aria2.onDownloadError",
    DownloadState.CANCELLED: "aria2.onDownloadStop",
}


def accept_key(key: str) -> str:
    return base64.b64encode(
        hashlib.sha1(key.encode() + _GUID).digest()
    ).decode()  # RFC 6455's handshake


def frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class Notifier:
    """Watches the queue's states and sends aria2's notifications to every open socket."""

    def __init__(self, manager: DownloadManager) -> None:
        self._manager = manager
        self.sockets: set[asyncio.StreamWriter] = set()
        self._states: dict[str, DownloadState] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(NOTIFY_INTERVAL)
            self.check()

    def check(self) -> None:
        for s in self._manager.snapshots():
            old = self._states.get(s.id)
            self._states[s.id] = s.state
            if old is s.state:
                continue
            if s.state in _ACTIVE and old not in _ACTIVE:
                self._send("aria2.onDownloadStart", s.id)
            elif s.state in _EVENTS:
                self._send(_EVENTS[s.state], s.id)

    def _send(self, method: str, gid: str) -> None:
        note = {"jsonrpc": "2.0", "method": method, "params": [{"gid": gid}]}
        data = frame(_TEXT, json.dumps(note).encode())
        for writer in [*self.sockets]:
            if writer.is_closing():
                self.sockets.discard(writer)
            else:
                writer.write(data)


async def serve_websocket(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    key: str,
    *,
    answer: Callable[[bytes], bytes],
    notifier: Notifier,
    max_frame: int,
) -> None:
    """Upgrade the connection and serve it until the client closes."""
    writer.write(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
        ).encode("latin-1")
    )
    await writer.drain()
    notifier.sockets.add(writer)
    try:
        while True:
            opcode, payload = await _read_frame(reader, max_frame)
            if opcode == _CLOSE or opcode is None:
                with contextlib.suppress(ConnectionError):
                    writer.write(frame(_CLOSE, b""))
                return
            if opcode == _PING:
                writer.write(frame(_PONG, payload))
            elif opcode == _TEXT:
                writer.write(frame(_TEXT, answer(payload)))
            await writer.drain()
    finally:
        notifier.sockets.discard(writer)


async def _read_frame(reader: asyncio.StreamReader, max_frame: int) -> tuple[Any, bytes]:
    """(opcode, payload); opcode ``None`` for a frame this server will not take."""
    b0, b1 = await reader.readexactly(2)
    length = b1 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    if not b0 & 0x80 or not b1 & 0x80 or length > max_frame:
        return None, b""  # fragmented, unmasked or too large
    mask = await reader.readexactly(4)
    data = await reader.readexactly(length)
    payload = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
    return b0 & 0x0F, payload
