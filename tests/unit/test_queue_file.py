"""The queue file (the TUI's and the service's): round trips, atomic writes, files of
earlier versions, and corrupt files set aside instead of crashing."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from hydra_tui.engine.io.checksums import ChecksumList
from hydra_tui.engine.io.queue_file import (
    QueueStore,
    SavedEntry,
    options_from_json,
    options_to_json,
)
from hydra_tui.engine.mirrors.metalink import MetalinkFile
from hydra_tui.engine.options import DownloadOptions

URL = "https://example.org/f"
#: files as the release before the one codec wrote them
FILES = Path(__file__).parent / "queue_files"


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


#: a value unlike the default for every field the queue file keeps
EVERY_FIELD = {
    "threads": 3,
    "auto_threads": True,
    "output_dir": Path("/some/dir"),
    "filename": "f.bin",
    "buffer": 1024,
    "limit_rate": 5000,
    "retries": 2,
    "connect_timeout": 1.5,
    "stall_timeout": 3.0,
    "backoff_base": 0.5,
    "backoff_max": 9.0,
    "headers": (("A", "1"), ("B", "2")),
    "user_agent": "ua",
    "md5": "0" * 32,
    "sha256": "1" * 64,
    "checksum_list": ChecksumList("SUMS", (("f.bin", "sha256", "ab" * 32), ("g", "md5", "0" * 32))),
    "chunk_size": 4096,
    "verify_tls": False,
    "ca_file": Path("/ca.pem"),
    "raw_http": False,
    "proxy": "http://127.0.0.1:3128",
    "limit_rate_total": 9000,
    "log_requests": True,
    "speed_limit": 10,
    "speed_time": 5.0,
    "url_cmd": "presign f.bin",
    "accept_html": True,
    "mirrors": ("http://127.0.0.1:9/m/f.bin",),
}


def test_every_option_but_a_metalinks_object_survives_the_file() -> None:
    """A new ``DownloadOptions`` field fails here until the file keeps it (a field the
    encoder does not know made every save raise: the service died of ``--checksum-file``)."""
    kept = {f.name for f in fields(DownloadOptions)} - {"metalink"}
    assert set(EVERY_FIELD) == kept
    options = DownloadOptions(**EVERY_FIELD)  # type: ignore[arg-type]
    assert all(getattr(options, k) != getattr(DownloadOptions(), k) for k in EVERY_FIELD)
    data = json.loads(json.dumps(options_to_json(options)))
    assert options_from_json(data) == options


@pytest.mark.parametrize(
    "bad",
    [
        {"source": "SUMS"},
        {"source": 1, "entries": []},
        {"source": "SUMS", "entries": [["f", "sha256"]]},
        {"source": "SUMS", "entries": [["f", "rot13", "00"]]},
        {"source": "SUMS", "entries": [["f", "md5", "not hex"]]},
    ],
)
def test_a_damaged_checksum_list_sets_the_file_aside(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "queue.json"
    entry = {"id": "q1", "url": URL, "state": "queued", "options": {"checksum_list": bad}}
    path.write_text(json.dumps({"version": 1, "entries": [entry]}))
    store = QueueStore(path)
    assert store.load() == []
    assert path.with_name("queue.json.corrupt").exists()


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


def test_a_tui_queue_file_of_the_release_before_loads(tmp_path: Path) -> None:
    # written by tui/queue_store.py before the TUI and the service shared this codec
    path = tmp_path / "queue.json"
    path.write_bytes((FILES / "tui-queue-v1.json").read_bytes())
    store = QueueStore(path)
    folder = Path("/home/u/Downloads")
    assert store.load() == [
        SavedEntry(
            "dl1",
            "http://127.0.0.1:9/f.iso",
            DownloadOptions(
                threads=2,
                output_dir=folder,
                headers=(("X-Key", "1"),),
                url_cmd="presign f.iso",
                mirrors=("http://127.0.0.1:9/m1/f.iso", "http://127.0.0.1:9/m2/f.iso"),
            ),
            "paused",
        ),
        SavedEntry(
            "dl2",
            "http://127.0.0.1:9/g.iso",
            DownloadOptions(output_dir=folder),
            "done",
            name="g.iso",
            path="/home/u/Downloads/g.iso",
            size=3,
            done=3,
            etag='"x"',
            checksum="sha256:ab",
        ),
    ]
    assert store.warnings == []


def test_mirrors_come_back_as_a_tuple_and_a_metalink_is_not_kept(tmp_path: Path) -> None:
    mirrors = ("http://127.0.0.1:9/m1/f.iso", "http://127.0.0.1:9/m2/f.iso")
    metalink = MetalinkFile("f.iso", None, mirrors, size=3)
    entry = SavedEntry("a", URL, DownloadOptions(mirrors=mirrors, metalink=metalink))
    store = QueueStore(tmp_path / "q.json")
    assert store.save([entry])
    (back,) = QueueStore(tmp_path / "q.json").load()
    assert back.options == DownloadOptions(mirrors=mirrors)
