"""What the resume store holds for a ``.part`` file, read as the CLI reads it: from the
default state folder (which ``isolated_dirs`` points into the test's tmp dir)."""

from __future__ import annotations

from pathlib import Path

from hydra_tui.devserver import DevServer
from hydra_tui.engine.context import default_state_dir
from hydra_tui.engine.io.resume import ResumeRecord, ResumeStore
from tests.support.helpers import cli, file_sha256, sha256

MiB = 1024 * 1024


def stored_record(part: Path) -> ResumeRecord | None:
    """The record for ``part``, or None; the store is opened and closed again, so a
    running download (another process) may keep writing to it."""
    store = ResumeStore(default_state_dir() / "resume.sqlite3")
    try:
        return store.load(part)
    finally:
        store.close()


def saved_prefix(part: Path) -> int:
    """How many bytes from the start of ``part`` the store says are written."""
    record = stored_record(part)
    if record is None:
        return 0
    return next((end for begin, end in record.ranges if begin == 0), 0)


def assert_rerun_replays_the_saved_bytes(
    server: DevServer, name: str, args: list[str], data: bytes, target: Path, saved: int
) -> None:
    """Rerun an interrupted ``-s URL --save TARGET`` command: the whole file on stdout
    and in TARGET, no ``.part`` left, and the ``saved`` bytes replayed from disk, not
    fetched again (the probe may refetch its first bytes)."""
    server.reset_stats()
    again = cli(*args, timeout=120)
    assert again.returncode == 0, again.stderr
    assert sha256(again.stdout) == sha256(data)  # the whole file, from byte 0
    assert file_sha256(target) == sha256(data)
    assert not target.with_name(target.name + ".part").exists()
    assert server.stats(name).bytes_sent <= len(data) - saved + 2 * MiB
