"""The app over the real engine in its own process (what ``hydra-tui URL`` runs): quit in
the middle of a download, start again, and the file completes byte-identical."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.backends.process import ProcessBackend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.tui import HydraApp, QueueStore
from tests.support.helpers import file_sha256, payload, sha256
from tests.support.pilot import SIZE

pytestmark = pytest.mark.anyio
MiB = 1024 * 1024


async def until(pilot: Pilot[int], cond: Callable[[], bool], timeout: float = 30) -> None:
    """Let the app run until ``cond`` holds (the engine answers ten times a second)."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def exited(backend: ProcessBackend, timeout: float = 20) -> int | None:
    """The engine process's exit code, once the app's shutdown has stopped it."""
    deadline = time.monotonic() + timeout
    process = backend.process
    assert process is not None
    while process.exitcode is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return process.exitcode


async def test_quit_mid_download_then_restart_resumes_byte_identical(
    server: DevServer, tmp_path: Path
) -> None:
    data = payload(6 * MiB + 5, seed=51)
    url = server.add("q.bin", data, Faults(rate=MiB // 2))  # per connection: ~3 s in all
    out, resume = tmp_path / "out", tmp_path / "resume"
    store = tmp_path / "state" / "queue.json"
    opts = DownloadOptions(output_dir=out, threads=4, chunk_size=MiB)

    first = ProcessBackend(state_dir=resume)
    app = HydraApp(first, queue_store=QueueStore(store), initial=[(url, opts)])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(s.done > MiB for s in first.snapshots()))
        assert first.engine_cpu > 0  # the app's pacing counts the engine's CPU time
        await pilot.press("q")
    assert await exited(first) == 0  # asked to stop, and it did: not killed
    assert (out / "q.bin.part").exists() and not (out / "q.bin").exists()

    second = ProcessBackend(state_dir=resume)
    app2 = HydraApp(second, queue_store=QueueStore(store))
    async with app2.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: any(s.state.finished for s in second.snapshots()), 60)
        [snap] = second.snapshots()
        await pilot.press("q")
    assert await exited(second) == 0
    assert snap.state is DownloadState.DONE, snap.error
    assert snap.resumed_bytes > MiB  # the second engine took up what the first had written
    assert file_sha256(out / "q.bin") == sha256(data)
