"""The queue survives a restart: same ids, paused stays paused, finished is not re-downloaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hydra_tui.engine.backends.fake import PreviewBackend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui import HydraApp, QueueStore, SavedEntry
from hydra_tui.tui.widgets import QueueTable
from tests.support.pilot import SIZE, notifications, select

pytestmark = pytest.mark.anyio

A = "https://example.org/a.iso"
B = "https://example.org/b.iso"
C = "https://example.org/c.iso"


async def test_restart_restores_queue(tmp_path: Path) -> None:
    path = tmp_path / "state" / "queue.json"
    opts_b = DownloadOptions(threads=3, output_dir=tmp_path / "out", headers=(("X-Key", "1"),))
    first = PreviewBackend()
    app1 = HydraApp(
        first,
        queue_store=QueueStore(path),
        initial=[(A, DownloadOptions()), (B, opts_b), (C, DownloadOptions())],
    )
    async with app1.run_test(size=SIZE) as pilot:
        await select(pilot, app1, "dl2")
        await pilot.press("p", "plus", "l")
        await pilot.press(*"2M", "enter")
        first.update("dl3", state=DownloadState.DONE, name="c.iso", size=10, done=10)
        app1.tick()
        await pilot.press("q")
    saved = json.loads(path.read_text())
    assert [(e["id"], e["state"]) for e in saved["entries"]] == [
        ("dl1", "queued"),
        ("dl2", "paused"),
        ("dl3", "done"),
    ]
    assert not list(path.parent.glob("*.tmp"))  # atomic writes leave no temp files

    second = PreviewBackend()
    app2 = HydraApp(second, queue_store=QueueStore(path), initial=[(A, DownloadOptions())])
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        restored_b = DownloadOptions(
            threads=4,  # the + pressed in the first session
            output_dir=tmp_path / "out",
            headers=(("X-Key", "1"),),
            limit_rate=2 * 2**20,  # the limit set in the first session
        )
        # saved with its folder made absolute (the next start may be elsewhere)
        here = DownloadOptions(output_dir=Path.cwd())
        # A was both saved and given again on the command line: added once
        assert second.calls == [
            ("add", A, here, "dl1", False),
            ("add", B, restored_b, "dl2", True),
        ]
        table = app2.screen.query_one(QueueTable)
        assert table.row_count == 3
        assert "done" in str(table.get_cell("dl3", "state"))
        assert "c.iso" in str(table.get_cell("dl3", "name"))
        # the finished entry can be downloaded again, with its id
        await select(pilot, app2, "dl3")
        await pilot.press("p")  # not in the engine: explained, not called
        assert len(second.calls) == 2
        await pilot.press("t")
        assert second.calls[-1] == ("add", C, here, "dl3", False)
        await pilot.press("d")  # now live: removed through the backend
        assert second.calls[-1] == ("remove", "dl3")
    saved = json.loads(path.read_text())
    assert [e["id"] for e in saved["entries"]] == ["dl1", "dl2"]


async def test_removing_archived_entry_forgets_it(tmp_path: Path) -> None:
    path = tmp_path / "queue.json"
    store = QueueStore(path)
    store.save(
        [SavedEntry("old", A, DownloadOptions(), "failed", name="a.iso", error="HTTP 410 Gone")]
    )
    backend = PreviewBackend()
    app = HydraApp(backend, queue_store=QueueStore(path))
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(QueueTable)
        assert "HTTP 410" in str(table.get_cell("old", "state"))
        await pilot.press("d")
        await pilot.pause()
        assert table.row_count == 0
    assert backend.calls == []
    assert json.loads(path.read_text())["entries"] == []


async def test_corrupt_queue_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "queue.json"
    path.write_text("{not json")
    backend = PreviewBackend()
    app = HydraApp(backend, queue_store=QueueStore(path), initial=[(A, DownloadOptions())])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any(sev == "warning" and "corrupt" in msg for sev, _, msg in notifications(app))
        assert [c[0] for c in backend.calls] == ["add"]
    assert (tmp_path / "queue.json.corrupt").read_text() == "{not json"
    assert json.loads(path.read_text())["entries"][0]["url"] == A


def test_entry_from_live_snapshot_keeps_only_what_matters() -> None:
    snap = DownloadSnapshot(id="x", url=A, state=DownloadState.DOWNLOADING, done=5, size=10)
    assert SavedEntry.from_snapshot(A, DownloadOptions(), snap) == SavedEntry(
        "x", A, DownloadOptions(output_dir=Path.cwd()), "queued"
    )
    done = DownloadSnapshot(
        id="x", url=A, state=DownloadState.DONE, name="a", size=10, done=10, etag='"e"'
    )
    entry = SavedEntry.from_snapshot(A, DownloadOptions(), done)
    assert entry.options.output_dir == Path.cwd()
    assert entry.finished
    assert entry.to_snapshot().state is DownloadState.DONE
    assert entry.to_snapshot().etag == '"e"'
