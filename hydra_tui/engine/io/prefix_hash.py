"""Hashing a ``.part`` while it is written: the contiguous prefix ``[0, n)`` is read back
on an I/O thread as ``n`` grows, so that when the last range lands only the tail is left
to hash, not the whole file. It is read around the page cache where the file was written
so (``direct_io.DirectReader``), else from the cache, where it was just written.

The prefix is read from the file, never taken from the network buffers: what is hashed
is what is on disk. A lock keeps ``advance`` (the follower) and ``finish`` (the verdict)
from interleaving; ``restart`` forgets everything when the file is rewritten from 0.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable

__all__ = ["PrefixHasher"]

BLOCK = 4 * 1024 * 1024


class PrefixHasher:
    """Digests of ``fd``'s first ``pos`` bytes, grown by ``advance`` (call from threads)."""

    def __init__(
        self,
        fd: int,
        algorithms: list[str],
        read: Callable[[int, int], bytes | memoryview] | None = None,
    ) -> None:
        self._fd = fd
        self._read = read or (lambda pos, n: os.pread(fd, n, pos))
        self._algorithms = algorithms
        self._lock = threading.Lock()
        self._hashers = [hashlib.new(a) for a in algorithms]
        self.pos = 0

    def advance(self, upto: int) -> None:
        """Hash ``[pos, upto)``: bytes already on disk for good."""
        with self._lock:
            while self.pos < upto:
                block = self._read(self.pos, min(BLOCK, upto - self.pos))
                if not block:
                    return
                for h in self._hashers:
                    h.update(block)
                self.pos += len(block)

    def restart(self) -> None:
        with self._lock:
            self._hashers = [hashlib.new(a) for a in self._algorithms]
            self.pos = 0

    def finish(self) -> dict[str, str]:
        """Hash to the end of the file; algorithm → hex."""
        self.advance(os.fstat(self._fd).st_size)
        with self._lock:
            return {a: h.hexdigest() for a, h in zip(self._algorithms, self._hashers, strict=True)}
