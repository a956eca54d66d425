"""``ThreadedBackend`` (the download manager on its own loop thread) and ``ProcessBackend``
(in its own process), each steered from another loop as the TUI does. Real downloads
from the devserver, checked by sha256."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.backends.process import ProcessBackend
from hydra_tui.engine.backends.threaded import ThreadedBackend
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from tests.support.backends import flock_is_free, options, until
from tests.support.helpers import file_sha256, payload, run, sha256

MiB = 1024 * 1024
Backend = ThreadedBackend | ProcessBackend
MakeBackend = Callable[[Path], Backend]


@pytest.fixture(params=["thread", "process"])
def make_backend(request: pytest.FixtureRequest) -> MakeBackend:
    """Each test runs on both backends: they must behave alike."""
    kind = ThreadedBackend if request.param == "thread" else ProcessBackend
    return lambda state_dir: kind(state_dir=state_dir)


def test_downloads_pause_resume_and_finish_byte_identical(
    server: DevServer, tmp_path: Path, make_backend: MakeBackend
) -> None:
    data = payload(6 * MiB + 3, seed=31)
    url = server.add("t.bin", data, Faults(rate=2 * MiB))
    out = tmp_path / "out"

    async def go() -> DownloadSnapshot:
        backend = make_backend(tmp_path / "state")
        engine = asyncio.create_task(backend.run())
        control = backend.add(url, options(out))
        await until(backend, control.id, lambda s: s.done > MiB, 30)
        control.pause()
        paused = await until(backend, control.id, lambda s: s.state is DownloadState.PAUSED, 10)
        assert paused.done < len(data)
        control.resume()
        done = await until(backend, control.id, lambda s: s.state.finished, 60)
        engine.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine
        return done

    snap = run(go())
    assert snap.state is DownloadState.DONE, snap.error
    assert file_sha256(out / "t.bin") == sha256(data)
    assert snap.resumed_bytes > 0  # the resume went through the resume store


def test_cancelling_run_waits_for_the_engine_to_close_its_files(
    server: DevServer, tmp_path: Path, make_backend: MakeBackend
) -> None:
    data = payload(8 * MiB, seed=32)
    url = server.add("slow.bin", data, Faults(rate=MiB))
    out = tmp_path / "out"
    backend = make_backend(tmp_path / "state")

    async def go() -> None:
        engine = asyncio.create_task(backend.run())
        control = backend.add(url, options(out))
        await until(backend, control.id, lambda s: s.done > 0, 30)
        engine.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine

    run(go())
    part = out / "slow.bin.part"
    assert part.exists()
    assert flock_is_free(part)  # the engine let go of the .part
    assert not [t for t in threading.enumerate() if t.name == "hydra-engine"]
    if isinstance(backend, ProcessBackend):
        assert backend.process is not None
        assert backend.process.exitcode == 0  # it stopped when asked, not killed


def test_controls_of_removed_entries_are_harmless(
    server: DevServer, tmp_path: Path, make_backend: MakeBackend
) -> None:
    url = server.add("r.bin", payload(MiB, seed=33), Faults(rate=MiB // 4))
    backend = make_backend(tmp_path / "state")

    async def go() -> list[str]:
        engine = asyncio.create_task(backend.run())
        control = backend.add(url, options(tmp_path / "out"))
        backend.remove(control.id)
        control.pause()  # posted after the remove: must not raise on the engine thread
        control.set_threads(2)
        kept = backend.add(url, options(tmp_path / "out2"))
        await until(backend, kept.id, lambda s: s.state.finished, 30)
        ids = [s.id for s in backend.snapshots()]
        engine.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine
        return ids

    assert run(go()) == [backend.controls()[0].id]
    assert file_sha256(tmp_path / "out2" / "r.bin") == sha256(payload(MiB, seed=33))
