"""Case 3: a resume store that cannot be used never stops a download.

The store is ``$XDG_STATE_HOME/hydra-tui/resume.sqlite3``. Garbage bytes, a store from a
newer version (``user_version=99``) or a garbage WAL: the download completes
byte-identical, a warning names the problem (stderr without ``-q``), no traceback, and a
bad store is set aside as ``resume.sqlite3.bad-*``. Stream mode keeps no resume state,
so a broken store must not matter there at all.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer
from hydra_tui.engine.context import default_state_dir
from hydra_tui.engine.io.resume import SCHEMA_VERSION, ResumeStore
from hydra_tui.engine.plan.ranges import RangeSet
from tests.support.cli_runs import MiB, files_under
from tests.support.helpers import cli, file_sha256, payload, sha256

DATA = payload(4 * MiB + 9, seed=301)


def _store() -> Path:
    path = default_state_dir() / "resume.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _garbage(path: Path) -> None:
    path.write_bytes(payload(20_000, seed=302))


def _newer_version(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE future (x)")
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()


def _garbage_wal(path: Path) -> None:
    """A healthy store next to a WAL file full of garbage (sqlite must ignore it)."""
    ResumeStore(path).close()
    Path(f"{path}-wal").write_bytes(payload(40_000, seed=303))


def _populated(path: Path) -> None:
    """A healthy store with enough records to span many pages."""
    store = ResumeStore(path)
    ranges = RangeSet((i * 100, i * 100 + 50) for i in range(200))
    for i in range(40):
        store.save(
            Path(f"/elsewhere/{i}.part"), url="http://x/y", size=1 << 30,
            etag='"e"', last_modified=None, durable=ranges,
        )  # fmt: skip
    store.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _rotten_index(path: Path) -> None:
    """Bit rot inside the file: the header and the downloads table are fine (the store
    opens), but the root page of the ranges index is garbage."""
    _populated(path)
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    (root,) = db.execute(
        "SELECT rootpage FROM sqlite_master WHERE name='ranges_by_part'"
    ).fetchone()
    db.close()
    raw = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    raw[start : start + page_size] = b"\xab" * page_size
    path.write_bytes(bytes(raw))


def _foreign_schema(path: Path) -> None:
    """Current version number, but the tables are not the ones this version writes."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE downloads (part_path TEXT PRIMARY KEY)")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    db.commit()
    db.close()


def _download(server: DevServer, out_dir: Path) -> tuple[int, str]:
    url = server.add("r.bin", DATA)
    proc = cli("--no-ui", url, "-o", str(out_dir), "-t", "4", "--chunk-size", "512K")
    err = proc.stderr.decode()
    assert "Traceback" not in err, err[-3000:]
    assert proc.returncode == 0, err
    assert file_sha256(out_dir / "r.bin") == sha256(DATA)
    assert files_under(out_dir) == [Path("r.bin")]
    return proc.returncode, err


@pytest.mark.parametrize(
    "damage", [_garbage, _newer_version], ids=["garbage-bytes", "user-version-99"]
)
def test_unusable_store_is_set_aside(server: DevServer, out_dir: Path, damage: object) -> None:
    store = _store()
    damage(store)  # type: ignore[operator]
    before = store.read_bytes()
    _, err = _download(server, out_dir)
    warnings = [line for line in err.splitlines() if "warning" in line and "resume store" in line]
    assert len(warnings) == 1, err
    aside = sorted(store.parent.glob("resume.sqlite3.bad-*"))
    (kept,) = [p for p in aside if not p.name.endswith(("-wal", "-shm"))]
    if damage is _garbage:
        assert kept.read_bytes() == before  # set aside as it was, not lost
    else:  # the newer version's data survives (its journal mode may have been switched)
        db = sqlite3.connect(kept)
        assert db.execute("PRAGMA user_version").fetchone() == (99,)
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("future",)]
        db.close()
    # a fresh store took its place and works: it opens and holds no stale records
    ResumeStore(store).close()


def test_garbage_wal_is_ignored(server: DevServer, out_dir: Path) -> None:
    _garbage_wal(_store())
    _download(server, out_dir)


@pytest.mark.parametrize(
    "damage", [_rotten_index, _foreign_schema], ids=["rotten-index-page", "foreign-schema"]
)
def test_store_failing_after_open_does_not_stop_the_download(
    server: DevServer, out_dir: Path, damage: object
) -> None:
    damage(_store())  # type: ignore[operator]
    _, err = _download(server, out_dir)
    assert "resume" in err.lower() and "warning" in err.lower()


def test_stream_mode_ignores_the_store(server: DevServer) -> None:
    store = _store()
    _garbage(store)
    before = store.read_bytes()
    url = server.add("r.bin", DATA)
    proc = cli("-s", url, "-q", "-t", "4")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert sha256(proc.stdout) == sha256(DATA)
    assert store.read_bytes() == before  # stream mode neither reads nor rewrites it
