"""The screen's chrome: the header's status, the footer's keys and where toasts appear."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast
from tui_helpers import SIZE, notifications

from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.tui import HydraApp
from hydra_tui.tui.preview import demo_backend
from hydra_tui.tui.screens import AddUrlScreen
from hydra_tui.tui.widgets.footer import SteadyFooter, shown_bindings

pytestmark = pytest.mark.anyio


def header_text(app: HydraApp) -> str:
    return str(app.screen.query_one("HeaderTitle", Static).render())


async def test_header_shows_active_count_and_clears_it() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        busy = (DownloadState.PROBING, DownloadState.DOWNLOADING, DownloadState.VERIFYING)
        active = sum(s.state in busy for s in backend.snapshots())
        assert active > 0
        assert f"{active} active" in header_text(app)
        # the App's own sub_title (which repaints the whole screen) is left alone
        assert app.sub_title == ""
        for snap in backend.snapshots():
            backend.update(snap.id, state=DownloadState.PAUSED, speed=0.0)
        app.tick()
        await pilot.pause()
        text = header_text(app)
        assert "active" not in text
        assert "hydra-tui" in text


class FooterApp(App[None]):
    """One binding whose enabled state the test flips (shown dimmed when disabled)."""

    BINDINGS = [("x", "flip", "Flip"), ("y", "other", "Other")]

    def __init__(self) -> None:
        super().__init__()
        self.other_enabled = True
        self.recomposes = 0

    def compose(self) -> ComposeResult:
        yield SteadyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "other":
            return True if self.other_enabled else None
        return True

    def action_flip(self) -> None:
        self.other_enabled = not self.other_enabled
        self.refresh_bindings()


async def test_footer_rebuilds_once_at_start_and_only_when_keys_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = FooterApp()
    original = SteadyFooter.recompose

    async def counting(self: SteadyFooter) -> None:
        app.recomposes += 1
        await original(self)

    monkeypatch.setattr(SteadyFooter, "recompose", counting)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(SteadyFooter)
        # start-up sends several binding signals; one rebuild serves them all
        assert app.recomposes == 1
        assert [k.key for k in footer.query(FooterKey)][:2] == ["x", "y"]
        app.screen.refresh_bindings()  # a signal with nothing new: no rebuild
        app.screen.refresh_bindings()
        await pilot.pause()
        assert app.recomposes == 1
        await pilot.press("x")  # "Other" becomes disabled: the keys shown change
        await pilot.pause()
        assert app.recomposes == 2
        other = [k for k in footer.query(FooterKey) if k.key == "y"]
        assert len(other) == 1 and other[0].has_class("-disabled")
        assert footer._composed == shown_bindings(app.screen)


async def test_main_screen_footer_lists_the_actions() -> None:
    app = HydraApp(demo_backend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = {k.key for k in app.screen.query_one(SteadyFooter).query(FooterKey)}
        assert {"a", "p", "r", "q"} <= keys


async def test_notifications_wait_while_a_dialog_is_open() -> None:
    """At 80x24 a toast would cover the add dialog's buttons: it waits for the dialog."""
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        app.notify("shown before the dialog opened")
        await pilot.pause()
        assert [t.visible for t in app.screen.query(Toast)] == [True]
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AddUrlScreen)
        # the earlier toast is carried onto the dialog's screen, but not drawn over it
        assert [t.visible for t in app.screen.query(Toast)] == [False]
        backend.update("debian", state=DownloadState.FAILED, error="HTTP 404 Not Found")
        app.tick()
        await pilot.pause()
        assert len(notifications(app)) == 1
        await pilot.press("escape")
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert ("error", "debian-12.5.0-amd64-netinst.iso failed", "HTTP 404 Not Found") in (
            notifications(app)
        )
        assert [t.visible for t in app.screen.query(Toast)] == [True, True]
