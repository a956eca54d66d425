"""Frames on the service socket: the engine pipe's messages, over a Unix socket.

A frame is what ``multiprocessing.connection`` puts on the engine's pipe: a 4-byte
big-endian length, then a pickle. A client sends a list of the pipe's messages
(``("add", url, options, id, paused)``, ``("call", id, method, args)``,
``("remove", id)``, ``("poll",)``, …) and the service answers each frame with one
``Answer``. Pickle is safe here only because nobody but the user can connect: the
socket is 0600 in a 0700 folder and the service checks the peer's uid
(``daemon._same_user``).
"""

from __future__ import annotations

import pickle
import socket
import struct
from typing import TYPE_CHECKING, Any

# the shell commands' side never loads asyncio: ``hydra-tui add`` must return at once
# (bench/PROFILE.md, "Figures moved out of code comments")
if TYPE_CHECKING:
    import asyncio

__all__ = ["MAX_FRAME", "FrameError", "pack", "read_frame", "recv_frame"]

#: far more than any client of ours sends, a thousand adds in one frame included
MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct("!i")


class FrameError(Exception):
    """A frame that is too large or cut short: the connection is dropped."""


def pack(obj: Any) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


def _size(header: bytes) -> int:
    (size,) = _HEADER.unpack(header)
    if not 0 <= size <= MAX_FRAME:
        raise FrameError(f"frame of {size} bytes refused")
    return int(size)


async def read_frame(reader: asyncio.StreamReader) -> Any:
    """The next frame's object; ``None`` at a clean end of the stream."""
    import asyncio

    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise FrameError("frame cut short") from exc
        return None
    try:
        payload = await reader.readexactly(_size(header))
    except asyncio.IncompleteReadError as exc:
        raise FrameError("frame cut short") from exc
    return pickle.loads(payload)  # only the same user can connect


def recv_frame(sock: socket.socket) -> Any:
    """Blocking read of one frame (the shell commands' side)."""
    header = _recv_exactly(sock, _HEADER.size)
    return pickle.loads(_recv_exactly(sock, _size(header)))  # our own service


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        part = sock.recv(size - len(buf))
        if not part:
            raise FrameError("the service closed the connection")
        buf += part
    return bytes(buf)
