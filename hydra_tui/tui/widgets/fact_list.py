"""Label/value rows for the detail pane, drawn with the Line API.

A long value (a URL) folds under itself, not under its label. Each fact's lines are cached
as strips, so a tick that changes one value (bytes done, speed) repaints that fact's lines
only, and never asks for a new layout: the box's size comes from the stylesheet.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

__all__ = ["Fact", "FactList"]

#: (label, value, rich style of the value)
Fact = tuple[str, str, str]
_EMPTY = (("No download selected.", ""), ("Press ", "a", " to add a URL."))


class FactList(Widget):
    """Draws ``facts``; with none, a hint to add a URL."""

    facts: reactive[tuple[Fact, ...]] = reactive((), layout=False, repaint=False)

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: list[Strip] = []
        #: (fact, label width, width) → its lines
        self._cache: dict[tuple[Fact, int, int], list[Strip]] = {}

    def watch_facts(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild(full=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rebuild(full=True)

    def _rebuild(self, *, full: bool = False) -> None:
        if full:
            self._cache.clear()
        width = self.size.width
        old = self._lines
        lines = self._layout(width)
        self._lines = lines
        if full or len(old) != len(lines):
            self.refresh()
            return
        for y, (before, after) in enumerate(zip(old, lines, strict=True)):
            if before is not after:
                self.refresh(Region(0, y, width, 1))

    def _layout(self, width: int) -> list[Strip]:
        if width <= 0:
            return []
        base = self.rich_style
        if not self.facts:
            bold = base + Style(bold=True)
            return [
                Strip([Segment(text, bold if i % 2 else base) for i, text in enumerate(parts)])
                .adjust_cell_length(width, base)
                .crop(0, width)
                for parts in _EMPTY
            ]
        label_width = max(cell_len(label) for label, _, _ in self.facts)
        cache: dict[tuple[Fact, int, int], list[Strip]] = {}
        lines: list[Strip] = []
        for fact in self.facts:
            key = (fact, label_width, width)
            strips = self._cache.get(key)
            if strips is None:
                strips = self._render_fact(fact, label_width, width, base)
            cache[key] = strips
            lines.extend(strips)
        self._cache = cache  # only what is shown now
        return lines

    def _render_fact(self, fact: Fact, label_width: int, width: int, base: Style) -> list[Strip]:
        label, value, style = fact
        bold = base + Style(bold=True)
        value_style = base + self.app.console.get_style(style) if style else base
        value_width = max(1, width - label_width - 1)
        text = Text(value, style=style, end="")
        wrapped = text.wrap(self.app.console, value_width, overflow="fold")
        strips = []
        for i, line in enumerate(wrapped or [Text("")]):
            head = (label if i == 0 else "").ljust(label_width) + " "
            segments = [Segment(head, bold)]
            segments.extend(
                Segment(s.text, value_style + s.style if s.style else value_style)
                for s in line.render(self.app.console)
            )
            strip = Strip(segments).adjust_cell_length(width, base).crop(0, width)
            strips.append(strip)
        return strips

    def render_line(self, y: int) -> Strip:
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width, self.rich_style)
