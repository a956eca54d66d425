"""``Channel``: pickled messages over one end of a pipe, without ever blocking the loop.

The UI and the engine's process talk over a ``multiprocessing.Pipe``. Its own ``send``
and ``recv`` block, and they assume a blocking descriptor; but uvloop's ``add_reader``
turns the descriptor non-blocking. A message larger than the socket's buffer (the
snapshots of a queue of 1,500 downloads) then failed halfway with ``BlockingIOError``:
the rest was dropped, the stream of frames was corrupt from there on, and the UI either
hung at its last snapshot for good ("5 active · 0 B/s" with 990 rows queued) or took
the engine for dead. Blocking sends on both sides could instead deadlock (each waiting
for the other to read).

So each side frames its messages itself (an 8-byte length, then the pickle), writes what
the socket takes and keeps the rest for the loop's writer callback, and reads whatever
has arrived, returning only complete messages. ``send`` never blocks; nothing is lost.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Channel"]

_HEADER = struct.Struct("!Q")
#: bytes read per ``os.read`` call
_READ_SIZE = 1 << 20


class Channel:
    """One end of a pipe, for one event loop; ``send`` and ``read`` return at once."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._fd = conn.fileno()
        os.set_blocking(self._fd, False)
        self._out = bytearray()
        self._in = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer = False
        self._drained: asyncio.Event | None = None
        #: why writing stopped (the other end is gone); later sends are dropped
        self.broken: OSError | None = None

    def fileno(self) -> int:
        return self._fd

    @property
    def pending(self) -> int:
        """Bytes sent but not yet taken by the socket."""
        return len(self._out)

    def send(self, message: object) -> None:
        """Queue ``message`` and write what the socket takes now; raises the ``OSError``
        that broke the pipe (the other end is gone)."""
        if self.broken is not None:
            raise self.broken
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self._out += _HEADER.pack(len(data))
        self._out += data
        self._flush()
        if self.broken is not None:
            raise self.broken

    def read(self) -> list[Any]:
        """The messages complete so far; ``EOFError`` once the other end closed and no
        message is left."""
        eof = False
        while True:
            try:
                data = os.read(self._fd, _READ_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionResetError:
                # a socket closed with unread bytes (say, polls it never read) reports
                # "reset" to its peer instead of EOF, after the data it had sent: that
                # data (the last answer, which says why it stopped) is still delivered
                eof = True
                break
            if not data:
                eof = True
                break
            self._in += data
        messages = []
        buffer = self._in
        start = 0
        while len(buffer) - start >= _HEADER.size:
            (length,) = _HEADER.unpack_from(buffer, start)
            end = start + _HEADER.size + length
            if end > len(buffer):
                break
            messages.append(pickle.loads(buffer[start + _HEADER.size : end]))
            start = end
        if start:
            del buffer[:start]
        if eof and not messages:
            raise EOFError("the other end of the pipe closed")
        return messages

    def _flush(self) -> None:
        while self._out:
            try:
                written = os.write(self._fd, self._out)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:  # the other end is gone: nothing more can be sent
                self.broken = exc
                self._out.clear()
                break
            del self._out[:written]
        self._watch()

    def _watch(self) -> None:
        """Have the loop call ``_flush`` while bytes wait (and only then)."""
        if self._out and not self._writer:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop yet: ``drain`` or the next send writes it
                return
            loop.add_writer(self._fd, self._flush)
            self._loop, self._writer = loop, True
        elif not self._out:
            if self._writer and self._loop is not None:
                self._loop.remove_writer(self._fd)
                self._writer = False
            if self._drained is not None:
                self._drained.set()

    async def drain(self) -> None:
        """Wait until every byte sent has been written (or the pipe broke)."""
        self._flush()
        while self._out:
            self._drained = asyncio.Event()
            await self._drained.wait()
        self._drained = None

    def close(self) -> None:
        """Stop watching the descriptor and close the pipe (unsent bytes are dropped)."""
        if self._writer and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_writer(self._fd)
        self._writer = False
        self._out.clear()
        self._conn.close()
