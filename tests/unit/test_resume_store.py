"""The resume store trusts unsynced ranges only within the boot that wrote them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra_tui.engine.io import resume
from hydra_tui.engine.io.resume import ResumeStore
from hydra_tui.engine.plan.ranges import RangeSet


def _save(store: ResumeStore, part: Path) -> None:
    store.save(
        part, url="http://h/f", size=1000, etag='"v1"', last_modified=None,
        durable=RangeSet([(0, 100)]), volatile=RangeSet([(0, 100), (200, 300)]),
    )  # fmt: skip


def test_volatile_ranges_survive_a_killed_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resume, "boot_id", lambda: "boot-A")
    store = ResumeStore(tmp_path / "r.sqlite3")
    _save(store, tmp_path / "f.part")
    store.close()
    record = ResumeStore(tmp_path / "r.sqlite3").load(tmp_path / "f.part")
    assert record is not None
    assert record.ranges == ((0, 100), (200, 300))


def test_after_a_reboot_only_synced_ranges_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resume, "boot_id", lambda: "boot-A")
    store = ResumeStore(tmp_path / "r.sqlite3")
    _save(store, tmp_path / "f.part")
    store.close()
    monkeypatch.setattr(resume, "boot_id", lambda: "boot-B")
    record = ResumeStore(tmp_path / "r.sqlite3").load(tmp_path / "f.part")
    assert record is not None
    assert record.ranges == ((0, 100),)


def test_unknown_boot_never_trusts_volatile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resume, "boot_id", lambda: None)
    store = ResumeStore(tmp_path / "r.sqlite3")
    _save(store, tmp_path / "f.part")
    record = store.load(tmp_path / "f.part")
    assert record is not None and record.ranges == ((0, 100),)
    assert record.same_remote(1000, '"v1"', None)
    assert not record.same_remote(1000, '"v2"', None)
    assert not record.same_remote(1001, '"v1"', None)
    store.forget(tmp_path / "f.part")
    assert store.load(tmp_path / "f.part") is None


def test_the_url_cmd_is_kept_and_found_by_the_url_as_given(tmp_path: Path) -> None:
    path = tmp_path / "state" / "r.sqlite3"
    store = ResumeStore(path)
    store.save(
        tmp_path / "f.part", url="http://h/f", size=1000, etag='"v1"', last_modified=None,
        durable=RangeSet([(0, 100)]), url_cmd="presign f",
    )  # fmt: skip
    record = store.load(tmp_path / "f.part")
    assert record is not None and record.url_cmd == "presign f"
    assert store.url_cmd_for("http://h/f") == "presign f"
    assert store.url_cmd_for("http://h/other") is None
    path.parent.chmod(0o770)  # a folder others may write: the command is not run
    assert store.url_cmd_for("http://h/f") is None
    path.parent.chmod(0o700)
    path.chmod(0o620)
    assert store.url_cmd_for("http://h/f") is None
    store.close()


def test_a_schema_3_store_keeps_its_ranges(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "r.sqlite3"
    store = ResumeStore(path)
    _save(store, tmp_path / "f.part")
    store.close()
    db = sqlite3.connect(path)  # back to the layout of schema 3: no url_cmd column
    db.execute("ALTER TABLE downloads DROP COLUMN url_cmd")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    store = ResumeStore(path)
    record = store.load(tmp_path / "f.part")
    assert record is not None and record.ranges[0] == (0, 100) and record.url_cmd is None
    store.close()
