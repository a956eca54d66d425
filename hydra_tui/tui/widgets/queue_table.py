"""The queue: one row per download, drawn with the Line API and repainted row by row.

Each tick hands over the full snapshot list. The table compares a cheap per-row key with the
previous tick, rebuilds the texts of rows whose key changed, and repaints only those rows
(one cached ``Strip`` per row). A 1,000-entry queue with a few active downloads costs a
few row repaints per tick, never a re-render of the whole table: Textual's ``DataTable``
invalidates every cached cell on any ``update_cell``, which made the queue the costliest
part of the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.format import (
    connections_text,
    display_name,
    eta_text,
    progress_bar,
    short_size,
    speed_text,
    state_label,
)
from hydra_tui.tui.widgets.component_styles import ComponentStyles

__all__ = ["COLUMNS", "QueueTable", "column_widths", "row_texts"]

BAR_WIDTH = 5
#: (key, label, width); ``name`` and ``state`` share whatever width is left
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "Name", 14),
    ("size", "Size", 8),
    ("progress", "Progress", BAR_WIDTH + 5),
    ("speed", "Speed", 11),
    ("eta", "ETA", 6),
    ("conns", "Conns", 5),
    ("state", "State", 11),
)
_INDEX = {key: i for i, (key, _, _) in enumerate(COLUMNS)}
_PROGRESS = _INDEX["progress"]
_STATE = _INDEX["state"]
#: blanks on each side of a cell's text
PADDING = 1
#: columns kept free for the vertical scrollbar
SCROLLBAR = 2
_STATE_CLASS = {
    DownloadState.QUEUED: "queued",
    DownloadState.PROBING: "active",
    DownloadState.DOWNLOADING: "active",
    DownloadState.VERIFYING: "active",
    DownloadState.PAUSED: "paused",
    DownloadState.DONE: "done",
    DownloadState.FAILED: "failed",
    DownloadState.CANCELLED: "paused",
}
Cells = tuple[str, ...]
ChangeKey = tuple[
    DownloadState, str | None, int | None, int, float, int, int, int, bool, str | None
]


def row_texts(snap: DownloadSnapshot) -> Cells:
    """The plain text of each column for one snapshot."""
    return (
        display_name(snap),
        short_size(snap.size) if snap.size is not None else "",
        progress_bar(snap.fraction, BAR_WIDTH),
        speed_text(snap),
        eta_text(snap),
        connections_text(snap),
        state_label(snap),
    )


def _change_key(snap: DownloadSnapshot) -> ChangeKey:
    return (
        snap.state,
        snap.name,
        snap.size,
        snap.done,
        snap.speed,
        snap.active,
        snap.window,
        snap.max_window,
        snap.waiting_for_host,
        snap.error,
    )


def column_widths(width: int) -> tuple[int, ...]:
    """Text widths of the columns for a table ``width`` cells wide: ``name`` and ``state``
    take what the fixed columns leave (state up to 24 more, the rest to the name)."""
    fixed = sum(w for key, _, w in COLUMNS if key not in ("name", "state"))
    padding = 2 * PADDING * len(COLUMNS)
    spare = max(0, width - fixed - padding - SCROLLBAR)
    name_min, state_min = COLUMNS[0][2], COLUMNS[-1][2]
    extra = max(0, spare - name_min - state_min)
    state_width = state_min + min(extra // 3, 24)
    name_width = max(name_min, spare - state_width)
    widths = [w for _, _, w in COLUMNS]
    widths[0], widths[-1] = name_width, state_width
    return tuple(widths)


def _fit(text: str, width: int) -> str:
    """``text`` padded to ``width`` cells, or cut with an ellipsis (no wrapping)."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(0, width - 1)) + "…" if width else ""


@dataclass(slots=True)
class _Row:
    key: ChangeKey
    state: DownloadState
    cells: Cells
    #: the snapshot drawn: the same object next tick means nothing changed
    snap: DownloadSnapshot


class QueueTable(ScrollView, can_focus=True):
    """Rows keyed by download id under a fixed header; call ``sync`` with every new list."""

    COMPONENT_CLASSES = {
        "queue-table--header",
        "queue-table--cursor",
        "queue-table--queued",
        "queue-table--active",
        "queue-table--paused",
        "queue-table--done",
        "queue-table--failed",
        "queue-table--bar",
    }

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        #: rows are what matters here: home/end jump to the first/last download
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    # the look of Textual's DataTable with a row cursor
    DEFAULT_CSS = """
    QueueTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        & > .queue-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .queue-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .queue-table--header { background-tint: $foreground 5%; }
            & > .queue-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .queue-table--queued { color: $text-muted; }
        & > .queue-table--active { color: $accent; }
        & > .queue-table--paused { color: $warning; }
        & > .queue-table--done { color: $success; }
        & > .queue-table--failed { color: $error; }
        & > .queue-table--bar { color: $accent; }
    }
    """

    @dataclass
    class Highlighted(Message):
        """The cursor is on another download (``None``: the queue became empty)."""

        table: QueueTable
        download_id: str | None

        @property
        def control(self) -> QueueTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: dict[str, _Row] = {}
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._cursor = 0
        self._highlighted: str | None = None
        self._widths = column_widths(0)
        #: per id, the row drawn without the cursor; the header and cursor row apart
        self._strips: dict[str, Strip] = {}
        self._header: Strip | None = None
        self._cursor_strip: tuple[str, Strip] | None = None
        self._style = ComponentStyles(self, "queue-table")

    # --- the model --------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_id(self) -> str | None:
        """The id under the cursor, if the queue is not empty."""
        return self._order[self._cursor] if self._order else None

    def get_row_index(self, download_id: str) -> int:
        return self._index[download_id]

    def get_cell(self, download_id: str, column: str) -> str:
        """The text shown in one cell (``column`` is a key of ``COLUMNS``)."""
        return self._rows[download_id].cells[_INDEX[column]]

    def select(self, download_id: str) -> None:
        """Move the cursor to a download (after adding one, or restoring the selection)."""
        if download_id in self._index:
            self.move_cursor(row=self._index[download_id])

    def move_cursor(self, *, row: int) -> None:
        if not self._order:
            return
        row = min(len(self._order) - 1, max(0, row))
        if row != self._cursor:
            old = self._cursor
            self._cursor = row
            self._cursor_strip = None
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
        self._scroll_to_cursor()
        self._post_highlight()

    def sync(self, snapshots: Sequence[DownloadSnapshot]) -> None:
        """Bring rows in line with ``snapshots`` (queue order), repainting changed rows."""
        ids = [s.id for s in snapshots]
        reordered = ids != self._order
        if reordered:
            self._reorder(ids)
        index = self._index
        rows = self._rows
        for snap in snapshots:
            row = rows.get(snap.id)
            if row is not None and row.snap is snap:
                continue
            key = _change_key(snap)
            if row is not None and row.key == key:
                row.snap = snap
                continue
            cells = row_texts(snap)
            rows[snap.id] = _Row(key, snap.state, cells, snap)
            if row is not None and row.cells == cells and row.state is snap.state:
                continue
            self._strips.pop(snap.id, None)
            if self._cursor_strip is not None and self._cursor_strip[0] == snap.id:
                self._cursor_strip = None
            if not reordered:
                self.refresh_line(index[snap.id] + 1)
        if reordered:
            self.refresh()
            self._post_highlight()

    def _reorder(self, ids: list[str]) -> None:
        selected = self.selected_id
        wanted = set(ids)
        for gone in [i for i in self._order if i not in wanted]:
            del self._rows[gone]
            self._strips.pop(gone, None)
        self._order = ids
        self._index = {download_id: i for i, download_id in enumerate(ids)}
        self._cursor_strip = None
        # the cursor follows its download; if that left, it stays at the same place
        if selected is not None and selected in self._index:
            self._cursor = self._index[selected]
        self._cursor = min(self._cursor, max(0, len(ids) - 1))
        self._update_virtual_size()
        self._scroll_to_cursor()

    def _post_highlight(self) -> None:
        selected = self.selected_id
        if selected != self._highlighted:
            self._highlighted = selected
            self.post_message(self.Highlighted(self, selected))

    # --- scrolling and keys -----------------------------------------------------------

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._order) + 1)

    @property
    def _page(self) -> int:
        """Rows visible under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + self._page:
            self.scroll_to(y=self._cursor - self._page + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self._cursor - self._page)

    def action_page_down(self) -> None:
        self.move_cursor(row=self._cursor + self._page)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._order) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self.move_cursor(row=round(self.scroll_y) + offset.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._widths = column_widths(event.size.width)
        self._forget_strips()
        self._update_virtual_size()
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self._forget_strips()

    def on_blur(self) -> None:
        self._forget_strips()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_strips()

    def _forget_strips(self) -> None:
        self._style.clear()
        self._strips.clear()
        self._header = None
        self._cursor_strip = None
        self.refresh()

    # --- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            if self._header is None:
                labels = tuple(label for _, label, _ in COLUMNS)
                self._header = self._draw(labels, self.rich_style + self._style("header"), width)
            return self._header
        index = round(self.scroll_y) + y - 1
        if not 0 <= index < len(self._order):
            return Strip.blank(width, self.rich_style)
        download_id = self._order[index]
        row = self._rows[download_id]
        if index == self._cursor:
            cached = self._cursor_strip
            if cached is None or cached[0] != download_id:
                cursor = self.rich_style + self._style("cursor")
                cached = (download_id, self._draw(row.cells, cursor, width))
                self._cursor_strip = cached
            return cached[1]
        strip = self._strips.get(download_id)
        if strip is None:
            strip = self._draw(row.cells, self.rich_style, width, state=row.state)
            self._strips[download_id] = strip
        return strip

    def _draw(
        self, cells: Cells, base: Style, width: int, *, state: DownloadState | None = None
    ) -> Strip:
        """One line: padded cells in ``base``; a plain row colours its bar and state."""
        pad = " " * PADDING
        segments: list[Segment] = []
        plain: list[str] = []
        for i, (text, cell_width) in enumerate(zip(cells, self._widths, strict=True)):
            fitted = _fit(text, cell_width)
            if state is not None and i == _PROGRESS:
                segments.append(Segment("".join(plain) + pad, base))
                segments.append(
                    Segment(fitted[:BAR_WIDTH], base + self._style("bar", partial=True))
                )
                plain = [fitted[BAR_WIDTH:], pad]
            elif state is not None and i == _STATE:
                segments.append(Segment("".join(plain), base))
                style = base + self._style(_STATE_CLASS[state], partial=True)
                segments.append(Segment(pad + fitted + pad, style))
                plain = []
            else:
                plain += (pad, fitted, pad)
        used = sum(self._widths) + 2 * PADDING * len(self._widths)
        plain.append(" " * max(0, width - used))
        segments.append(Segment("".join(plain), base))
        return Strip(segments).crop(0, width).adjust_cell_length(width, base).simplify()
