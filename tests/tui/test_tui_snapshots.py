"""SVG snapshots of the main states, rendered from the frozen preview backend.

Regenerate after an intended UI change with ``pytest tests/tui --snapshot-update`` and look
at the SVGs (``screenshots/make_screenshots.py`` renders the same scenes for the README).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input

from hydra_tui.engine.backends.fake import PreviewBackend, demo_backend
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.tui import HydraApp

Compare = Callable[..., bool]
LARGE = (120, 40)


def test_empty_queue(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(PreviewBackend()), terminal_size=LARGE)


def test_downloading_with_chunk_map_and_graphs(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(demo_backend()), terminal_size=LARGE)


def test_paused(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(demo_backend()), press=["down"], terminal_size=LARGE)


def test_failed(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(demo_backend()), press=["down", "down"], terminal_size=LARGE)


def test_add_url_modal_with_error(snap_compare: Compare) -> None:
    async def type_bad_url(pilot: Pilot[int]) -> None:
        await pilot.press("a")
        pilot.app.screen.query_one("#url", Input).value = "example.org/file"
        await pilot.press("enter")

    assert snap_compare(HydraApp(demo_backend()), run_before=type_bad_url, terminal_size=LARGE)


def test_rate_limit_modal(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(demo_backend()), press=["l"], terminal_size=LARGE)


def test_small_terminal_80x24(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(demo_backend()), terminal_size=(80, 24))


def _row_truth() -> HydraApp:
    """A download waiting for its host, and one closing connections after ``-``."""
    backend = demo_backend()
    backend.update("ubuntu", active=8, window=5, max_window=5)
    backend.update("video", state=DownloadState.DOWNLOADING, waiting_for_host=True)
    return HydraApp(backend)


def test_rows_waiting_for_host_and_closing_connections(snap_compare: Compare) -> None:
    assert snap_compare(_row_truth(), terminal_size=LARGE)


def test_cancel_asks_first(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(demo_backend()), press=["c"], terminal_size=LARGE)


def test_remove_asks_first_and_offers_to_delete(snap_compare: Compare) -> None:
    assert snap_compare(HydraApp(demo_backend()), press=["d"], terminal_size=(80, 24))
