"""The chunk map's one-sweep build against the plain definition (every cell against every
connection), and the reuse of unchanged cells between two maps."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from hydra_tui.engine.plan.chunk_map import chunk_grid, chunk_views
from hydra_tui.engine.plan.ranges import RangeSet
from hydra_tui.engine.snapshot import ChunkState, ChunkView


@dataclass
class Reading:
    end: int
    pos: int
    committed: int
    retrying: bool = False


def by_definition(
    grid: list[tuple[int, int]], done: RangeSet, active: list[Reading], failed: RangeSet
) -> list[ChunkView]:
    """The map as the docstring defines it, cell by cell (what the engine did before)."""
    views = []
    for start, end in grid:
        got = done.overlap(start, end)
        state = ChunkState.DONE if got >= end - start else ChunkState.PENDING
        if state is not ChunkState.DONE:
            for a in active:
                head = min(a.end, max(a.pos, a.committed) + 1)
                if a.committed < end and head > start:
                    state = ChunkState.RETRYING if a.retrying else ChunkState.ACTIVE
                    break
            else:
                if failed.overlap(start, end):
                    state = ChunkState.FAILED
        views.append(ChunkView(start, end, got, state))
    return views


SIZE = 10_000
spans = st.tuples(st.integers(0, SIZE), st.integers(0, SIZE)).map(sorted)


@st.composite
def readings(draw: st.DrawFn) -> Reading:
    start, end = draw(spans)
    committed = draw(st.integers(start, max(start, end)))
    pos = draw(st.integers(committed, max(committed, end)))
    # a range cut short by a steal or a release can end below its read position
    if draw(st.booleans()):
        end = draw(st.integers(start, end))
    return Reading(end=end, pos=pos, committed=committed, retrying=draw(st.booleans()))


@given(
    size=st.integers(1, SIZE),
    cells=st.integers(1, 300),
    done=st.lists(spans, max_size=12),
    failed=st.lists(spans, max_size=4),
    active=st.lists(readings(), max_size=20),
)
def test_one_sweep_equals_the_definition(
    size: int,
    cells: int,
    done: list[tuple[int, int]],
    failed: list[tuple[int, int]],
    active: list[Reading],
) -> None:
    # tiny cells here: the engine's grid has 64 KiB at least, which would make one cell
    step = -(-size // cells)
    grid = [(s, min(size, s + step)) for s in range(0, size, step)]
    done_set, failed_set = RangeSet(done), RangeSet(failed)
    expected = by_definition(grid, done_set, active, failed_set)
    assert list(chunk_views(grid, done_set, active, failed_set)) == expected
    # built again on top of an older map: same cells, whatever the old map said
    stale = chunk_views(grid, RangeSet(), active[:1], RangeSet())
    assert list(chunk_views(grid, done_set, active, failed_set, stale)) == expected


def test_unchanged_cells_are_the_previous_objects() -> None:
    grid = chunk_grid(4 << 20, cells=4)  # four 1 MiB cells
    done = RangeSet([(0, 1 << 20)])
    reader = Reading(end=2 << 20, pos=(1 << 20) + 10, committed=1 << 20)
    first = chunk_views(grid, done, [reader], RangeSet())
    done.add(1 << 20, (1 << 20) + 5)
    reader.committed = (1 << 20) + 5
    second = chunk_views(grid, done, [reader], RangeSet(), first)
    assert [v.state for v in second] == [
        ChunkState.DONE,
        ChunkState.ACTIVE,
        ChunkState.PENDING,
        ChunkState.PENDING,
    ]
    assert second[0] is first[0]
    assert second[1] is not first[1]
    assert second[1].done == 5
    assert second[2] is first[2]
    assert second[3] is first[3]
    # a map of another grid shares nothing with it
    other = chunk_views(chunk_grid(4 << 20, cells=2), done, [reader], RangeSet(), second)
    assert all(v is not w for v in other for w in second)


def test_no_cells_no_views() -> None:
    assert chunk_views([], RangeSet([(0, 5)]), [Reading(5, 1, 0)], RangeSet()) == ()
