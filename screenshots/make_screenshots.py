"""Render the README screenshots from the frozen preview backend.

Run from the repository root: ``python screenshots/make_screenshots.py``. It writes one SVG
per scene next to this script; the same scenes are the snapshot tests in ``tests/tui``, so
what the README shows is what the tests check.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hydra_tui.engine.backends.fake import PreviewBackend, demo_backend
from hydra_tui.tui import HydraApp

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Scene:
    name: str
    backend: Callable[[], PreviewBackend]
    press: tuple[str, ...] = ()
    size: tuple[int, int] = (120, 40)


SCENES = (
    Scene("downloading", demo_backend),
    Scene("paused", demo_backend, ("down",)),
    Scene("failed", demo_backend, ("down", "down")),
    Scene("empty-queue", PreviewBackend),
    Scene("add-url", demo_backend, ("a", *"example.org/file", "enter")),
    Scene("rate-limit", demo_backend, ("l", *"5M")),
    Scene("small-80x24", demo_backend, (), (80, 24)),
)


async def render(scene: Scene) -> Path:
    app = HydraApp(scene.backend(), title="hydra-tui")
    async with app.run_test(size=scene.size) as pilot:
        await pilot.pause()
        if scene.press:
            await pilot.press(*scene.press)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        svg = app.export_screenshot()
    # Rich puts a random id in every SVG; a fixed one keeps re-runs byte-identical
    target = HERE / f"{scene.name}.svg"
    target.write_text(re.sub(r"\bterminal-\d+-", "terminal-hydra-", svg), encoding="utf-8")
    return target


async def main() -> None:
    for scene in SCENES:
        path = await render(scene)
        print(path.relative_to(HERE.parent))


if __name__ == "__main__":
    asyncio.run(main())
