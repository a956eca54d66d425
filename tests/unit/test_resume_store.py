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
