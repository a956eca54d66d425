"""The log screen (``L``) tells every download's story: start, finish, failure, cancel
and retry, not only concurrency and disk lines (issue 20)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Log

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.backends.threaded import ThreadedBackend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.tui import HydraApp
from hydra_tui.tui.screens import LogScreen
from tests.support.helpers import file_sha256, payload, sha256
from tests.support.pilot import SIZE

pytestmark = pytest.mark.anyio
MiB = 1 << 20


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "hydra-tui.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("hydra_tui")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield path
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    handler.close()


async def until(pilot: Pilot[int], cond: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_the_log_screen_shows_each_downloads_story(
    server: DevServer, tmp_path: Path, log_file: Path
) -> None:
    data = payload(MiB, seed=81)
    ok = server.add("ok.bin", data)
    missing = server.url("missing.bin")
    slow = server.add("slow.bin", payload(8 * MiB, seed=82), Faults(rate=256 * 1024))
    out = tmp_path / "out"
    options = DownloadOptions(output_dir=out, retries=0)
    backend = ThreadedBackend(max_active=3, state_dir=tmp_path / "state")
    app = HydraApp(backend, log_path=log_file)
    async with app.run_test(size=SIZE) as pilot:
        good = backend.add(ok, options)
        bad = backend.add(missing, options)
        crawl = backend.add(slow, options)
        await until(pilot, lambda: good.snapshot().state is DownloadState.DONE)
        await until(pilot, lambda: bad.snapshot().state is DownloadState.FAILED)
        await until(pilot, lambda: crawl.snapshot().done > 0)
        crawl.cancel()
        await until(pilot, lambda: crawl.snapshot().state is DownloadState.CANCELLED)
        bad.retry()
        await until(pilot, lambda: "retry" in log_file.read_text())
        await pilot.press("L")
        assert isinstance(app.screen, LogScreen)
        await pilot.pause()
        text = "\n".join(app.screen.query_one(Log).lines)
    assert file_sha256(out / "ok.bin") == sha256(data)
    for url, words in (
        (ok, ("started", "finished")),
        (missing, ("started", "failed: HTTP 404", "retry")),
        (slow, ("started", "cancelled")),
    ):
        for word in words:
            assert f"{url}: {word}" in text, (url, word, text)
