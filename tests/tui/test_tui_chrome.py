"""The screen's chrome: the header's status, the footer's keys and where toasts appear."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import CommandPalette
from textual.strip import Strip
from textual.widgets import Static
from textual.widgets._toast import Toast

from hydra_tui.engine.backends.fake import demo_backend
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.tui import HydraApp
from hydra_tui.tui.screens import AddUrlScreen
from hydra_tui.tui.widgets.key_bar import KeyBar
from tests.support.pilot import SIZE, notifications

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
    """Two actions (one with two keys) and a hidden one; the test flips one's state."""

    BINDINGS = [
        ("x,z", "flip", "Flip"),
        ("y", "other", "Other"),
        Binding("h", "hidden", "Hidden", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.other_enabled = True
        self.flips = 0

    def compose(self) -> ComposeResult:
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "other":
            return True if self.other_enabled else None
        return True

    def action_flip(self) -> None:
        self.flips += 1
        self.other_enabled = not self.other_enabled
        self.refresh_bindings()


def bar_text(bar: KeyBar) -> str:
    return bar.render_line(0).text


async def test_footer_shows_each_action_once_and_redraws_only_when_keys_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = FooterApp()
    builds = 0
    original = KeyBar._build

    def counting(self: KeyBar, width: int) -> Strip:
        nonlocal builds
        builds += 1
        return original(self, width)

    monkeypatch.setattr(KeyBar, "_build", counting)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        # one key per action (its first), hidden bindings left out, the palette on the right
        assert [k.key for k in bar.keys] == ["x", "y"]
        text = bar_text(bar)
        assert text.startswith("x Flip y Other ")
        assert text.rstrip().endswith("^p palette")
        assert len(text) == 80
        # start-up sends several binding signals; nothing new after the first draw
        first = builds
        app.screen.refresh_bindings()
        app.screen.refresh_bindings()
        await pilot.pause()
        assert builds == first
        await pilot.press("x")  # "Other" becomes disabled: drawn dim
        await pilot.pause()
        assert builds == first + 1
        other = bar.render_line(0).crop(7, 14)
        assert other.text == "y Other"
        assert all(seg.style is not None and seg.style.dim for seg in other)


async def test_footer_click_presses_the_key_and_narrow_bar_drops_the_palette() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        assert await pilot.click(KeyBar, offset=(2, 0))  # on "Flip"
        await pilot.pause()
        assert app.flips == 1
        assert await pilot.click(KeyBar, offset=(40, 0))  # on no key
        await pilot.pause()
        assert app.flips == 1
        assert await pilot.click(KeyBar, offset=(75, 0))  # on "palette", at the right end
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        await pilot.pause()
        bar.show_command_palette = False
        await pilot.pause()
        assert "palette" not in bar_text(bar)


async def test_main_screen_footer_lists_the_actions() -> None:
    app = HydraApp(demo_backend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = {k.key for k in app.screen.query_one(KeyBar).keys}
        assert {"a", "p", "r", "c", "t", "d", "plus", "l", "L", "q"} <= keys
        assert "+/- Conns" in bar_text(app.screen.query_one(KeyBar))


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
