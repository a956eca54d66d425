"""Starting the kernel's writeback of dirty pages early (``sync_file_range``, Linux).

No durability promise: only a later fdatasync makes data durable. Starting writeback
while a download still runs lets the final fdatasync wait for the last blocks only, and
lets one journal commit cover many files (``commit.GroupCommit``). Its own module
because both the writer (``sinks``) and the committer (``commit``) use it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

__all__ = ["start_writeback", "start_writeback_range"]


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's ``sync_file_range`` (Linux), or None."""
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).sync_file_range  # the process's own libc
    except (OSError, AttributeError, ImportError):  # pragma: no cover - not Linux
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_SYNC_FILE_RANGE_WRITE = 2


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing ``fd``'s dirty pages now (no durability promise:
    only the later fdatasync makes them durable; this lets one journal commit cover
    many files)."""
    fn = _sync_file_range()
    if fn is not None:
        fn(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)  # a failure only loses the head start


def start_writeback_range(fd: int, offset: int, length: int) -> None:
    """``start_writeback`` for ``length`` bytes at ``offset`` only."""
    fn = _sync_file_range()
    if fn is not None and length > 0:
        fn(fd, offset, length, _SYNC_FILE_RANGE_WRITE)
