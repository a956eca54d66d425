"""The selected download in depth: facts on the left, chunk map and rate graphs on the right.

The screen sets ``snapshot``; the pane hands each child the slice it draws (attributes
down) and rebuilds text only when it changed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.format import (
    WAITING_FOR_HOST,
    connections_text,
    display_name,
    rate_limit_text,
    short_rate,
)
from hydra_tui.tui.widgets.chunk_grid import ChunkGrid
from hydra_tui.tui.widgets.fact_list import Fact, FactList
from hydra_tui.tui.widgets.rate_graph import EVENT_MARKS, RateGraph, RateSeries
from hydra_tui.units import format_size

__all__ = ["DetailPane", "event_lines", "fact_rows", "mirror_rows"]
_GRAPH_TITLE = "Throughput · window"


def fact_rows(snap: DownloadSnapshot) -> list[Fact]:
    """(label, value, style) for the facts worth reading, most telling first."""
    rows: list[Fact] = [("URL", snap.url, "")]
    if snap.size is not None:
        fraction = snap.fraction or 0.0
        size = f"{format_size(snap.size)} ({format_size(snap.done)} done, {fraction:.0%})"
    else:
        size = f"unknown ({format_size(snap.done)} done)" if snap.done else "unknown"
    rows.append(("Size", size, ""))
    if snap.error:
        rows.append(("Error", snap.error, "bold red"))
    if snap.state is DownloadState.DOWNLOADING:
        # the queue's words and numbers: the row and this pane never disagree
        if snap.waiting_for_host:
            rows.append(("Speed", WAITING_FOR_HOST, ""))
        else:
            speed = f"{short_rate(snap.speed)}, connections {connections_text(snap)}"
            rows.append(("Speed", f"{speed} (at most {snap.max_window})", ""))
    rows.extend(mirror_rows(snap))
    rows.append(("Output", snap.path or "not decided yet", ""))
    if snap.folder:
        rows.append(("Folder", snap.folder, ""))
    if snap.final_url and snap.final_url != snap.url:
        rows.append(("Final URL", snap.final_url, ""))
    rows.append(("Rate limit", rate_limit_text(snap.rate_limit), ""))
    if snap.etag:
        rows.append(("ETag", snap.etag, ""))
    if snap.last_modified:
        rows.append(("Modified", snap.last_modified, ""))
    if snap.accepts_ranges is False:
        rows.append(("Ranges", "not supported: one connection", "yellow"))
    if snap.resumed_bytes:
        rows.append(("Resumed", format_size(snap.resumed_bytes), ""))
    if snap.retries:
        rows.append(("Retries", str(snap.retries), ""))
    if snap.checksum:
        rows.append(("Checksum", snap.checksum, ""))
    return rows


def mirror_rows(snap: DownloadSnapshot) -> list[Fact]:
    """A line per mirror (``--mirror``, Metalink): its speed and bytes, or why it was
    dropped."""
    rows: list[Fact] = []
    for i, m in enumerate(snap.mirrors, 1):
        if m.dropped is not None:
            rows.append((f"Mirror {i}", f"{m.url}  dropped: {m.dropped}", "yellow"))
            continue
        speed = short_rate(m.bytes_per_s) if not snap.state.finished else "idle"
        text = f"{m.url}  {speed}  {format_size(m.received)}  {m.active} conns"
        rows.append((f"Mirror {i}", text, ""))
    return rows


def event_lines(snap: DownloadSnapshot, limit: int = 8) -> Content:
    """The latest window events, newest first, with the axis mark that finds them."""
    if not snap.events:
        return Content("no window changes yet")
    parts: list[str | Content | tuple[str, str]] = []
    for i, event in enumerate(reversed(snap.events[-limit:])):
        if i:
            parts.append("\n")
        style = "$success" if event.kind == "grow" else "$error"
        parts.append((EVENT_MARKS.get(event.kind, "!"), f"bold {style}"))
        parts.append(f" {event.t:6.1f}s  {event.describe()}")
    return Content.assemble(*parts)


class DetailPane(Horizontal):
    """Details, events, chunk map and graphs for one snapshot (``None``: nothing selected).

    Every child gets only what it draws and repaints only what changed; titles are set
    only when their text changes (setting one repaints the whole box).
    """

    snapshot: reactive[DownloadSnapshot | None] = reactive(None, repaint=False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._titles: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="detail-facts"):
            yield FactList(id="detail-info")
            yield Static("", id="detail-events")
        with Vertical(id="detail-graphs"):
            yield ChunkGrid(id="detail-chunks")
            yield RateGraph(id="detail-rates")

    def on_mount(self) -> None:
        self._set_title(self.query_one(FactList), "Details")
        # the window is the host's: shared by every download from the same server
        self._set_title(self.query_one("#detail-events"), "Host window events")
        self._set_title(self.query_one(ChunkGrid), "Chunk map")
        self._set_title(self.query_one(RateGraph), _GRAPH_TITLE)

    def _set_title(self, widget: Widget, title: str) -> None:
        key = widget.id or ""
        if self._titles.get(key) != title:
            self._titles[key] = title
            widget.border_title = title

    def show_facts(self, snap: DownloadSnapshot) -> None:
        """Only the facts, on the ticks between full updates: cheap, and the queue's row
        and this pane then show the same numbers at every tick."""
        self.query_one(FactList).facts = tuple(fact_rows(snap))

    def watch_snapshot(self, old: DownloadSnapshot | None, snap: DownloadSnapshot | None) -> None:
        info = self.query_one(FactList)
        events = self.query_one("#detail-events", Static)
        grid = self.query_one(ChunkGrid)
        graph = self.query_one(RateGraph)
        if snap is None:
            info.facts = ()
            events.update("")
            grid.chunks = ()
            graph.series = RateSeries()
            self._set_title(info, "Details")
            self._set_title(graph, _GRAPH_TITLE)
            return
        self._set_title(info, f"Details · {display_name(snap)}")
        info.facts = tuple(fact_rows(snap))
        if old is None or old.events != snap.events:
            events.update(event_lines(snap))
        grid.chunks = snap.chunks
        graph.series = RateSeries(snap.history, snap.events, snap.max_window)
        title = _GRAPH_TITLE
        if snap.state is DownloadState.DOWNLOADING and snap.history:
            # the speed the queue shows; the window the graph's lower band draws
            title = f"Throughput {short_rate(snap.speed)} · window {snap.history[-1].window}"
        self._set_title(graph, title)
