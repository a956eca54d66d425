"""Component-class styles, looked up once per style update.

``get_component_rich_style`` resolves the stylesheet on every call, and the Line API
widgets ask for the same few styles for every run of cells on every line they draw. Each
keeps them in a ``ComponentStyles`` until the stylesheet changes (``clear`` from the
widget's ``notify_style_update``).
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget

__all__ = ["ComponentStyles"]


class ComponentStyles:
    """``styles("done")`` is ``widget.get_component_rich_style("PREFIX--done")``, cached."""

    def __init__(self, widget: Widget, prefix: str) -> None:
        self._widget = widget
        self._prefix = prefix
        self._cache: dict[tuple[str, bool], Style] = {}

    def __call__(self, name: str, *, partial: bool = False) -> Style:
        style = self._cache.get((name, partial))
        if style is None:
            component = f"{self._prefix}--{name}"
            style = self._widget.get_component_rich_style(component, partial=partial)
            self._cache[name, partial] = style
        return style

    def clear(self) -> None:
        self._cache.clear()
