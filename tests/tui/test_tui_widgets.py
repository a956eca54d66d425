"""Pure parts of the widgets and dialogs: chunk layout, graph bucketing, formatting, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import (
    ChunkState,
    ChunkView,
    DownloadSnapshot,
    DownloadState,
    RateSample,
    WindowEvent,
)
from hydra_tui.errors import UsageError
from hydra_tui.tui.format import display_name, progress_bar, short_rate, state_label
from hydra_tui.tui.screens.add_url import AddRequest, validate_add
from hydra_tui.tui.screens.log import TAIL_BYTES, read_tail
from hydra_tui.tui.screens.rate_limit import RateLimitChoice, parse_limit
from hydra_tui.tui.widgets.chunk_grid import Cell, layout_cells
from hydra_tui.tui.widgets.rate_graph import RateSeries, bucket

P, A, D, R, F = (
    ChunkState.PENDING,
    ChunkState.ACTIVE,
    ChunkState.DONE,
    ChunkState.RETRYING,
    ChunkState.FAILED,
)


def chunk(i: int, state: ChunkState, fraction: float = 0.0, size: int = 100) -> ChunkView:
    done = size if state is D else int(size * fraction)
    return ChunkView(i * size, (i + 1) * size, done, state)


class TestLayoutCells:
    def test_one_cell_per_chunk(self) -> None:
        cells = layout_cells([chunk(0, D), chunk(1, A, 0.5), chunk(2, P)], 3)
        assert cells == [Cell("done", 8), Cell("active", 4), Cell("pending", 0)]

    def test_more_chunks_than_cells_aggregate_worst_state(self) -> None:
        chunks = [chunk(i, D) for i in range(6)] + [chunk(6, F), chunk(7, D)]
        cells = layout_cells(chunks, 4)
        assert [c.kind for c in cells] == ["done", "done", "done", "failed"]
        mixed = layout_cells([chunk(0, D), chunk(1, P), chunk(2, R, 0.5), chunk(3, P)], 2)
        assert mixed == [Cell("partial", 4), Cell("retrying", 2)]

    def test_fewer_chunks_span_cells_filling_left_to_right(self) -> None:
        cells = layout_cells([chunk(0, A, 0.5), chunk(1, P)], 8)
        assert cells[:4] == [
            Cell("active", 8),
            Cell("active", 8),
            Cell("active", 1),
            Cell("active", 1),
        ]
        assert cells[4:] == [Cell("pending", 0)] * 4

    def test_every_chunk_gets_cells_with_uneven_ratio(self) -> None:
        chunks = [chunk(i, D if i % 2 else P) for i in range(7)]
        cells = layout_cells(chunks, 10)
        assert len(cells) == 10
        assert {c.kind for c in cells} == {"done", "pending"}
        assert cells[0].kind == "pending" and cells[-1].kind == "pending"

    def test_empty(self) -> None:
        assert layout_cells([], 10) == []
        assert layout_cells([chunk(0, D)], 0) == []


class TestBucket:
    def test_one_column_per_sample_and_event_marks(self) -> None:
        samples = tuple(RateSample(float(t), 100.0 * t, t, t) for t in range(1, 6))
        events = (WindowEvent(2.0, "grow", 1, 2), WindowEvent(4.0, "429", 4, 2))
        cols = bucket(RateSeries(samples, events), 10)
        assert cols.rate == (100.0, 200.0, 300.0, 400.0, 500.0)
        assert cols.window == (1, 2, 3, 4, 5)
        assert {c: e.kind for c, e in cols.marks.items()} == {1: "grow", 3: "429"}

    def test_squeezed_columns_keep_lowest_window_and_backoff_wins(self) -> None:
        samples = tuple(RateSample(float(t), 10.0, 8 if t != 5 else 2, 1) for t in range(12))
        events = (WindowEvent(4.5, "grow", 2, 3), WindowEvent(5.0, "503", 8, 2))
        cols = bucket(RateSeries(samples, events), 3)
        assert cols.window == (8, 2, 8)
        assert cols.marks[1].kind == "503"

    def test_no_samples(self) -> None:
        assert bucket(RateSeries(), 20).rate == ()


def test_format_helpers() -> None:
    snap = DownloadSnapshot(
        id="a",
        url="https://h.example/dir/my%20file.iso?x=1",
        state=DownloadState.FAILED,
        error="HTTP 404",
    )
    assert display_name(snap) == "my file.iso"
    assert (
        display_name(DownloadSnapshot(id="b", url="https://h.example/", state=DownloadState.QUEUED))
        == "h.example"
    )
    assert state_label(snap) == "failed: HTTP 404"
    assert progress_bar(0.5, 4) == "██    50%"
    assert progress_bar(1.0, 4) == "████ 100%"
    assert progress_bar(None, 4).strip() == "?"
    assert short_rate(5 * 2**20) == "5.0 MiB/s"  # the TUI's one speed format (issue 20)


class TestValidateAdd:
    defaults = DownloadOptions(threads=8, output_dir=Path("dl"))

    def test_ok_with_overrides(self, tmp_path: Path) -> None:
        result = validate_add(
            " https://e.org/x ", str(tmp_path), "3", "", defaults=self.defaults, resolve_preset=None
        )
        assert result == AddRequest(
            "https://e.org/x", DownloadOptions(threads=3, output_dir=tmp_path)
        )

    def test_errors_per_field(self, tmp_path: Path) -> None:
        a_file = tmp_path / "f"
        a_file.write_text("")
        result = validate_add(
            "e.org/x", str(a_file), "0", "p", defaults=self.defaults, resolve_preset=None
        )
        assert isinstance(result, dict)
        assert set(result) == {"url", "output", "threads", "preset"}

    def test_preset_errors_are_messages(self) -> None:
        def resolve(name: str) -> DownloadOptions:
            raise UsageError(f"preset {name!r} has a bad key")

        result = validate_add(
            "https://e.org", "", "", "x", defaults=self.defaults, resolve_preset=resolve
        )
        assert result == {"preset": "preset 'x' has a bad key"}


def test_parse_limit() -> None:
    assert parse_limit("5M") == RateLimitChoice(5 * 2**20)
    assert parse_limit("500K/s") == RateLimitChoice(500 * 1024)
    assert parse_limit("") == RateLimitChoice(None)
    assert parse_limit("0") == RateLimitChoice(None)
    with pytest.raises(UsageError):
        parse_limit("fast")


def test_read_tail_follows_and_handles_rotation(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(b"x" * (TAIL_BYTES + 10) + b"\nlast\npart")
    lines, offset = read_tail(log, None)
    assert lines == ["last"]  # partial first and last lines are held back
    with log.open("ab") as handle:
        handle.write(b"ial\nnext\n")
    lines, offset = read_tail(log, offset)
    assert lines == ["partial", "next"]
    log.write_bytes(b"rotated\n")
    assert read_tail(log, offset)[0] == ["rotated"]


def test_speeds_fit_the_speed_column() -> None:
    """1,000 of a unit moves to the next one: ``1017.7 KiB/s`` was cut at 80 columns."""
    assert short_rate(1017.7 * 1024) == "1.0 MiB/s"
    assert short_rate(999 * 1024) == "999.0 KiB/s"
    worst = max((short_rate(v * 1.013) for v in range(0, 2**41, 2**41 // 997)), key=len)
    assert len(worst) <= 11, worst


def test_log_lines_are_short_enough_for_80_columns() -> None:
    from hydra_tui.tui.screens.log import short_line

    line = "2026-12-05 08:12:36,359 25982 INFO    hydra_tui.engine.manager: http://h/a: started"
    assert short_line(line) == "08:12:36 http://h/a: started"
    warn = "2026-12-05 08:12:36,359 25982 WARNING hydra_tui.engine.manager: http://h/a: failed: x"
    assert short_line(warn) == "08:12:36 WARNING http://h/a: failed: x"
    assert short_line("a traceback line") == "a traceback line"
