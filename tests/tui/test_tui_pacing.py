"""Which polls are drawn: all of them, or every third one while the process is busy."""

from __future__ import annotations

import itertools

import pytest

from hydra_tui.engine.backends.fake import demo_backend
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.tui import HydraApp
from hydra_tui.tui.pacing import BUSY_EVERY, Pacing
from hydra_tui.tui.screens import MainScreen
from tests.support.pilot import SIZE, notifications


class FakeClocks:
    """Wall time advances 0.1 s per poll; CPU time at ``share`` seconds per second."""

    def __init__(self, share: float) -> None:
        self.now = 0.0
        self.cpu = 0.0
        self.share = share

    def step(self) -> None:
        self.now += 0.1
        self.cpu += 0.1 * self.share

    def pacing(self) -> Pacing:
        return Pacing(window=0.3, clock=lambda: self.now, cpu_clock=lambda: self.cpu)


def drawn(clocks: FakeClocks, pacing: Pacing, polls: int) -> list[bool]:
    out = []
    for _ in range(polls):
        clocks.step()
        out.append(pacing.draw())
    return out


def test_an_idle_process_draws_every_poll() -> None:
    clocks = FakeClocks(share=0.2)
    assert drawn(clocks, clocks.pacing(), 20) == [True] * 20


def test_a_busy_process_draws_every_third_poll_and_recovers() -> None:
    clocks = FakeClocks(share=1.4)  # the engine and its I/O threads on 2 cores
    pacing = clocks.pacing()
    first = drawn(clocks, pacing, 2)
    assert first == [True, True]  # busy is judged over a whole window first
    assert not pacing.busy
    busy = drawn(clocks, pacing, 12)
    assert pacing.busy
    assert busy.count(True) == 12 // BUSY_EVERY == 4
    at = [i for i, d in enumerate(busy) if d]
    assert {b - a for a, b in itertools.pairwise(at)} == {BUSY_EVERY}  # evenly spaced
    clocks.share = 0.1  # the download ended
    calm = drawn(clocks, pacing, 9)
    assert not pacing.busy
    assert calm[-6:] == [True] * 6


def test_the_threshold_is_a_share_of_one_core() -> None:
    clocks = FakeClocks(share=0.74)
    pacing = clocks.pacing()
    drawn(clocks, pacing, 9)
    assert not pacing.busy
    clocks.share = 0.76
    drawn(clocks, pacing, 6)
    assert pacing.busy


@pytest.mark.anyio
async def test_busy_app_polls_every_time_but_draws_every_third(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clocks = FakeClocks(share=1.5)
    backend = demo_backend()
    app = HydraApp(backend, pacing=clocks.pacing(), poll_interval=3600)
    shows: list[int] = []
    original = MainScreen.show

    def counting(self: MainScreen, snapshots: object) -> None:
        shows.append(1)
        original(self, snapshots)  # type: ignore[arg-type]

    monkeypatch.setattr(MainScreen, "show", counting)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shows.clear()
        for _ in range(3):  # one window to notice the load
            clocks.step()
            app._poll()
        shows.clear()
        for _ in range(12):
            clocks.step()
            app._poll()
        assert len(shows) == 12 // BUSY_EVERY
        # a poll that is not drawn still notices transitions (polls 16 and 17: not drawn)
        backend.update("debian", state=DownloadState.FAILED, error="HTTP 404 Not Found")
        drawn_before = len(shows)
        for _ in range(2):
            clocks.step()
            app._poll()
            await pilot.pause()
        assert len(shows) == drawn_before
        assert ("error", "debian-12.5.0-amd64-netinst.iso failed", "HTTP 404 Not Found") in (
            notifications(app)
        )
        app.tick()  # a tick asked for by a key press is always drawn
        assert len(shows) == drawn_before + 1
