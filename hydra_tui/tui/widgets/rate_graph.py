"""Throughput and the concurrency window over time, with back-off events on the time axis.

Three bands share one time axis so cause and effect line up: throughput bars on top, the
window (how many connections the AIMD controller allows) below, and a marker row where a
``429``/``503``/stall/… happened. Columns holding a back-off are tinted in both bands, so a
drop in the window points straight at its reason. Line API; strips are cached per data.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from hydra_tui.engine.snapshot import RateSample, WindowEvent
from hydra_tui.tui.format import LEVELS, short_rate
from hydra_tui.tui.widgets.component_styles import ComponentStyles

__all__ = ["EVENT_MARKS", "RateGraph", "RateSeries", "bucket"]

GUTTER = 8
#: one character per event kind on the time axis; kinds not listed show as ``!``
EVENT_MARKS = {
    "429": "4",
    "503": "5",
    "retry-after": "R",
    "stall": "S",
    "reset": "X",
    "error": "E",
    "grow": "+",
}
_GROW = "grow"


@dataclass(frozen=True, slots=True)
class RateSeries:
    """What the graph draws; equal series render identically, so the widget can skip work."""

    history: tuple[RateSample, ...] = ()
    events: tuple[WindowEvent, ...] = ()
    max_window: int = 0


@dataclass(frozen=True, slots=True)
class Columns:
    """The series squeezed into ``width`` columns."""

    rate: tuple[float, ...]
    window: tuple[int, ...]
    marks: dict[int, WindowEvent]


def bucket(series: RateSeries, width: int) -> Columns:
    """One column per sample while they fit; else each column averages the rate of its
    samples and keeps the *lowest* window, so a brief back-off stays visible."""
    samples = series.history
    n = len(samples)
    if n == 0 or width <= 0:
        return Columns((), (), {})
    cols = min(n, width)
    rate, window = [], []
    for c in range(cols):
        part = samples[c * n // cols : (c + 1) * n // cols]
        rate.append(sum(s.bytes_per_s for s in part) / len(part))
        window.append(min(s.window for s in part))
    times = [s.t for s in samples]
    marks: dict[int, WindowEvent] = {}
    for event in series.events:
        index = min(n - 1, bisect_left(times, event.t))
        col = index * cols // n
        # a back-off outranks a grow in the same column
        if col not in marks or marks[col].kind == _GROW:
            marks[col] = event
    return Columns(tuple(rate), tuple(window), marks)


def _bar(value: float, top: float, rows: int, row: int) -> int:
    """Fill level 0..8 of ``row`` (0 = top) for a bar of ``value`` on a ``top`` scale."""
    if top <= 0 or value <= 0:
        return 0
    eighths = value / top * rows * 8
    level = eighths - (rows - 1 - row) * 8
    if row == rows - 1:
        return max(1, min(8, round(level)))  # anything above zero shows at least a sliver
    return max(0, min(8, round(level)))


class RateGraph(Widget):
    """Draws ``series``; the detail pane sets it from the selected snapshot."""

    COMPONENT_CLASSES = {
        "rate-graph--rate",
        "rate-graph--window",
        "rate-graph--backoff",
        "rate-graph--grow",
        "rate-graph--axis",
        "rate-graph--label",
    }

    DEFAULT_CSS = """
    RateGraph {
        height: 9;
        & > .rate-graph--rate { color: $accent; }
        & > .rate-graph--window { color: $secondary; }
        & > .rate-graph--backoff { color: $error; background: $error 15%; text-style: bold; }
        & > .rate-graph--grow { color: $success; }
        & > .rate-graph--axis { color: $foreground 35%; }
        & > .rate-graph--label { color: $text-muted; }
    }
    """

    series: reactive[RateSeries] = reactive(RateSeries, repaint=False)

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._strips: dict[int, Strip] = {}
        self._style = ComponentStyles(self, "rate-graph")
        self._columns: Columns | None = None

    def watch_series(self) -> None:
        self._invalidate()

    def on_resize(self) -> None:
        self._invalidate()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()
        self._strips.clear()

    def _invalidate(self) -> None:
        self._strips.clear()
        self._columns = None
        series = self.series
        subtitle = ""
        if series.history:
            span = series.history[-1].t - series.history[0].t
            kinds = sorted({e.kind for e in series.events if e.kind != _GROW})
            legend = " ".join(f"{EVENT_MARKS.get(k, '!')}={k}" for k in kinds)
            subtitle = " · ".join(p for p in (f"last {span:.0f}s", legend) if p)
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle
        self.refresh()

    def _bands(self, height: int) -> tuple[int, int]:
        """Rows for (throughput, window); the last row is the time axis."""
        plot = max(1, height - 1)
        if plot < 3:
            return plot, 0
        window_rows = max(1, plot * 2 // 5)
        return plot - window_rows, window_rows

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            strip = self._render_row(y)
            self._strips[y] = strip
        return strip

    def _render_row(self, y: int) -> Strip:
        width, height = self.size
        plot_width = max(0, width - GUTTER)
        if self._columns is None:
            self._columns = bucket(self.series, plot_width)
        cols = self._columns
        label = self._style("label")
        if not cols.rate:
            text = "waiting for samples" if y == 0 else ""
            return Strip([Segment(text.ljust(width)[:width], label)], width)
        rate_rows, window_rows = self._bands(height)
        if y < rate_rows:
            top = max(cols.rate)
            # the scale in the TUI's one speed format: the number, its unit below it
            number, unit = short_rate(top).split(" ", 1)
            gutter = number if y == 0 else ""
            if y == 1 and rate_rows > 2:
                gutter = unit
            elif y == rate_rows - 1 and y > 0:
                gutter = "0"
            cells = [LEVELS[_bar(v, top, rate_rows, y)] for v in cols.rate]
            plot = self._plot(cells, cols, "rate")
        elif y < rate_rows + window_rows:
            row = y - rate_rows
            top = max(self.series.max_window, *cols.window, 1)
            # the title's word: "window", and its scale below it
            gutter = "window" if row == 0 else ""
            if row == 1:
                gutter = str(top)
            elif row == 0 and window_rows == 1:
                gutter = f"win {top}"
            cells = [LEVELS[_bar(v, top, window_rows, row)] for v in cols.window]
            plot = self._plot(cells, cols, "window")
        elif y == height - 1:
            gutter = "events"
            plot = self._axis(cols)
        else:
            return Strip.blank(width)
        head = Segment(f"{gutter[: GUTTER - 1]:>{GUTTER - 1}} ", label)
        return Strip([head, *plot]).crop(0, width).adjust_cell_length(width)

    def _plot(self, cells: Sequence[str], cols: Columns, band: str) -> list[Segment]:
        base = self._style(band)
        tint = self._style("backoff")
        backoff = Style(bgcolor=tint.bgcolor) if tint.bgcolor else Style()
        segments: list[Segment] = []
        run: list[str] = []
        run_tinted = False
        for i, ch in enumerate(cells):
            event = cols.marks.get(i)
            tinted = event is not None and event.kind != _GROW
            if tinted != run_tinted and run:
                segments.append(Segment("".join(run), base + backoff if run_tinted else base))
                run = []
            run_tinted = tinted
            run.append(ch)
        if run:
            segments.append(Segment("".join(run), base + backoff if run_tinted else base))
        return segments

    def _axis(self, cols: Columns) -> list[Segment]:
        axis = self._style("axis")
        segments: list[Segment] = []
        last = 0
        for col in sorted(cols.marks):
            event = cols.marks[col]
            if col > last:
                segments.append(Segment("─" * (col - last), axis))
            style = self._style("grow" if event.kind == _GROW else "backoff")
            segments.append(Segment(EVENT_MARKS.get(event.kind, "!"), style))
            last = col + 1
        if len(cols.rate) > last:
            segments.append(Segment("─" * (len(cols.rate) - last), axis))
        return segments
