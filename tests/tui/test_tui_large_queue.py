"""A 1,000-entry queue stays responsive: key presses and ticks do not scale with its length."""

from __future__ import annotations

import time

import pytest

from hydra_tui.engine.backends.fake import many_backend
from hydra_tui.tui import HydraApp
from hydra_tui.tui.widgets import QueueTable
from tests.support.pilot import SIZE

pytestmark = pytest.mark.anyio


async def test_thousand_entries_keypress_round_trip() -> None:
    backend = many_backend(1000)
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        assert table.row_count == 1000

        start = time.perf_counter()
        for _ in range(10):
            await pilot.press("down")
        await pilot.press("end")
        await pilot.press("p")
        elapsed = time.perf_counter() - start
        assert backend.calls[-1] == ("pause", "q0999")
        # generous for loaded CI machines; an O(n) rebuild per key takes many seconds
        assert elapsed / 12 < 0.5, f"{elapsed / 12:.3f}s per key"

        start = time.perf_counter()
        for i in range(10):
            backend.update("q0000", done=i * 1000, speed=1000.0 + i)
            app.tick()
            await pilot.pause()
        per_tick = (time.perf_counter() - start) / 10
        assert per_tick < 0.25, f"{per_tick:.3f}s per tick"
