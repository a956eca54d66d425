"""What only ``ProcessBackend`` can get wrong: its child dying, the UI dying, and the
engine's log records crossing the pipe. (Both backends share ``test_backends.py``.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.backends.process import ProcessBackend
from hydra_tui.engine.io.resume import ResumeStore
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.errors import HydraError
from tests.support.backends import flock_is_free, options, until
from tests.support.helpers import file_sha256, payload, run, sha256

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("sig", "reason", "exitcode"),
    [(signal.SIGKILL, "exit code -9", -9), (signal.SIGTERM, "it received SIGTERM", 0)],
)
def test_a_killed_engine_is_reported_and_a_new_one_resumes_byte_identical(
    server: DevServer, tmp_path: Path, sig: signal.Signals, reason: str, exitcode: int
) -> None:
    """SIGKILL: the app is told the engine died. SIGTERM (what multiprocessing sends a
    daemon child at exit, or anyone else): it winds down first, files closed."""
    data = payload(8 * MiB + 11, seed=41)
    url = server.add("k.bin", data, Faults(rate=MiB // 2))  # per connection: ~4 s in all
    out, state = tmp_path / "out", tmp_path / "state"

    async def kill_midway() -> str:
        backend = ProcessBackend(state_dir=state)
        engine = asyncio.create_task(backend.run())
        control = backend.add(url, options(out))
        # the engine checkpoints its resume store every second once a block is durable:
        # kill it after one such checkpoint (elapsed time alone races the block size)
        await until(backend, control.id, lambda s: _checkpointed(state, out / "k.bin.part"), 30)
        assert backend.process is not None and backend.process.pid is not None
        os.kill(backend.process.pid, sig)
        with pytest.raises(HydraError) as caught:
            await asyncio.wait_for(engine, 15)
        assert backend.process.exitcode == exitcode
        return str(caught.value)

    message = run(kill_midway())
    assert reason in message
    assert (out / "k.bin.part").exists() and not (out / "k.bin").exists()  # killed midway

    async def again() -> tuple[DownloadState, int]:
        backend = ProcessBackend(state_dir=state)
        engine = asyncio.create_task(backend.run())
        control = backend.add(url, options(out))
        snap = await until(backend, control.id, lambda s: s.state.finished, 60)
        engine.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine
        return snap.state, snap.resumed_bytes

    final, resumed = run(again())
    assert final is DownloadState.DONE
    assert resumed > 0  # picked up from the resume store the killed engine left
    assert file_sha256(out / "k.bin") == sha256(data)


def _checkpointed(state: Path, part: Path) -> bool:
    """Has the engine recorded durable ranges of ``part`` in its resume store yet?"""
    path = state / "resume.sqlite3"
    if not path.exists():
        return False
    store = ResumeStore(path)
    try:
        record = store.load(Path(os.path.realpath(part.parent)) / part.name)
        return record is not None and bool(record.ranges)
    finally:
        store.close()


UI_SCRIPT = """
import asyncio, sys
from pathlib import Path
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.backends.process import ProcessBackend
from hydra_tui.engine.io.resume import ResumeStore

async def main():
    backend = ProcessBackend(state_dir=Path(sys.argv[2]))
    engine = asyncio.create_task(backend.run())
    control = backend.add(sys.argv[1], DownloadOptions(output_dir=Path(sys.argv[3]), threads=4))
    while control.snapshot().done == 0:
        await asyncio.sleep(0.02)
    print(backend.process.pid, flush=True)
    await engine

asyncio.run(main())
"""


def gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie counts: a container's init may not reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_the_engine_winds_down_by_itself_when_the_ui_is_killed(
    server: DevServer, tmp_path: Path
) -> None:
    url = server.add("o.bin", payload(8 * MiB, seed=42), Faults(rate=MiB))
    out = tmp_path / "out"
    command = [sys.executable, "-c", UI_SCRIPT, url, str(tmp_path / "state"), str(out)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as ui:
        try:
            assert ui.stdout is not None
            engine_pid = int(ui.stdout.readline())  # the download is under way
        finally:
            ui.kill()  # no "stop" message, no atexit: the engine sees its pipe close
    deadline = time.monotonic() + 20
    while not gone(engine_pid):
        assert time.monotonic() < deadline, "the orphaned engine did not stop"
        time.sleep(0.05)
    assert (out / "o.bin.part").exists()
    assert flock_is_free(out / "o.bin.part")  # closed, not held by a stray process


def test_engine_log_records_reach_the_ui_process(
    server: DevServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = server.url("nothing-here.bin")

    async def go() -> str | None:
        backend = ProcessBackend(state_dir=tmp_path / "state")
        engine = asyncio.create_task(backend.run())
        control = backend.add(missing, options(tmp_path / "out"))
        # the answer that says "failed" carries the record too (both happened at once)
        snap = await until(backend, control.id, lambda s: s.state.finished, 30)
        engine.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine
        return snap.error

    with caplog.at_level(logging.WARNING, logger="hydra_tui"):
        error = run(go())
    assert error and "404" in error
    forwarded = [r for r in caplog.records if r.name == "hydra_tui.engine.backends.manager"]
    assert forwarded, caplog.records
    assert forwarded[0].getMessage() == f"{missing}: failed: {error}"
    assert forwarded[0].process != os.getpid()  # it was logged in the engine's process
