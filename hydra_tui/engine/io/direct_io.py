"""Writing a ``.part`` file's whole pages around the page cache (``O_DIRECT``, Linux).

Why: filling the page cache is most of a fast download's CPU. Each byte is copied into
a freshly allocated cache page, and on a VM whose host takes freed memory back that
first touch costs far more than the copy (bench/PROFILE.md, "Writing around the page
cache"). A direct write hands the device our own staging buffer, which stays mapped,
so a GiB costs a memcpy and the device's time. It also leaves the cache to the files
the user reads rather than evicting them for a download.

The rules that keep it safe:

* only whole 4 KiB pages go direct (any device's logical block divides 4 KiB); the
  unaligned head and tail of a write go through the ordinary descriptor, so no page is
  ever written both ways;
* a filesystem that refuses ``O_DIRECT`` (tmpfs, some FUSE and network filesystems)
  or a direct write refused with ``EINVAL`` sends the file back to ordinary writes;
* direct writes slower than ``MIN_RATE`` (a spinning disk, which the page cache's
  elevator serves better) send the file back to ordinary writes too;
* durability is unchanged: the resume store still claims bytes only after an
  ``fdatasync`` of the file, which covers direct writes as well.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import time
from collections.abc import Sequence

__all__ = ["ALIGN", "MIN_RATE", "DirectReader", "DirectWriter", "aligned_block", "slice_views"]

ALIGN = 4096
#: the staging buffer, for bytes whose address does not match their file offset (a
#: page-aligned anonymous mapping, made on first need and reused)
STAGE = 1024 * 1024
#: direct writes that ran slower than this, over ``JUDGE_BYTES``, go back to the cache
MIN_RATE = 200 * 1024 * 1024
JUDGE_BYTES = 32 * 1024 * 1024
#: writes with fewer whole pages than this are not worth a second system call
MIN_DIRECT = 64 * 1024


def slice_views(views: Sequence[memoryview], skip: int, n: int) -> list[memoryview]:
    """Bytes ``[skip, skip + n)`` of the concatenation of ``views``, as views."""
    out: list[memoryview] = []
    for v in views:
        if n <= 0:
            break
        if skip >= len(v):
            skip -= len(v)
            continue
        part = v[skip : skip + n]
        skip = 0
        out.append(part)
        n -= len(part)
    return out


def aligned_block(size: int, phase: int = 0) -> memoryview:
    """A zeroed, writable block of ``size`` bytes whose address is ``phase`` modulo
    ``ALIGN``: a block that lands at a file offset of that phase is written direct from
    where it lies, with no copy through the staging buffer."""
    raw = bytearray(size + ALIGN)
    address = _address(raw)
    skip = 0 if address is None else (phase - address) % ALIGN
    return memoryview(raw)[skip : skip + size]


def _address(buf: bytearray | memoryview) -> int | None:
    """Where a writable buffer's bytes lie in memory (``None``: read-only or empty)."""
    import ctypes  # here: the stream path imports this module but never asks

    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(buf))
    except (TypeError, ValueError):
        return None


def _open_direct(fd: int, access: int) -> int:
    """A second descriptor of the very inode ``fd`` holds (whatever its name points to
    by now), opened ``O_DIRECT``; raises ``OSError`` where that is refused."""
    flags = access | getattr(os, "O_DIRECT", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(f"/proc/self/fd/{fd}", flags)


def _close_direct(fd: int, buf: mmap.mmap | None) -> None:
    """Close a descriptor of ``_open_direct`` (-1: none) and its buffer."""
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
    if buf is not None:
        with contextlib.suppress(BufferError):  # a caller still holds a view
            buf.close()


class DirectWriter:
    """The direct half of one file's writes; used from the file's writer thread only."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._direct = -1
        self._stage: mmap.mmap | None = None
        #: False once the file went back to ordinary writes (or never could leave them)
        self.enabled = hasattr(os, "O_DIRECT")
        #: bytes written directly, and bytes offered (direct or not)
        self.written = 0
        self.offered = 0
        self._spent = 0.0
        self._judged = False
        #: why the file went back to the cache ("" while it has not)
        self.why = ""

    def _open(self) -> bool:
        if self._direct >= 0:
            return True
        try:
            self._direct = _open_direct(self.fd, os.O_WRONLY)
        except OSError as exc:
            self.enabled = False
            self.why = f"the filesystem refuses O_DIRECT ({os.strerror(exc.errno or 0)})"
            return False
        return True

    def write(self, views: Sequence[memoryview], offset: int, total: int) -> tuple[int, int]:
        """Write the whole pages inside ``[offset, offset + total)`` directly; return the
        ``(start, end)`` written (``start == end``: nothing), for the caller to write the
        head ``[offset, start)`` and the tail ``[end, offset + total)`` through the cache.
        """
        self.offered += total
        first = -(-offset // ALIGN) * ALIGN
        last = (offset + total) // ALIGN * ALIGN
        if not self.enabled or last - first < MIN_DIRECT or not self._open():
            return offset, offset
        began = time.monotonic()
        try:
            end = self._write_pages(views, offset, first, last)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            end = last + 1  # refused: nothing is known to be written
        if end != last:  # refused or short: this write and every later one go cached
            self._give_up("a direct write was refused or cut short")
            return offset, offset
        self._judge(last - first, time.monotonic() - began)
        return first, last

    def _write_pages(self, views: Sequence[memoryview], offset: int, first: int, last: int) -> int:
        """Write ``[first, last)`` to the direct descriptor, from the caller's block where
        its address allows, else through the staging buffer; return where the writes
        stopped (``last`` unless one came back short)."""
        if len(views) == 1:
            address = _address(views[0])
            if address is not None and (address + first - offset) % ALIGN == 0:
                n = last - first
                wrote = os.pwrite(self._direct, views[0][first - offset : last - offset], first)
                return last if wrote == n else first
        if self._stage is None:
            self._stage = mmap.mmap(-1, STAGE)
        stage = memoryview(self._stage)
        pos = first
        while pos < last:
            n = min(STAGE, last - pos)
            at = 0
            for v in slice_views(views, pos - offset, n):
                stage[at : at + len(v)] = v
                at += len(v)
            wrote = os.pwrite(self._direct, stage[:n], pos)
            if wrote != n:
                return pos
            pos += n
        return pos

    def _judge(self, n: int, spent: float) -> None:
        """Go back to the cache for good if the device is slower than ``MIN_RATE``."""
        self.written += n
        self._spent += spent
        if not self._judged and self.written >= JUDGE_BYTES:
            self._judged = True
            if self.written < MIN_RATE * self._spent:
                rate = self.written / self._spent / 2**20
                self._give_up(f"direct writes ran at {rate:.0f} MiB/s")

    def _give_up(self, why: str) -> None:
        self.enabled = False
        self.why = why
        self.close()

    def close(self) -> None:
        _close_direct(self._direct, self._stage)
        self._direct, self._stage = -1, None


class DirectReader:
    """Reads a file back around the page cache, for hashing what was written direct:
    a cached read would fill the very pages the writes avoided. Falls back to ordinary
    reads where the file cannot be opened direct. One thread at a time."""

    BLOCK = 4 * 1024 * 1024

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._direct = -1
        self._buf: mmap.mmap | None = None
        self.enabled = hasattr(os, "O_DIRECT")

    def read(self, pos: int, n: int) -> bytes | memoryview:
        """Up to ``n`` bytes at ``pos`` (fewer at the end of the file); a view is valid
        until the next call."""
        if self.enabled and self._direct < 0:
            try:
                self._direct = _open_direct(self.fd, os.O_RDONLY)
            except OSError:
                self.enabled = False
        if not self.enabled:
            return os.pread(self.fd, n, pos)
        if self._buf is None:
            self._buf = mmap.mmap(-1, self.BLOCK + ALIGN)
        skip = pos % ALIGN
        want = min(-(-(n + skip) // ALIGN) * ALIGN, self.BLOCK + ALIGN)
        view = memoryview(self._buf)[:want]
        try:
            got = os.preadv(self._direct, [view], pos - skip)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            self.enabled = False
            self.close()
            return os.pread(self.fd, n, pos)
        return view[skip : min(got, skip + n)] if got > skip else b""

    def close(self) -> None:
        _close_direct(self._direct, self._buf)
        self._direct, self._buf = -1, None
