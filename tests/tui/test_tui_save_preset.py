"""Saving a download's settings as a preset from the TUI (``s``), end to end."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.widgets import Input

from hydra_tui.cli.tui_launch import preset_values
from hydra_tui.config.presets import resolve
from hydra_tui.engine.backends.fake import demo_backend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.tui import HydraApp
from hydra_tui.tui.screens import MainScreen, SavePresetScreen
from tests.support.pilot import SIZE

pytestmark = pytest.mark.anyio


async def test_s_saves_the_selected_downloads_options() -> None:
    saved: list[tuple[str, DownloadOptions]] = []
    backend = demo_backend()
    app = HydraApp(backend, save_preset=lambda name, opts: saved.append((name, opts)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, SavePresetScreen)
        app.screen.query_one(Input).value = "bad name!"
        await pilot.press("enter")
        assert isinstance(app.screen, SavePresetScreen)  # refused, with an error
        assert app.screen.query_one("#preset-error").has_class("-shown")
        app.screen.query_one(Input).value = "genomics"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("s", "escape")  # cancelled: nothing saved
        await pilot.pause()
    selected = backend.controls()[0]
    assert saved == [("genomics", selected.options)]


def test_saved_preset_round_trips_through_presets_toml(tmp_path: Path) -> None:
    from hydra_tui.config import locations
    from hydra_tui.config.presets import save_preset

    config = locations.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("# my hand-written config\n[defaults]\nretries = 7\n")
    before = config.read_bytes()
    opts = dataclasses.replace(
        DownloadOptions(), threads=24, output_dir=tmp_path / "genomes", limit_rate=5 << 20,
        headers=(("X-Token", "abc"),), stall_timeout=9.0, speed_limit=4096, speed_time=5.0,
        accept_html=True,
    )  # fmt: skip
    save_preset("genomics", preset_values(opts))
    settings, sources = resolve({}, preset="genomics", config_file=None)
    assert settings.threads == 24
    assert settings.output == tmp_path / "genomes"
    assert settings.limit_rate == 5 << 20
    assert settings.headers == (("X-Token", "abc"),)
    assert settings.stall_timeout == 9.0
    assert (settings.speed_limit, settings.speed_time, settings.accept_html) == (4096, 5.0, True)
    assert "presets.toml" in sources["threads"]
    assert config.read_bytes() == before  # the hand-edited file is never rewritten
