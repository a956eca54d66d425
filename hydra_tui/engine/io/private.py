"""Folders and files that only their owner may read: state, log and queue files.

They hold URLs (the queue keeps a URL's password so a download can resume), file names
and paths; another local user has no business reading them. Folders are made 0700 and
files 0600 whatever the umask; a folder we own that an older version left 0755 is
tightened. Standard library only (the engine and the CLI both use it).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; make it 0700 if we own it. Raises
    ``OSError`` when it cannot be created."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing (0600 from the first byte), else make it 0600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        _tighten(path, FILE_MODE)
    else:
        os.close(fd)
    return path


def _tighten(path: Path, mode: int) -> None:
    """chmod to ``mode`` if ours and looser; never fails (a shared mount may refuse)."""
    with contextlib.suppress(OSError):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
            return  # not ours to change (a link is followed by nobody here)
        if stat.S_IMODE(st.st_mode) & ~mode:
            path.chmod(mode)
