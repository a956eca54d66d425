"""What the resume store holds for a ``.part`` file, read as the CLI reads it: from the
default state folder (which ``isolated_dirs`` points into the test's tmp dir)."""

from __future__ import annotations

from pathlib import Path

from hydra_tui.engine.context import default_state_dir
from hydra_tui.engine.io.resume import ResumeRecord, ResumeStore


def stored_record(part: Path) -> ResumeRecord | None:
    """The record for ``part``, or None; the store is opened and closed again, so a
    running download (another process) may keep writing to it."""
    store = ResumeStore(default_state_dir() / "resume.sqlite3")
    try:
        return store.load(part)
    finally:
        store.close()
