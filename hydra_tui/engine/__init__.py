"""The headless download engine: probe, plan, fetch, validate, write or stream.

Nothing under ``hydra_tui.engine`` imports Textual or Rich (a test proves it).
"""

from __future__ import annotations

__all__: list[str] = []
