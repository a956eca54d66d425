"""``c`` and ``d`` ask before acting on a running download, ``D`` also deletes the files
it wrote (and only those), and ``[`` ``]`` ``!`` reorder the queue (issue 20)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.backends.fake import demo_backend
from hydra_tui.engine.backends.manager import DownloadManager
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui import HydraApp
from hydra_tui.tui.screens import ConfirmScreen, MainScreen
from hydra_tui.tui.widgets import QueueTable
from tests.support.helpers import file_sha256, payload, run, sha256
from tests.support.pilot import SIZE, select

pytestmark = pytest.mark.anyio
MiB = 1 << 20


async def test_cancel_asks_first_on_a_running_download() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "ubuntu")  # downloading
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert ("cancel", "ubuntu") not in backend.calls
        await pilot.press("c", "y")
        assert backend.calls[-1] == ("cancel", "ubuntu")
        await select(pilot, app, "dataset")  # paused: nothing to interrupt, no question
        await pilot.press("c")
        assert isinstance(app.screen, MainScreen)
        assert backend.calls[-1] == ("cancel", "dataset")


async def test_remove_asks_first_on_a_running_download_and_can_delete_files() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "ubuntu")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert not [c for c in backend.calls if c[0] == "remove"]
        await pilot.press("d", "r")
        assert backend.calls[-1] == ("remove", "ubuntu")
        await select(pilot, app, "dataset")
        await pilot.press("d")  # paused: d removes at once (its files are kept)
        assert isinstance(app.screen, MainScreen)
        assert backend.calls[-1] == ("remove", "dataset")
        await select(pilot, app, "notes")
        await pilot.press("D")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("D")
        assert backend.calls[-1] == ("remove", "notes", "delete files")


async def test_reorder_and_download_next() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(QueueTable)
        await select(pilot, app, "video")
        await pilot.press("exclamation_mark")
        assert backend.calls[-1] == ("move", "video", 0)
        await pilot.pause()
        assert table.get_row_index("video") == 0
        assert table.selected_id == "video"  # the cursor follows it
        await pilot.press("right_square_bracket")
        assert backend.calls[-1] == ("move", "video", 1)
        await pilot.press("left_square_bracket")
        assert backend.calls[-1] == ("move", "video", 0)
        await pilot.press("left_square_bracket")  # already first: nothing to do
        assert backend.calls[-1] == ("move", "video", 0)
        assert [c for c in backend.calls if c[0] == "move"] == [
            ("move", "video", 0),
            ("move", "video", 1),
            ("move", "video", 0),
        ]


async def _until(
    get: Callable[[], DownloadSnapshot], cond: Callable[[DownloadSnapshot], bool]
) -> DownloadSnapshot:
    deadline = time.monotonic() + 30
    while not cond(snap := get()):
        assert time.monotonic() < deadline, snap
        await asyncio.sleep(0.02)
    return snap


def test_delete_files_removes_only_what_the_download_wrote(
    server: DevServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "f.bin"
    mine.write_bytes(b"the user's own file")  # the download must save as f.1.bin
    data = payload(MiB, seed=91)
    fast = server.add("f.bin", data)
    slow = server.add("s.bin", payload(8 * MiB, seed=92), Faults(rate=256 * 1024))

    async def go() -> None:
        m = DownloadManager(max_active=2, state_dir=tmp_path / "state")
        engine = asyncio.create_task(m.run())
        done = m.add(fast, DownloadOptions(output_dir=out))
        crawl = m.add(slow, DownloadOptions(output_dir=out))
        finished = await _until(done.snapshot, lambda s: s.state.finished)
        assert finished.state is DownloadState.DONE
        assert file_sha256(out / "f.1.bin") == sha256(data)
        # bytes count from the probe on, before the .part exists: wait for the file
        await _until(crawl.snapshot, lambda s: s.done > 0 and (out / "s.bin.part").exists())
        m.remove(crawl.id, delete_files=True)
        m.remove(done.id, delete_files=True)
        deadline = time.monotonic() + 10
        while (out / "s.bin.part").exists() or (out / "f.1.bin").exists():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        engine.cancel()
        await asyncio.gather(engine, return_exceptions=True)

    run(go())
    assert sorted(p.name for p in out.iterdir()) == ["f.bin"]
    assert mine.read_bytes() == b"the user's own file"


def test_a_download_moved_to_the_front_starts_next(
    server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    datas = {name: payload(MiB, seed=93 + i) for i, name in enumerate("abc")}
    urls = {name: server.add(f"{name}.bin", data) for name, data in datas.items()}
    hold = server.add("hold.bin", payload(2 * MiB, seed=99), Faults(rate=512 * 1024))

    async def go() -> None:
        m = DownloadManager(max_active=1, state_dir=tmp_path / "state")
        first = m.add(hold, DownloadOptions(output_dir=out))
        entries = [m.add(url, DownloadOptions(output_dir=out)) for url in urls.values()]
        engine = asyncio.create_task(m.run())
        await _until(first.snapshot, lambda s: s.state is DownloadState.DOWNLOADING)
        m.move(entries[2].id, 0)
        assert next(e.url for e in m.controls()) == urls["c"]
        for entry in entries:
            await _until(entry.snapshot, lambda s: s.state.finished)
        engine.cancel()
        await asyncio.gather(engine, return_exceptions=True)

    with caplog.at_level(logging.INFO, logger="hydra_tui.engine.backends.manager"):
        run(go())
    started = [r.getMessage().split(": ")[0] for r in caplog.records if "started" in r.getMessage()]
    # moved ahead of a and b: it starts as soon as the running one's slot frees
    assert started == [hold, urls["c"], urls["a"], urls["b"]]
    for name, data in datas.items():
        assert file_sha256(out / f"{name}.bin") == sha256(data)
