"""What the engine tells the TUI's rows (issue 20): a download waiting for its host says
so, a lowered ceiling closes surplus connections at their next block boundary, and a
download whose bytes are all in is done at once, not when its idle workers wake up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.backends.manager import DownloadManager, ManagedDownload
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from tests.support.helpers import file_sha256, payload, run, sha256

MiB = 1 << 20


async def until(
    entry: ManagedDownload, cond: Callable[[DownloadSnapshot], bool], timeout: float = 30
) -> DownloadSnapshot:
    deadline = time.monotonic() + timeout
    while True:
        snap = entry.snapshot()
        if cond(snap):
            return snap
        assert time.monotonic() < deadline, f"timed out at {snap}"
        await asyncio.sleep(0.02)


def manager(tmp_path: Path) -> DownloadManager:
    return DownloadManager(max_active=4, state_dir=tmp_path / "state")


def test_a_download_behind_a_paused_host_is_waiting_for_host(
    server: DevServer, tmp_path: Path
) -> None:
    data = payload(2 * MiB, seed=71)
    server.add("b.bin", data)
    # every request for a.bin gets 503 with Retry-After: 4, which pauses the whole host
    busy = server.add("a.bin", b"x" * MiB, Faults(status_first=99, retry_after=4))
    out = tmp_path / "out"

    async def go() -> tuple[DownloadSnapshot, DownloadSnapshot]:
        m = manager(tmp_path)
        engine = asyncio.create_task(m.run())
        try:
            a = m.add(busy, DownloadOptions(output_dir=out, retries=1))
            await until(a, lambda s: s.retries > 0)  # its 503 paused the host
            b = m.add(server.url("b.bin"), DownloadOptions(output_dir=out))
            waiting = await until(b, lambda s: s.waiting_for_host or s.state.finished, 10)
            done = await until(b, lambda s: s.state.finished)
        finally:
            engine.cancel()
            await asyncio.gather(engine, return_exceptions=True)
        return waiting, done

    waiting, done = run(go())
    assert waiting.state in (DownloadState.PROBING, DownloadState.DOWNLOADING)
    assert waiting.active == 0
    assert done.state is DownloadState.DONE and not done.waiting_for_host
    assert file_sha256(out / "b.bin") == sha256(data)


def test_lowering_the_ceiling_closes_surplus_connections_at_a_block_boundary(
    server: DevServer, tmp_path: Path
) -> None:
    data = payload(32 * MiB, seed=72)
    url = server.add("s.bin", data, Faults(rate=MiB))  # per connection: 8 s per 8 MiB chunk
    out = tmp_path / "out"

    async def go() -> float:
        m = manager(tmp_path)
        engine = asyncio.create_task(m.run())
        entry = m.add(url, DownloadOptions(output_dir=out, threads=4, chunk_size=8 * MiB))
        await until(entry, lambda s: s.active == 4 and s.done > 2 * MiB)
        entry.set_threads(2)
        asked = time.monotonic()
        await until(entry, lambda s: s.active <= 2)
        closed = time.monotonic() - asked
        entry.set_threads(8)  # and finish quickly
        final = await until(entry, lambda s: s.state.finished, 60)
        engine.cancel()
        await asyncio.gather(engine, return_exceptions=True)
        assert final.state is DownloadState.DONE, final.error
        return closed

    closed = run(go())
    # a block is 1 MiB (1 s here); the rest of an 8 MiB chunk would be several seconds
    assert closed < 3.5, f"surplus connections took {closed:.1f} s to close"
    assert file_sha256(out / "s.bin") == sha256(data)


def test_a_download_is_done_once_its_bytes_are_in(server: DevServer, tmp_path: Path) -> None:
    """Two bodies at once: the third and fourth connections get 503 with Retry-After: 5,
    and their workers wait out the pause while the other two bring every byte."""
    data = payload(4 * MiB, seed=73)
    url = server.add("f.bin", data, Faults(rate=2 * MiB, max_bodies=2, retry_after=5))
    out = tmp_path / "out"

    async def go() -> float:
        m = manager(tmp_path)
        engine = asyncio.create_task(m.run())
        entry = m.add(url, DownloadOptions(output_dir=out, threads=4, chunk_size=2 * MiB))
        await until(entry, lambda s: s.size is not None and s.done >= s.size)
        all_in = time.monotonic()
        final = await until(entry, lambda s: s.state.finished)
        engine.cancel()
        await asyncio.gather(engine, return_exceptions=True)
        assert final.state is DownloadState.DONE, final.error
        return time.monotonic() - all_in

    after = run(go())
    assert after < 2.0, f"done {after:.1f} s after the last byte"
    assert file_sha256(out / "f.bin") == sha256(data)
