"""A map of the file: one cell per chunk, scaled to the space the pane has.

With more chunks than cells a cell aggregates neighbouring chunks (the worst state wins, the
fill is their combined progress); with fewer, a chunk spans several cells that fill left to
right, so an active chunk shows its progress as a moving front. Rendered with the Line API:
each row is a cached ``Strip`` and only rows whose cells changed are repainted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rich.segment import Segment
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from hydra_tui.engine.snapshot import ChunkState, ChunkView
from hydra_tui.tui.format import LEVELS
from hydra_tui.tui.widgets.component_styles import ComponentStyles
from hydra_tui.units import format_size

__all__ = ["Cell", "ChunkGrid", "layout_cells"]


class Cell(NamedTuple):
    """What one character of the grid shows: a kind (component class suffix) and 0..8 fill."""

    kind: str
    level: int


_PENDING = Cell("pending", 0)
_DONE = Cell("done", 8)
_GLYPHS = {"pending": "░", "done": "█", "retrying": "▒", "failed": "×"}
_LEGEND = (
    ("done", "█", "done"),
    ("active", "▅", "active"),
    ("retrying", "▒", "retry"),
    ("failed", "×", "failed"),
    ("pending", "░", "pending"),
)


def _level(fraction: float) -> int:
    return min(8, max(1, round(fraction * 8)))


def _single(chunk: ChunkView, fill: float) -> Cell:
    state = chunk.state
    if state is ChunkState.DONE or (state is ChunkState.PENDING and fill >= 1.0):
        return _DONE
    if state is ChunkState.PENDING:
        return Cell("partial", _level(fill)) if fill > 0 else _PENDING
    return Cell(state.value, _level(fill))


def _aggregate(chunks: Sequence[ChunkView]) -> Cell:
    states = {c.state for c in chunks}
    size = sum(c.size for c in chunks)
    fraction = 1.0 if size == 0 else sum(c.done for c in chunks) / size
    for worst in (ChunkState.FAILED, ChunkState.RETRYING, ChunkState.ACTIVE):
        if worst in states:
            return Cell(worst.value, _level(fraction))
    if states == {ChunkState.DONE}:
        return _DONE
    return _PENDING if fraction == 0 else Cell("partial", _level(fraction))


def layout_cells(chunks: Sequence[ChunkView], cells: int) -> list[Cell]:
    """Map ``chunks`` (in file order) onto ``cells`` grid cells."""
    n = len(chunks)
    if n == 0 or cells <= 0:
        return []
    if n >= cells:
        return [_aggregate(chunks[i * n // cells : (i + 1) * n // cells]) for i in range(cells)]
    out = []
    for i in range(cells):
        j = i * n // cells
        first = (j * cells + n - 1) // n  # first cell whose chunk index is j
        span = ((j + 1) * cells + n - 1) // n - first
        chunk = chunks[j]
        fill = min(1.0, max(0.0, chunk.fraction * span - (i - first)))
        out.append(_single(chunk, fill))
    return out


class ChunkGrid(Widget):
    """Cells for chunks, a legend on the last line; ``chunks`` is set by the detail pane."""

    COMPONENT_CLASSES = {
        "chunk-grid--pending",
        "chunk-grid--partial",
        "chunk-grid--active",
        "chunk-grid--done",
        "chunk-grid--retrying",
        "chunk-grid--failed",
        "chunk-grid--legend",
    }

    DEFAULT_CSS = """
    ChunkGrid {
        height: 6;
        & > .chunk-grid--pending { color: $foreground 25%; }
        & > .chunk-grid--partial { color: $success 60%; }
        & > .chunk-grid--active { color: $accent; }
        & > .chunk-grid--done { color: $success; }
        & > .chunk-grid--retrying { color: $warning; }
        & > .chunk-grid--failed { color: $error; text-style: bold; }
        & > .chunk-grid--legend { color: $text-muted; }
    }
    """

    chunks: reactive[tuple[ChunkView, ...]] = reactive((), layout=False, repaint=False)

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._cells: list[Cell] = []
        self._strips: dict[int, Strip] = {}
        self._style = ComponentStyles(self, "chunk-grid")
        self._width = 0

    @property
    def grid_rows(self) -> int:
        """Rows available for cells (the last content line holds the legend)."""
        return max(1, self.size.height - 1)

    def watch_chunks(self) -> None:
        self._relayout()

    def on_resize(self) -> None:
        self._relayout(full=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()
        self._strips.clear()

    def _relayout(self, *, full: bool = False) -> None:
        width = self.size.width
        cells = layout_cells(self.chunks, width * self.grid_rows)
        old = self._cells
        self._cells = cells
        n = len(self.chunks)
        subtitle = ""
        if n and cells:
            per = n / len(cells)
            # in the file's terms, not the grid's: how much of the file one square is
            span = self.chunks[-1].end - self.chunks[0].start
            square = f", {format_size(span / len(cells))} a square" if per > 1 else ""
            subtitle = f"{n} chunks{square}"
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle
        if full or width != self._width or len(old) != len(cells):
            self._width = width
            self._strips.clear()
            self.refresh()
            return
        for y in range(self.grid_rows):
            row = slice(y * width, (y + 1) * width)
            if old[row] != cells[row]:
                self._strips.pop(y, None)
                self.refresh(Region(0, y, width, 1))

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            strip = self._render_row(y, self.size)
            self._strips[y] = strip
        return strip

    def _render_row(self, y: int, size: Size) -> Strip:
        width = size.width
        if y == size.height - 1 and size.height > 1:
            return self._legend(width)
        if not self._cells:
            text = "no chunk plan yet" if y == 0 else ""
            return Strip([Segment(text.ljust(width)[:width], self._style("legend"))], width)
        row = self._cells[y * width : (y + 1) * width]
        segments: list[Segment] = []
        run_kind, run_text = "", list[str]()
        for cell in row:
            if cell.kind != run_kind and run_text:
                segments.append(Segment("".join(run_text), self._style(run_kind)))
                run_text = []
            run_kind = cell.kind
            run_text.append(_GLYPHS.get(cell.kind) or LEVELS[cell.level])
        if run_text:
            segments.append(Segment("".join(run_text), self._style(run_kind)))
        return Strip(segments).adjust_cell_length(width)

    def _legend(self, width: int) -> Strip:
        """The roomiest spacing that fits: ``█ done  ▅ active`` down to ``█done ▅active``."""
        muted = self._style("legend")
        for glyph_gap, gap in ((" ", "  "), (" ", " "), ("", " ")):
            if sum(len(glyph_gap) + len(label) + 1 + len(gap) for _, _, label in _LEGEND) <= (
                width + len(gap)
            ):
                break
        segments: list[Segment] = []
        for i, (kind, glyph, label) in enumerate(_LEGEND):
            segments.append(Segment(glyph, self._style(kind)))
            tail = gap if i < len(_LEGEND) - 1 else ""
            segments.append(Segment(f"{glyph_gap}{label}{tail}", muted))
        return Strip(segments).crop(0, width).adjust_cell_length(width, muted)
