"""QueueStore: round trips, atomic writes, and corrupt files set aside instead of crashing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hydra_tui.engine.options import DownloadOptions
from hydra_tui.tui.queue_store import (
    QueueStore,
    SavedEntry,
    options_from_json,
    options_to_json,
)

URL = "https://example.org/f"


def test_options_round_trip_non_defaults() -> None:
    options = DownloadOptions(
        threads=3,
        auto_threads=True,
        output_dir=Path("some/dir"),
        filename="f.bin",
        buffer=1024,
        limit_rate=5000,
        retries=2,
        connect_timeout=1.5,
        stall_timeout=3,
        headers=(("A", "1"), ("B", "2")),
        user_agent="ua",
        md5="0" * 32,
        sha256=None,
        chunk_size=4096,
        verify_tls=False,
        ca_file=Path("ca.pem"),
    )
    data = json.loads(json.dumps(options_to_json(options)))
    assert options_from_json(data) == options
    assert options_from_json({}) == DownloadOptions()
    assert options_from_json({"threads": 2, "future_field": 1}) == DownloadOptions(threads=2)


def test_save_load_and_skip_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    entries = [
        SavedEntry("a", URL, DownloadOptions(threads=2), "paused"),
        SavedEntry("b", URL, DownloadOptions(), "done", name="f", size=3, done=3, etag='"x"'),
    ]
    store = QueueStore(path)
    assert store.save(entries)
    assert not store.save(entries)  # same content: no write
    assert QueueStore(path).load() == entries
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.json"]


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "q.json"
    store = QueueStore(path)
    store.save([SavedEntry("a", URL, DownloadOptions())])

    def boom(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        store.save([])
    monkeypatch.undo()
    assert [e.id for e in QueueStore(path).load()] == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.json"]


@pytest.mark.parametrize(
    "text",
    [
        "{broken",
        "[]",
        '{"version": 99, "entries": []}',
        '{"version": 1, "entries": {}}',
        '{"version": 1, "entries": [{"url": "u"}]}',
        '{"version": 1, "entries": [{"id": "a", "url": "u", "state": "zombie"}]}',
        '{"version": 1, "entries": [{"id": "a", "url": "u", "options": {"threads": "8"}}]}',
        '{"version": 1, "entries": [{"id": "a", "url": "u", "options": {"threads": true}}]}',
        '{"version": 1, "entries": [{"id": "a", "url": "u"}, {"id": "a", "url": "v"}]}',
    ],
)
def test_corrupt_file_is_set_aside(tmp_path: Path, text: str) -> None:
    path = tmp_path / "q.json"
    path.write_text(text)
    store = QueueStore(path)
    assert store.load() == []
    assert len(store.warnings) == 1
    assert not path.exists()
    assert (tmp_path / "q.json.corrupt").read_text() == text


def test_second_corrupt_file_gets_numbered(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    (tmp_path / "q.json.corrupt").write_text("older")
    path.write_text("nope")
    QueueStore(path).load()
    assert (tmp_path / "q.json.corrupt.1").read_text() == "nope"


def test_missing_file_is_empty_queue(tmp_path: Path) -> None:
    store = QueueStore(tmp_path / "none.json")
    assert store.load() == []
    assert store.warnings == []
