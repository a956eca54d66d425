"""The chunk map: fixed cells of the file and what state each is in, for renderers.

The engine builds it about ten times a second on its own thread, the thread every byte
goes through, so it is one sweep over the cells, the done ranges and the connections
(not cells × connections, a cost that grows with both, on that very thread;
``bench/PROFILE.md``, "The TUI's ratio, measured with a control", has the figures).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Protocol

from hydra_tui.engine.plan.ranges import RangeSet
from hydra_tui.engine.snapshot import ChunkState, ChunkView

__all__ = ["Reading", "chunk_grid", "chunk_views"]

KiB = 1024


class Reading(Protocol):
    """What the map needs of an in-flight request (a planner ``Assignment``)."""

    @property
    def end(self) -> int: ...
    @property
    def pos(self) -> int: ...
    @property
    def committed(self) -> int: ...
    @property
    def retrying(self) -> bool: ...


def chunk_grid(size: int, cells: int = 256) -> list[tuple[int, int]]:
    """Fixed slices of the file for the chunk map (at most ``cells`` of them)."""
    if size <= 0:
        return []
    step = max(64 * KiB, -(-size // cells))
    return [(s, min(size, s + step)) for s in range(0, size, step)]


def _covered(grid: Sequence[tuple[int, int]], starts: list[int], ranges: RangeSet) -> list[int]:
    """Bytes of ``ranges`` inside each cell."""
    n = len(grid)
    got = [0] * n
    for lo, hi in ranges:
        i = max(0, bisect_right(starts, lo) - 1)
        while i < n:
            start, end = grid[i]
            if start >= hi:
                break
            if end > lo:
                got[i] += min(end, hi) - max(start, lo)
            i += 1
    return got


def chunk_views(
    grid: Sequence[tuple[int, int]],
    done: RangeSet,
    active: Sequence[Reading],
    failed: RangeSet,
    previous: Sequence[ChunkView] = (),
) -> tuple[ChunkView, ...]:
    """Each cell of ``grid`` (sorted, non-overlapping) with its bytes done and its state.

    A cell not fully done is in flight (retrying) if a connection is reading it now:
    the cells from the connection's last committed byte to the byte after its read
    position, not the rest of its range; the first such connection in ``active`` wins.
    Otherwise it is failed if a worker gave up on any of its bytes, else pending.
    A cell equal to its view in ``previous`` (the last map of the same grid) is that
    same object: most cells do not change between two snapshots, and building a frozen
    view costs more than comparing one.
    """
    n = len(grid)
    if n == 0:
        return ()
    starts = [start for start, _ in grid]
    got = _covered(grid, starts, done)
    marks: list[ChunkState | None] = [None] * n
    for a in active:
        head = min(a.end, max(a.pos, a.committed) + 1)
        state = ChunkState.RETRYING if a.retrying else ChunkState.ACTIVE
        i = max(0, bisect_right(starts, a.committed) - 1)
        while i < n and grid[i][0] < head:
            if grid[i][1] > a.committed and marks[i] is None:
                marks[i] = state
            i += 1
    lost = _covered(grid, starts, failed) if len(failed) else None
    views = []
    reuse = len(previous) == n
    for i, (start, end) in enumerate(grid):
        if got[i] >= end - start:
            state = ChunkState.DONE
        else:
            mark = marks[i]
            if mark is not None:
                state = mark
            elif lost is not None and lost[i]:
                state = ChunkState.FAILED
            else:
                state = ChunkState.PENDING
        if reuse:
            old = previous[i]
            if old.state is state and old.done == got[i] and old.start == start and old.end == end:
                views.append(old)
                continue
        views.append(ChunkView(start, end, got[i], state))
    return tuple(views)
