"""Rows tell the truth at a glance (issue 20): a download waiting for its host's
connections says so, a lowered ceiling shows its target at once (``10→7``), and the list,
the details and the graph speak of one speed in one format."""

from __future__ import annotations

import dataclasses

import pytest

from hydra_tui.engine.backends.fake import PreviewBackend, demo_backend
from hydra_tui.engine.backends.proxy import ProxyQueue
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState, RateSample
from hydra_tui.tui import HydraApp
from hydra_tui.tui.format import connections_text, eta_text, state_label
from hydra_tui.tui.widgets import QueueTable
from hydra_tui.tui.widgets.detail_pane import fact_rows
from tests.support.pilot import SIZE

pytestmark = pytest.mark.anyio
MiB = 1 << 20


def running(**changes: object) -> DownloadSnapshot:
    base = DownloadSnapshot(
        id="a", url="http://h/a.bin", state=DownloadState.DOWNLOADING, size=100 * MiB,
        done=0, active=0, window=8, max_window=8,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_download_waiting_for_its_host_says_so() -> None:
    waiting = running(waiting_for_host=True)
    assert state_label(waiting) == "waiting for host"
    assert connections_text(waiting) == ""  # not "0/8"
    assert eta_text(waiting) == ""  # not "--"
    assert ("Speed", "waiting for host", "") in fact_rows(waiting)
    assert state_label(running(active=3)) == "downloading"


def test_a_lowered_ceiling_shows_its_target_while_connections_close() -> None:
    closing = running(active=10, window=7, max_window=7)
    assert connections_text(closing) == "10→7"
    assert connections_text(running(active=5, window=7, max_window=7)) == "5/7"


class _Remote(ProxyQueue):
    def call(self, id: str, method: str, *args: object) -> None:
        self.calls.append((id, method, args))

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, tuple[object, ...]]] = []


def test_a_proxied_ceiling_change_shows_before_the_engine_answers() -> None:
    remote = _Remote()
    control = remote._new_control("http://h/a.bin", DownloadOptions(threads=10), "a")
    remote.published = {"a": running(active=10, window=10, max_window=10)}
    control.set_threads(7)
    assert remote.calls == [("a", "set_threads", (7,))]
    assert connections_text(control.snapshot()) == "10→7"
    # the engine's answer arrives: its own numbers from then on
    remote.published = {"a": running(active=8, window=7, max_window=7)}
    assert connections_text(control.snapshot()) == "8→7"
    remote.published = {"a": running(active=7, window=9, max_window=9)}
    assert control.snapshot().max_window == 9


async def test_list_details_and_graph_title_agree_on_speed() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        selected = table.selected_id
        assert selected is not None
        snap = backend.get(selected).snapshot()
        history = (*snap.history[:-1], RateSample(snap.history[-1].t, 1.0, 3, 3))
        backend.update(selected, speed=12.5 * MiB, history=history)
        app.tick()  # a tick between two full detail updates: the facts follow anyway
        await pilot.pause()
        assert table.get_cell(selected, "speed") == "12.5 MiB/s"
        facts = dict(
            (label, value) for label, value, _ in app.screen.query_one("#detail-info").facts
        )  # type: ignore[attr-defined]
        assert facts["Speed"].startswith("12.5 MiB/s")
        for _ in range(3):
            app.tick()
        await pilot.pause()
        graph = app.screen.query_one("#detail-rates")
        assert str(graph.border_title).startswith("Throughput 12.5 MiB/s")  # not the sample's


async def test_total_speed_stays_visible_at_80x24() -> None:
    app = HydraApp(demo_backend())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        subtitle = str(app.screen.query_one("#detail-info").border_subtitle)
        assert subtitle.startswith("all: ") and "MiB/s" in subtitle
    app = HydraApp(PreviewBackend())  # nothing running: nothing to say
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one("#detail-info").border_subtitle
