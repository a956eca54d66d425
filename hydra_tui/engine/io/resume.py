"""The resume store: which byte ranges of which ``.part`` file are safely on disk.

sqlite3 in WAL mode (stdlib, crash-safe, one file for all downloads, safe to share between
processes). Ranges come in two kinds:

* **durable** ranges were recorded after an fdatasync of the ``.part`` file: they survive
  a power loss or an OS crash;
* **volatile** ranges were written (the kernel has them) but not yet synced: they survive
  a killed process, not a reboot, so they are trusted only while the kernel's boot id is
  the one recorded with them.

This lets a download checkpoint every second (a kill -9 loses little) while paying for
an fdatasync only every few seconds. The record also keeps the remote identity (size,
ETag, Last-Modified): a resume against a changed remote starts over instead of splicing
two versions, and the identity of the ``.part`` file itself (device, inode, the mark
it carries: ``engine/io/partfile.py``): ranges are trusted only for the very file they were
recorded for. Records are keyed by the ``.part``'s absolute path with the folder's links
resolved, so one relative ``-o`` from two working folders means two records.

A record also keeps the URL as given (before redirects) and the ``--url-cmd`` that
renews it (``engine/http/renew.py``), so a resume the next day renews the same way. The
command is only ever run from a store that is the user's alone (``trusted``).

A corrupt store, or one written by a newer version, is moved aside with a warning.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hydra_tui.engine.http.urls import redact_url
from hydra_tui.engine.io.partfile import PartIdentity
from hydra_tui.engine.io.private import private_dir, private_file
from hydra_tui.engine.plan.ranges import RangeSet

__all__ = ["ResumeRecord", "ResumeStore", "boot_id"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
_SCHEMA = """
CREATE TABLE IF NOT EXISTS downloads (
    part_path TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    size INTEGER,
    etag TEXT,
    last_modified TEXT,
    boot_id TEXT,
    dev INTEGER,
    ino INTEGER,
    token TEXT,
    updated REAL NOT NULL,
    url_cmd TEXT
);
CREATE TABLE IF NOT EXISTS ranges (
    part_path TEXT NOT NULL REFERENCES downloads(part_path) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    stop INTEGER NOT NULL,
    durable INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ranges_by_part ON ranges(part_path);
"""


@functools.cache
def boot_id() -> str | None:
    """This boot of the kernel (Linux); ``None`` where unknown, so nothing volatile is
    ever trusted there."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class ResumeRecord:
    """What a previous run left: the remote's identity and the ranges on disk."""

    url: str
    size: int | None
    etag: str | None
    last_modified: str | None
    ranges: tuple[tuple[int, int], ...]
    #: the ``.part`` file the ranges were recorded for (None: an unknown file)
    identity: PartIdentity | None = None
    #: the ``--url-cmd`` that renewed the URL (None: none was given)
    url_cmd: str | None = None

    def same_remote(self, size: int | None, etag: str | None, last_modified: str | None) -> bool:
        """True if the remote is provably the same version (size and every validator)."""
        if size is None or self.size != size:
            return False
        if etag is None and last_modified is None:
            return False  # nothing proves the bytes did not change
        return self.etag == etag and self.last_modified == last_modified


class ResumeStore:
    """A sqlite-backed map from a ``.part`` path to its ``ResumeRecord``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.disabled = False
        self._lock = threading.Lock()
        private_dir(path.parent)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            self._set_aside(str(exc))
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        # 0600 before sqlite writes a byte (its -wal and -shm files copy the mode)
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(self.path) + suffix)
            if suffix == "" or path.exists():
                private_file(path)
        db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        try:
            # look before writing anything: a newer version's store is left untouched
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                db.close()
                self._set_aside(f"written by a newer hydra-tui (schema {version})")
                return self._open()
            if version == 3:  # schema 4 only adds a column: keep the resume data
                db.execute("ALTER TABLE downloads ADD COLUMN url_cmd TEXT")
            elif 0 < version < SCHEMA_VERSION:  # an older layout: resume data is disposable
                db.executescript("DROP TABLE IF EXISTS ranges; DROP TABLE IF EXISTS downloads;")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            # the layout we rely on, and no damaged pages
            db.execute(
                "SELECT part_path, url, size, etag, last_modified, dev, ino, token, updated, "
                "url_cmd FROM downloads LIMIT 1"
            )
            db.execute("SELECT part_path, start, stop FROM ranges LIMIT 1")
            check = db.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        if check is None or check[0] != "ok":
            db.close()
            raise sqlite3.DatabaseError(f"integrity check failed: {check}")
        return db

    def _set_aside(self, why: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.bad-{time.time_ns()}")
        log.warning("resume store %s unusable (%s); moved to %s", self.path, why, aside)
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.replace(Path(str(aside) + suffix))
                private_file(Path(str(aside) + suffix))  # a copy as private as the store

    def _failed(self, what: str, exc: sqlite3.Error) -> None:
        """A store that breaks while in use costs resumability, never the download."""
        if not self.disabled:
            log.warning(
                "resume store %s failed (%s: %s); continuing without it", self.path, what, exc
            )
        self.disabled = True

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def load(self, part_path: Path) -> ResumeRecord | None:
        key = _key(part_path)
        if self.disabled:
            return None
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT url, size, etag, last_modified, boot_id, dev, ino, token, url_cmd "
                    "FROM downloads "
                    "WHERE part_path=?",
                    (key,),
                ).fetchone()
                if row is None:
                    return None
                ranges = self._db.execute(
                    "SELECT start, stop, durable FROM ranges WHERE part_path=? ORDER BY start",
                    (key,),
                ).fetchall()
            except sqlite3.Error as exc:
                self._failed("load", exc)
                return None
        same_boot = row[4] is not None and row[4] == boot_id()
        clean = RangeSet(
            (int(s), int(e))
            for s, e, durable in ranges
            if 0 <= int(s) < int(e) and (durable or same_boot)
        )
        identity = None
        if row[5] is not None and row[6] is not None:
            identity = PartIdentity(int(row[5]), int(row[6]), row[7])
        return ResumeRecord(row[0], row[1], row[2], row[3], tuple(clean), identity, row[8])

    def url_cmd_for(self, url: str) -> str | None:
        """The ``--url-cmd`` most recently recorded for ``url`` (as given, before
        redirects); ``None`` when there is none or the store is not ``trusted``."""
        if self.disabled or not self.trusted():
            return None
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT url_cmd FROM downloads WHERE url=? AND url_cmd IS NOT NULL "
                    "ORDER BY updated DESC LIMIT 1",
                    (redact_url(url),),
                ).fetchone()
            except sqlite3.Error as exc:
                self._failed("load", exc)
                return None
        return None if row is None else str(row[0])

    def trusted(self) -> bool:
        """The store and its folder are ours and nobody else may write them: a command
        read from it is one only this user (or root) could have put there."""
        for path in (self.path, self.path.parent):
            try:
                st = path.stat()
            except OSError:
                return False
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return False
        return True

    def save(
        self,
        part_path: Path,
        *,
        url: str,
        size: int | None,
        etag: str | None,
        last_modified: str | None,
        durable: RangeSet,
        volatile: RangeSet | None = None,
        identity: PartIdentity | None = None,
        url_cmd: str | None = None,
    ) -> None:
        """Replace the record for ``part_path`` in one transaction.

        ``durable`` ranges must have been fdatasync'ed; ``volatile`` ones only written;
        ``identity`` is the ``.part`` file they are in; ``url_cmd`` renews ``url``.
        """
        key = _key(part_path)
        dev, ino, token = (
            (None, None, None) if identity is None else (identity.dev, identity.ino, identity.token)
        )
        if self.disabled:
            return
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._failed("save", exc)
                return
            try:
                db.execute(
                    "INSERT INTO downloads(part_path, url, size, etag, last_modified, boot_id, "
                    "dev, ino, token, updated, url_cmd) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT(part_path) DO UPDATE SET "
                    "url=excluded.url, size=excluded.size, etag=excluded.etag, "
                    "last_modified=excluded.last_modified, boot_id=excluded.boot_id, "
                    "dev=excluded.dev, ino=excluded.ino, token=excluded.token, "
                    "updated=excluded.updated, url_cmd=excluded.url_cmd",
                    (
                        key,
                        redact_url(url),
                        size,
                        etag,
                        last_modified,
                        boot_id(),
                        dev,
                        ino,
                        token,
                        time.time(),
                        url_cmd,
                    ),
                )
                db.execute("DELETE FROM ranges WHERE part_path=?", (key,))
                rows = [(key, s, e, 1) for s, e in durable]
                if volatile is not None:
                    extra = volatile.copy()
                    for s, e in durable:
                        extra.remove(s, e)
                    rows += [(key, s, e, 0) for s, e in extra]
                db.executemany(
                    "INSERT INTO ranges(part_path, start, stop, durable) VALUES (?,?,?,?)", rows
                )
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                self._failed("save", exc)
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise

    def forget(self, part_path: Path) -> None:
        if self.disabled:
            return
        with self._lock:
            try:
                self._db.execute("DELETE FROM downloads WHERE part_path=?", (_key(part_path),))
            except sqlite3.Error as exc:
                self._failed("forget", exc)


def _key(part_path: Path) -> str:
    """An absolute key (no syscalls: callers pass the path with the folder resolved,
    ``PartFile.key``); a relative path is made absolute against the working folder."""
    return os.path.abspath(part_path)  # noqa: PTH100 - resolve() would follow links
