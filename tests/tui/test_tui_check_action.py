"""Keys are Textual actions on the app, and ``check_action`` alone decides when they apply:
a refused key is dimmed in the footer, runs nothing, and says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette

from hydra_tui.engine.backends.fake import PreviewBackend, demo_backend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.tui import HydraApp, QueueStore, SavedEntry
from hydra_tui.tui.screens import MainScreen
from hydra_tui.tui.screens.main import ACTIONS
from hydra_tui.tui.widgets.key_bar import KeyBar
from tests.support.pilot import SIZE, notifications, select

pytestmark = pytest.mark.anyio

EMPTY = "The queue is empty: press a to add a URL."


def enabled_keys(app: HydraApp) -> dict[str, bool]:
    """The footer's keys and whether each is drawn enabled."""
    return {k.key: k.enabled for k in app.screen.query_one(KeyBar).keys}


def test_each_action_is_a_textual_action_and_no_command_string_is_left() -> None:
    for action in ACTIONS:
        assert callable(getattr(HydraApp, f"action_{action}", None)), action
    bound = {b.action for b in MainScreen.BINDINGS if not isinstance(b, tuple)}
    assert {f"app.{action}" for action in ACTIONS} <= bound
    assert not any("command(" in action for action in bound)
    assert not hasattr(HydraApp, "execute")
    assert not hasattr(MainScreen, "Command")


async def test_empty_queue_refuses_pause_dims_it_and_says_why() -> None:
    backend = PreviewBackend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.check_action("pause", ()) is None  # shown, but disabled
        assert app.check_action("add", ()) is True
        keys = enabled_keys(app)
        assert keys["p"] is False and keys["d"] is False
        assert keys["a"] is True and keys["L"] is True
        await pilot.press("p")
        await pilot.pause()
        assert backend.calls == []
        assert notifications(app)[-1] == ("warning", "", EMPTY)
        # the palette goes through the same rule
        await pilot.press("ctrl+p")
        await pilot.press(*"Pause download")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert not CommandPalette.is_open(app)
        assert backend.calls == []
        assert sum(n[2] == EMPTY for n in notifications(app)) == 2  # told again

        backend.add("https://example.org/a.iso", DownloadOptions())
        app.tick()
        await pilot.pause()
        assert app.check_action("pause", ()) is True
        assert enabled_keys(app)["p"] is True  # the footer followed
        await pilot.press("p")
        await pilot.pause()
        assert backend.calls[-1] == ("pause", "dl1")


async def test_finished_entry_from_the_queue_file_allows_only_retry_and_remove(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue.json"
    QueueStore(path).save(
        [SavedEntry("old", "https://example.org/a.iso", DownloadOptions(), "done", name="a.iso")]
    )
    backend = PreviewBackend()
    app = HydraApp(backend, queue_store=QueueStore(path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        refused = {a for a in ACTIONS if app.check_action(a, ()) is None}
        assert refused == set(ACTIONS) - {"add", "log", "retry", "remove"}
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # no dialog opened
        assert notifications(app)[-1] == ("information", "", "a.iso is done; t downloads it again.")
        await pilot.press("t")
        await pilot.pause()
        assert backend.calls[-1][:2] == ("add", "https://example.org/a.iso")
        assert app.check_action("limit", ()) is True  # live again: every key applies


async def test_save_preset_refused_without_a_place_to_save() -> None:
    app = HydraApp(demo_backend())  # no save_preset
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, "dataset")
        assert app.check_action("save_preset", ()) is None
        assert app.check_action("limit", ()) is True
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert notifications(app)[-1] == (
            "warning",
            "",
            "Saving presets is not available here.",
        )
