"""The queue: one row per download, updated cell by cell.

Each tick hands over the full snapshot list; the table compares a cheap per-row key with the
previous tick and rewrites only the cells whose text changed, so a 1,000-entry queue with a
few active downloads costs a handful of ``update_cell`` calls per tick, not a rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

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

__all__ = ["COLUMNS", "QueueTable"]

BAR_WIDTH = 5
#: (key, label, width); ``name`` and ``state`` share whatever width is left
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "Name", 14),
    ("size", "Size", 8),
    ("progress", "Progress", BAR_WIDTH + 5),
    ("speed", "Speed", 10),
    ("eta", "ETA", 6),
    ("conns", "Conns", 5),
    ("state", "State", 11),
)
_KEYS = tuple(ColumnKey(key) for key, _, _ in COLUMNS)
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
ChangeKey = tuple[DownloadState, str | None, int | None, int, float, int, int, str | None]


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


class QueueTable(DataTable[Text]):
    """A row-cursor DataTable keyed by download id; call ``sync`` with every new snapshot list."""

    COMPONENT_CLASSES = {
        "queue-table--queued",
        "queue-table--active",
        "queue-table--paused",
        "queue-table--done",
        "queue-table--failed",
        "queue-table--bar",
    }

    #: rows are what matters here: home/end jump to the first/last download
    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    DEFAULT_CSS = """
    QueueTable {
        & > .queue-table--queued { color: $text-muted; }
        & > .queue-table--active { color: $accent; }
        & > .queue-table--paused { color: $warning; }
        & > .queue-table--done { color: $success; }
        & > .queue-table--failed { color: $error; }
        & > .queue-table--bar { color: $accent; }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        #: per id: what the row was drawn from (compared cheaply each tick), and its texts
        self._rows: dict[str, tuple[ChangeKey, Cells]] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, width=width, key=key)
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, _theme: object) -> None:
        """Cell colours are baked into ``Text``: rewrite every cell with the new theme's."""
        for row_id, (key, cells) in self._rows.items():
            for i, text in enumerate(self._texts(key[0], cells, range(len(cells)))):
                self.update_cell(row_id, _KEYS[i], text)

    @property
    def selected_id(self) -> str | None:
        """The id under the cursor, if the queue is not empty."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def select(self, download_id: str) -> None:
        """Move the cursor to a download (after adding one, or restoring the selection)."""
        if download_id in self._rows:
            self.move_cursor(row=self.get_row_index(download_id))

    def sync(self, snapshots: Sequence[DownloadSnapshot]) -> None:
        """Bring rows in line with ``snapshots`` (queue order), touching only changed cells."""
        ids = [s.id for s in snapshots]
        if ids != self._order:
            self._reorder(ids)
        for snap in snapshots:
            key = (
                snap.state,
                snap.name,
                snap.size,
                snap.done,
                snap.speed,
                snap.active,
                snap.window,
                snap.error,
            )
            old = self._rows.get(snap.id)
            if old is not None and key == old[0]:
                continue
            old_cells = old[1] if old is not None else ()
            cells = row_texts(snap)
            if not old_cells:
                self.add_row(*self._texts(snap.state, cells, range(len(cells))), key=snap.id)
            else:
                changed = [i for i, text in enumerate(cells) if text != old_cells[i]]
                for i, text in zip(changed, self._texts(snap.state, cells, changed), strict=True):
                    self.update_cell(snap.id, _KEYS[i], text)
            self._rows[snap.id] = (key, cells)

    def _reorder(self, ids: list[str]) -> None:
        wanted = set(ids)
        for gone in [i for i in self._order if i not in wanted]:
            self.remove_row(gone)
            del self._rows[gone]
        kept = [i for i in self._order if i in wanted]
        if ids[: len(kept)] != kept:
            # reordered, or inserted before the end (DataTable only appends): rebuild (rare)
            selected = self.selected_id
            self.clear()
            self._rows.clear()
            self._order = []
            if selected is not None:
                self.call_after_refresh(self.select, selected)
        self._order = ids

    def _texts(self, state: DownloadState, cells: Cells, which: Sequence[int]) -> list[Text]:
        out = []
        for i in which:
            text = Text(cells[i], no_wrap=True, overflow="ellipsis", end="")
            if i == 2:
                text.stylize(self._style("bar"), 0, BAR_WIDTH)
            elif i == 6:
                text.stylize(self._style(_STATE_CLASS[state]))
            out.append(text)
        return out

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"queue-table--{name}", partial=True)

    def on_resize(self, event: events.Resize) -> None:
        """Give ``name`` and ``state`` the width the fixed columns leave (DataTable has no
        fractional widths)."""
        fixed = sum(w for key, _, w in COLUMNS if key not in ("name", "state"))
        padding = 2 * self.cell_padding * len(COLUMNS)
        spare = max(0, event.size.width - fixed - padding - 2)  # 2: vertical scrollbar
        name_min, state_min = COLUMNS[0][2], COLUMNS[-1][2]
        extra = max(0, spare - name_min - state_min)
        state_width = state_min + min(extra // 3, 24)
        name_width = max(name_min, spare - state_width)
        changed = False
        for key, width in (("name", name_width), ("state", state_width)):
            column = self.columns.get(ColumnKey(key))
            if column is not None and column.width != width:
                column.width = width
                changed = True
        if changed:
            # private, but the only way to make DataTable recompute its virtual width
            self._require_update_dimensions = True
            self.refresh(layout=True)
