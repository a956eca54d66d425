"""Small helpers for driving HydraApp under a Pilot."""

from __future__ import annotations

from textual.pilot import Pilot

from hydra_tui.tui import HydraApp
from hydra_tui.tui.widgets import QueueTable

SIZE = (120, 40)


def notifications(app: HydraApp) -> list[tuple[str, str, str]]:
    """(severity, title, message) of every notification shown so far."""
    return [(n.severity, n.title, n.message) for n in app._notifications]


async def select(pilot: Pilot[int], app: HydraApp, download_id: str) -> None:
    """Put the cursor on ``download_id`` the way a user would (arrow keys)."""
    table = app.screen.query_one(QueueTable)
    target = table.get_row_index(download_id)
    steps = target - table.cursor_row
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps))
    assert table.selected_id == download_id
