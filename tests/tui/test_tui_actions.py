"""Every action reaches the backend with the right call; errors become notifications."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.style import Style
from textual.command import CommandPalette
from textual.widgets import Button, Input, Label, Log

from hydra_tui.engine.backends.fake import PreviewBackend, demo_backend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.errors import HydraError
from hydra_tui.tui import HydraApp
from hydra_tui.tui.screens import AddUrlScreen, LogScreen, MainScreen, RateLimitScreen
from hydra_tui.tui.widgets import QueueTable
from tests.support.pilot import SIZE, notifications, select

pytestmark = pytest.mark.anyio


def control_calls(backend: PreviewBackend) -> list[tuple[object, ...]]:
    return [c for c in backend.calls if c[0] != "add"]


#: (key, selected download, the call the backend must receive)
KEY_CASES = [
    ("p", "ubuntu", ("pause", "ubuntu")),
    ("r", "dataset", ("resume", "dataset")),
    ("c", "ubuntu", ("cancel", "ubuntu")),
    ("x", "debian", ("cancel", "debian")),  # queued: no question (running: see confirm)
    ("t", "missing", ("retry", "missing")),
    ("R", "missing", ("retry", "missing")),
    ("plus", "dataset", ("set_threads", "dataset", 5)),
    ("equals_sign", "dataset", ("set_threads", "dataset", 6)),
    ("minus", "debian", ("set_threads", "debian", 7)),
    ("d", "notes", ("remove", "notes")),
    ("delete", "missing", ("remove", "missing")),
]


async def test_each_key_calls_backend() -> None:
    """One session walks through every steering key (cheaper than an app per key)."""
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        for key, target, call in KEY_CASES:
            await select(pilot, app, target)
            before = len(backend.calls)
            await pilot.press(key)
            await pilot.pause()
            assert backend.calls[before:] == [call], key


async def test_pause_shows_in_queue_and_remove_drops_row() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(QueueTable)
        await pilot.press("p")
        assert "paused" in str(table.get_cell("ubuntu", "state"))
        rows = table.row_count
        await pilot.press("d")
        await pilot.pause()
        assert table.row_count == rows - 1
        assert table.selected_id == "dataset"


async def test_plus_twice_raises_twice_and_minus_stops_at_one() -> None:
    backend = demo_backend()
    backend.update("ubuntu", max_window=0)  # the engine has not said yet: use the options
    backend.get("ubuntu")._options = DownloadOptions(threads=2)
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "plus", "minus", "minus", "minus", "minus")
        await pilot.pause()
        assert control_calls(backend) == [
            ("set_threads", "ubuntu", 3),
            ("set_threads", "ubuntu", 4),
            ("set_threads", "ubuntu", 3),
            ("set_threads", "ubuntu", 2),
            ("set_threads", "ubuntu", 1),
        ]
        assert any("Already at 1" in n[2] for n in notifications(app))


async def test_add_modal_adds_with_options(tmp_path: Path) -> None:
    backend = PreviewBackend()
    app = HydraApp(backend, default_options=DownloadOptions(threads=6))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, AddUrlScreen)
        await pilot.press(*"https://")  # typing reaches the focused URL field
        url = app.screen.query_one("#url", Input)
        assert url.value == "https://"
        url.value += "example.org/f.iso"
        app.screen.query_one("#output", Input).value = str(tmp_path)
        app.screen.query_one("#threads", Input).value = "4"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert backend.calls == [
            (
                "add",
                "https://example.org/f.iso",
                DownloadOptions(threads=4, output_dir=tmp_path),
                None,
                False,
            )
        ]
        table = app.screen.query_one(QueueTable)
        assert table.selected_id == "dl1"


async def test_add_modal_resolves_preset_and_shows_errors_inline() -> None:
    backend = PreviewBackend()
    presets = {"fast": DownloadOptions(threads=16, limit_rate=None)}

    def resolve(name: str) -> DownloadOptions:
        return presets[name]

    app = HydraApp(backend, resolve_preset=resolve)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        screen = app.screen
        screen.query_one("#url", Input).value = "ftp://nope"
        screen.query_one("#threads", Input).value = "999"
        screen.query_one("#preset", Input).value = "slow"
        await pilot.click("#add")
        await pilot.pause()
        assert app.screen is screen
        errors = {f: screen.query_one(f"#{f}-error", Label) for f in ("url", "threads", "preset")}
        assert all(label.has_class("-shown") for label in errors.values())
        assert "http" in str(errors["url"].render())
        assert "slow" in str(errors["preset"].render())
        assert backend.calls == []
        screen.query_one("#url", Input).value = "https://example.org/a"
        screen.query_one("#threads", Input).value = ""
        screen.query_one("#preset", Input).value = "fast"
        # a Button ignores clicks while its 0.2 s press effect from the first click
        # lasts; pressing it directly is the same message without the debounce
        screen.query_one("#add", Button).press()
        await pilot.pause()
        assert backend.calls == [
            ("add", "https://example.org/a", DownloadOptions(threads=16), None, False)
        ]


async def test_add_modal_escape_adds_nothing() -> None:
    backend = PreviewBackend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "escape")
        assert isinstance(app.screen, MainScreen)
        assert backend.calls == []


async def test_rate_limit_modal() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        assert isinstance(app.screen, RateLimitScreen)
        await pilot.press("x", "enter")  # not a rate: stays open with an error
        assert isinstance(app.screen, RateLimitScreen)
        assert app.screen.query_one("#limit-error").has_class("-shown")
        app.screen.query_one(Input).value = "5M"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("l", "enter")  # empty: unlimited
        await pilot.pause()
        await pilot.press("l", "escape")  # cancelled: no call
        await pilot.pause()
        assert control_calls(backend) == [
            ("set_rate_limit", "ubuntu", 5 * 2**20),
            ("set_rate_limit", "ubuntu", None),
        ]


async def test_log_screen_shows_tail(tmp_path: Path) -> None:
    log_file = tmp_path / "hydra.log"
    log_file.write_text("".join(f"line {i}\n" for i in range(100)))
    app = HydraApp(PreviewBackend(), log_path=log_file)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, LogScreen)
        log = app.screen.query_one(Log)
        assert log.lines[-1] == "line 99"
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_log_screen_without_log() -> None:
    app = HydraApp(PreviewBackend(), log_path=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("L")
        await pilot.pause()
        assert "No log file" in app.screen.query_one(Log).lines[0]


async def test_quit_key_exits_with_zero() -> None:
    app = HydraApp(demo_backend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_command_palette_runs_actions() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert CommandPalette.is_open(app)
        await pilot.press(*"Pause download")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert control_calls(backend) == [("pause", "ubuntu")]


async def test_action_on_empty_queue_warns() -> None:
    backend = PreviewBackend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert backend.calls == []
        assert notifications(app)[-1][0] == "warning"


async def test_backend_errors_become_notifications() -> None:
    backend = demo_backend()
    backend.fail_on["pause"] = HydraError("engine says no")
    backend.fail_on["remove"] = KeyError("gone")
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "d", "r")  # the pause failed: d asks first, r removes
        await pilot.pause()
        shown = notifications(app)
        assert any(sev == "error" and "engine says no" in msg for sev, _, msg in shown)
        assert any(sev == "error" and "gone" in msg for sev, _, msg in shown)
        assert app.is_running


async def test_engine_failure_is_notified() -> None:
    class Broken(PreviewBackend):
        async def run(self) -> None:
            raise HydraError("[Errno 28] disk full")

    app = HydraApp(Broken())
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("disk full" in msg for _, _, msg in notifications(app))
        assert app.is_running


async def test_engine_runs_as_worker() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert backend.running
        assert [w.group for w in app.workers] == ["engine"]
    assert not backend.running


async def test_notifies_on_finish_and_failure() -> None:
    backend = demo_backend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert notifications(app) == []  # states at start are not transitions
        backend.update("ubuntu", state=DownloadState.DONE, done=backend.get("ubuntu").snap.size)
        backend.update("debian", state=DownloadState.FAILED, error="HTTP 404 Not Found")
        app.tick()
        await pilot.pause()
        shown = notifications(app)
        assert ("information", "Download finished", "ubuntu-24.04-desktop-amd64.iso") in shown
        assert ("error", "debian-12.5.0-amd64-netinst.iso failed", "HTTP 404 Not Found") in shown
        app.tick()  # no repeats
        await pilot.pause()
        assert len(notifications(app)) == 2


async def test_notifies_quick_download_seen_first_as_done() -> None:
    backend = PreviewBackend()
    app = HydraApp(backend)
    async with app.run_test(size=SIZE) as pilot:
        backend.add("https://example.org/tiny.txt", DownloadOptions())
        backend.update("dl1", state=DownloadState.DONE)
        app.tick()
        await pilot.pause()
        assert ("information", "Download finished", "tiny.txt") in notifications(app)


async def test_theme_change_recolours_queue() -> None:
    app = HydraApp(demo_backend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(QueueTable)
        row = table.get_row_index("dataset") + 1  # below the header; not the cursor row

        def state_style() -> Style | None:
            strip = table.render_line(row)
            return next(s.style for s in strip if s.text.strip() == "paused")

        before = state_style()
        app.theme = "nord"
        await pilot.pause()
        after = state_style()
        assert table.get_cell("dataset", "state") == "paused"
        assert before is not None and after is not None
        assert before.color != after.color


@pytest.mark.parametrize(("final", "code"), [(DownloadState.DONE, 0), (DownloadState.FAILED, 1)])
async def test_exit_when_done_quits_once_the_queue_has_finished(
    final: DownloadState, code: int
) -> None:
    backend = PreviewBackend()
    backend.add("https://example.org/a.bin", DownloadOptions())
    backend.add("https://example.org/b.bin", DownloadOptions())
    app = HydraApp(backend, exit_when_done=True)
    async with app.run_test(size=SIZE) as pilot:
        backend.update("dl1", state=DownloadState.DONE)
        app.tick()
        await pilot.pause()
        assert app.is_running  # dl2 is still queued
        backend.update("dl2", state=final)
        app.tick()
        await pilot.pause()
    assert app.return_value == code
