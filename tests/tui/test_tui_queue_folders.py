"""Issue 19 item 3: the saved queue keeps absolute output folders. Quit mid-download in
folder A with a relative ``-o``, start again in folder B: the download resumes into
``A/out`` (it used to start from 0 % in ``B/out`` and orphan ``A/out/NAME.part``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_tui_real_engine import exited, until

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.backends.process import ProcessBackend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.tui import HydraApp, QueueStore
from hydra_tui.tui.widgets.detail_pane import fact_rows
from tests.support.helpers import file_sha256, payload, sha256
from tests.support.pilot import SIZE

pytestmark = pytest.mark.anyio
MiB = 1024 * 1024


async def test_a_queue_saved_in_one_folder_resumes_from_another(
    server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = payload(6 * MiB + 7, seed=1912)
    url = server.add("q.bin", data, Faults(rate=MiB // 2))  # per connection: ~3 s in all
    a, b = tmp_path / "site" / "A", tmp_path / "site" / "B"
    a.mkdir(parents=True)
    b.mkdir()
    resume, store = tmp_path / "resume", tmp_path / "state" / "queue.json"
    opts = DownloadOptions(output_dir=Path("out"), threads=4, chunk_size=MiB)

    monkeypatch.chdir(a)
    first = ProcessBackend(state_dir=resume)
    app = HydraApp(first, queue_store=QueueStore(store), initial=[(url, opts)])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(s.done > MiB for s in first.snapshots()))
        [live] = first.snapshots()
        assert ("Folder", str(a / "out"), "") in fact_rows(live)
        await pilot.press("q")
    assert await exited(first) == 0
    [saved] = json.loads(store.read_text())["entries"]
    assert saved["options"]["output_dir"] == str(a / "out")

    monkeypatch.chdir(b)
    second = ProcessBackend(state_dir=resume)
    app2 = HydraApp(second, queue_store=QueueStore(store))
    async with app2.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(s.state.finished for s in second.snapshots()), 60)
        [snap] = second.snapshots()
        await pilot.press("q")
    assert await exited(second) == 0
    assert snap.state is DownloadState.DONE, snap.error
    assert snap.resumed_bytes > MiB  # resumed into A's .part, not started over
    assert ("Folder", str(a / "out"), "") in fact_rows(snap)
    assert file_sha256(a / "out" / "q.bin") == sha256(data)
    assert sorted(p.name for p in (a / "out").iterdir()) == ["q.bin"]
    assert list(b.iterdir()) == []  # nothing was written in B
