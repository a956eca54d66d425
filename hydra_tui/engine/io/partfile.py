"""Claiming ``NAME.part`` inside the output folder, and giving it its final name.

Guarantees:

* every name is opened relative to the output folder's descriptor with ``O_NOFOLLOW``:
  a symbolic link at ``NAME.part`` or ``NAME`` is never followed, so nothing outside the
  output folder is ever written; a link, FIFO, device or folder at ``NAME.part`` is
  refused with one line;
* a new ``NAME.part`` is created with ``O_EXCL`` and marked as ours: a random token in
  the extended attribute ``user.hydra-tui.part``. An existing one is written only when
  hydra-tui provably created it (it belongs to us, has one link, and carries our mark;
  where the filesystem keeps no extended attributes, its device and inode are the ones
  the resume store recorded). Any other file is the user's and is left alone: the
  download writes ``NAME.1.part`` instead (``part_names``);
* the resume store trusts its ranges only for the very file they were recorded for
  (``PartFile.matches``: device, inode and mark);
* the final name is a hard link to the inode we wrote (through ``/proc/self/fd``), made
  without ever replacing a file, whatever was swapped in at ``NAME.part`` meanwhile.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from hydra_tui.engine.http.error_map import local_error, local_reason
from hydra_tui.errors import AlreadyRunningError, LocalIOError

__all__ = ["ClaimedNames", "OutputFolder", "PartFile", "PartIdentity", "claim_part", "part_names"]

MARK = "user.hydra-tui.part"
_OPEN = (
    os.O_RDWR
    | os.O_NOFOLLOW
    | os.O_NONBLOCK  # a FIFO must not block the open: it is refused right after
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


@dataclass(frozen=True, slots=True)
class PartIdentity:
    """Which file a resume record belongs to: device, inode and our mark (``None``
    where the filesystem cannot carry one)."""

    dev: int
    ino: int
    token: str | None


class ClaimedNames:
    """Final names being downloaded in this process: a second download of the same
    name takes the next free one (``stem.1.ext``) instead of fighting over the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: set[str] = set()

    def claim(self, key: str) -> bool:
        with self._lock:
            if key in self._names:
                return False
            self._names.add(key)
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._names.discard(key)


class OutputFolder:
    """The output folder, opened once; every name below is looked up relative to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise LocalIOError(f"cannot write to {path}: {local_reason(exc)}") from exc
        #: the absolute path with every link resolved: the resume store's key
        self.resolved = Path(os.path.realpath(path))

    def lexists(self, name: str) -> bool:
        """Is there anything at ``name`` (a file, a folder, a link, even a dangling one)?"""
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise local_error(exc, self.path / name, kept=False) from exc
        return True

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:  # closed once only: the number may belong to another file by now
            with contextlib.suppress(OSError):
                os.close(fd)


class PartFile:
    """An open, exclusively locked ``NAME.part`` that hydra-tui owns."""

    def __init__(
        self, folder: OutputFolder, final_name: str, name: str, fd: int, identity: PartIdentity,
        *, created: bool,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.final_name = final_name
        self.name = name
        self.fd = fd
        self.identity = identity
        #: made by this claim (empty); False for a ``.part`` an earlier run left
        self.created = created
        self._release: tuple[ClaimedNames, str] | None = None
        self.closed = False

    @property
    def path(self) -> Path:
        """``NAME.part`` as the user named the folder (for messages)."""
        return self.folder.path / self.name

    @property
    def final(self) -> Path:
        return self.folder.path / self.final_name

    @property
    def key(self) -> Path:
        """The resolved absolute path: what the resume store is keyed by."""
        return self.folder.resolved / self.name

    def matches(self, recorded: PartIdentity | None) -> bool:
        """Was ``recorded`` taken from this very file (device, inode and mark)?"""
        return (
            recorded is not None
            and not self.created
            and (recorded.dev, recorded.ino) == (self.identity.dev, self.identity.ino)
            and recorded.token == self.identity.token
        )

    def start_over(self) -> None:
        """Empty the file and give it a new mark, so no older record can match it."""
        try:
            os.ftruncate(self.fd, 0)
        except OSError as exc:
            raise local_error(exc, self.path) from exc
        if not self.created:
            self.identity = _identity(self.fd, _mark(self.fd))

    def publish(self) -> None:
        """Give the written inode its final name, never replacing anything there."""
        final = self.folder.path / self.final_name
        try:
            self._link()
        except FileExistsError as exc:
            raise LocalIOError(f"{final} appeared while downloading; kept {self.path}") from exc
        except OSError:
            self._rename()  # a filesystem without hard links
        else:
            self._unlink_own_name()
        # a finished file is the user's: a later download must never take it for ours
        # (a download named ``X.part`` would otherwise be resumed into)
        with contextlib.suppress(OSError, AttributeError):
            os.removexattr(self.fd, MARK)

    def _link(self) -> None:
        dfd = self.folder.fd
        try:  # links the open inode itself, whatever the name points to by now
            os.link(f"/proc/self/fd/{self.fd}", self.final_name, dst_dir_fd=dfd)
            return
        except FileExistsError:
            raise
        except OSError:
            pass  # no /proc: link by name, then check what was linked
        os.link(self.name, self.final_name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
        if not self._is_ours(self.final_name):
            with contextlib.suppress(OSError):
                os.unlink(self.final_name, dir_fd=dfd)
            raise LocalIOError(f"{self.path} was replaced while downloading; not published")

    def _rename(self) -> None:
        final = self.folder.path / self.final_name
        if self.folder.lexists(self.final_name):
            raise LocalIOError(f"{final} appeared while downloading; kept {self.path}")
        if not self._is_ours(self.name):
            raise LocalIOError(f"{self.path} was replaced while downloading; not published")
        try:
            os.rename(
                self.name, self.final_name, src_dir_fd=self.folder.fd, dst_dir_fd=self.folder.fd
            )
        except OSError as exc:
            raise local_error(exc, final) from exc

    def _unlink_own_name(self) -> None:
        """Remove ``NAME.part`` if it is still our file (never someone else's)."""
        if self._is_ours(self.name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.name, dir_fd=self.folder.fd)

    def _is_ours(self, name: str) -> bool:
        try:
            st = os.stat(name, dir_fd=self.folder.fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == (self.identity.dev, self.identity.ino)

    def hold(self, names: ClaimedNames, key: str) -> None:
        """Release ``key`` in ``names`` when this file is closed."""
        self._release = (names, key)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            os.close(self.fd)  # also drops the flock
        self.folder.close()
        if self._release is not None:
            names, key = self._release
            names.release(key)


def part_names(final_name: str) -> tuple[str, ...]:
    """Where ``final_name`` may be written: ``NAME.part``, or, when that is a user's
    file, ``NAME.1.part`` or ``NAME.2.part`` (always the first of these that is free or
    ours, so a rerun finds its own file again)."""
    return (f"{final_name}.part", f"{final_name}.1.part", f"{final_name}.2.part")


def claim_part(
    folder: OutputFolder, final_name: str, recorded: PartIdentity | None, name: str = ""
) -> PartFile | None:
    """Open ``name`` (default ``final_name + ".part"``) in ``folder`` for writing, locked.

    A new file is created (``O_EXCL``) and marked. An existing one is reopened only
    if it is provably ours (see the module docstring); ``None`` means it is the
    user's: left alone, the caller picks another name. A link, FIFO, device or folder
    there raises ``LocalIOError``; a lock held by another process raises
    ``AlreadyRunningError``. The caller owns ``folder`` until a ``PartFile`` is
    returned, which then owns (and closes) it.
    """
    name = name or final_name + ".part"
    path = folder.path / name
    created = True
    try:
        fd = os.open(name, _OPEN | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=folder.fd)
    except FileExistsError:
        created = False
        maybe = _open_existing(folder, name, recorded)
        if maybe is None:
            return None
        fd = maybe
    except OSError as exc:
        raise local_error(exc, path, kept=False) from exc
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise AlreadyRunningError(
                f"{path} is being written by another hydra-tui process"
            ) from exc
        token = _mark(fd) if created else _read_mark(fd)
        return PartFile(folder, final_name, name, fd, _identity(fd, token), created=created)
    except BaseException:
        os.close(fd)
        raise


def _open_existing(folder: OutputFolder, name: str, recorded: PartIdentity | None) -> int | None:
    """Reopen an existing ``.part`` if hydra-tui made it; ``None`` if it is the user's."""
    path = folder.path / name
    try:
        st = os.stat(name, dir_fd=folder.fd, follow_symlinks=False)
    except OSError as exc:
        raise local_error(exc, path, kept=False) from exc
    if stat.S_ISLNK(st.st_mode):
        raise LocalIOError(f"{path} is a symbolic link; refusing to follow it (remove it first)")
    if not stat.S_ISREG(st.st_mode):
        raise LocalIOError(f"{path} is not a regular file; refusing to write to it")
    if st.st_uid != os.geteuid() or st.st_nlink != 1:
        return None  # another user's file, or a hard link to a file elsewhere
    try:
        fd = os.open(name, _OPEN, dir_fd=folder.fd)  # a link swapped in by now: ELOOP
    except OSError as exc:
        raise LocalIOError(f"cannot open {path}: {local_reason(exc)}") from exc
    fst = os.fstat(fd)
    token = _read_mark(fd)
    same = (fst.st_dev, fst.st_ino) == (st.st_dev, st.st_ino) and stat.S_ISREG(fst.st_mode)
    owned = token is not None or (
        recorded is not None
        and recorded.token is None
        and (recorded.dev, recorded.ino) == (fst.st_dev, fst.st_ino)
    )
    if not (same and owned):
        os.close(fd)
        return None
    return fd


def _identity(fd: int, token: str | None) -> PartIdentity:
    st = os.fstat(fd)
    return PartIdentity(st.st_dev, st.st_ino, token)


def _mark(fd: int) -> str | None:
    """Mark the file as ours with a fresh random token; ``None`` if it cannot be."""
    token = secrets.token_hex(16)
    try:
        os.setxattr(fd, MARK, token.encode())
    except (OSError, AttributeError):  # no user xattrs here (AttributeError: not Linux)
        return None
    return token


def _read_mark(fd: int) -> str | None:
    try:
        raw = os.getxattr(fd, MARK)
    except (OSError, AttributeError):
        return None
    return raw.decode("ascii", errors="replace") or None
