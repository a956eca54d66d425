"""``Download.running``: the end state of one run, the same rule on disk and in a stream.

Done when every byte is where it belongs; FAILED with the error's line; a cancelled disk
download PAUSED (its ``.part`` waits for the next run), a stream whose reader went away
CANCELLED (nothing to resume). The host's connections are given back in every case.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.engine.stream import stream_blocks
from hydra_tui.errors import HydraError
from tests.support.helpers import file_sha256, payload, run, sha256

MiB = 1024 * 1024


def _leases(dl: Download) -> int:
    """Connections this download still counts into its host's ceiling."""
    return dl.gate._leases.get(id(dl), 0)  # the ceiling's own book


def test_disk_done_then_cancelled_is_paused_and_resumes(server: DevServer, tmp_path: Path) -> None:
    data = payload(4 * MiB + 3, seed=7)
    url = server.add("life.bin", data, Faults(rate=MiB))  # ~1 s a connection: cancellable
    opts = DownloadOptions(output_dir=tmp_path, threads=2, chunk_size=256 * 1024)

    async def cancel_midway() -> Download:
        async with EngineContext(opts, state_dir=tmp_path / "state") as ctx:
            dl = Download(ctx, url, opts)
            task = asyncio.create_task(download_to_disk(dl))
            while dl.received < 256 * 1024:
                await asyncio.sleep(0.01)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return dl

    dl = run(cancel_midway())
    assert dl.state is DownloadState.PAUSED
    assert _leases(dl) == 0
    assert (tmp_path / "life.bin.part").exists() and not (tmp_path / "life.bin").exists()

    async def again() -> Download:
        async with EngineContext(opts, state_dir=tmp_path / "state") as ctx:
            dl = Download(ctx, url, opts)
            await download_to_disk(dl)
            return dl

    dl = run(again())
    assert dl.state is DownloadState.DONE
    assert file_sha256(tmp_path / "life.bin") == sha256(data)
    # sampled every half second while the body ran (~2 s at 2 x 1 MiB/s), once at the end
    times = [s.t for s in dl.snapshot().history]
    assert len(times) >= 3 and times == sorted(times)
    assert any(s.bytes_per_s > 0 for s in dl.snapshot().history)


def test_a_stream_is_sampled_while_it_runs_and_at_its_end(server: DevServer) -> None:
    data = payload(3 * MiB, seed=9)
    server.add("sampled.bin", data)
    url = server.url("sampled.bin", rate=MiB)  # a query the name must not keep
    opts = DownloadOptions(threads=2, chunk_size=256 * 1024)

    async def read_all() -> tuple[Download, str]:
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            got = bytearray()
            async for block in stream_blocks(dl):
                for piece in block:
                    got += piece
            return dl, sha256(bytes(got))

    dl, digest = run(read_all())
    assert digest == sha256(data)
    assert dl.state is DownloadState.DONE
    assert dl.name == "sampled.bin"  # the one name rule, as on disk (not "...?rate=")
    history = dl.snapshot().history
    assert len(history) >= 3
    assert history[-1].t >= 1.0  # the last sample is the end's, after ~1.5 s of body


def test_a_stream_whose_reader_goes_away_is_cancelled(server: DevServer) -> None:
    data = payload(4 * MiB, seed=8)
    url = server.add("gone.bin", data)
    opts = DownloadOptions(threads=2, chunk_size=256 * 1024)

    async def read_a_little() -> tuple[Download, bytes]:
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            first = b""
            async with contextlib.aclosing(stream_blocks(dl)) as blocks:
                async for block in blocks:
                    first = b"".join(block)
                    break  # the reader goes away
            return dl, first

    dl, first = run(read_a_little())
    assert dl.state is DownloadState.CANCELLED
    assert _leases(dl) == 0
    assert first and data.startswith(first)  # what was read is the file's start


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_a_failure_is_failed_with_its_line(server: DevServer, tmp_path: Path, mode: str) -> None:
    url = server.url("missing.bin")
    opts = DownloadOptions(output_dir=tmp_path, retries=0)

    async def fail() -> tuple[Download, str]:
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            with pytest.raises(HydraError) as caught:
                if mode == "disk":
                    await download_to_disk(dl)
                else:
                    async for _ in stream_blocks(dl):
                        pass
            return dl, str(caught.value)

    dl, line = run(fail())
    assert dl.state is DownloadState.FAILED
    assert dl.error == line and "404" in line
    assert _leases(dl) == 0
    assert not any(tmp_path.iterdir())
