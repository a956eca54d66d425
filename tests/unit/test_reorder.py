"""Reorderer: any arrival order of a partition comes out as the original bytes, in order."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.io.reorder import Reorderer

Block = tuple[int, list[bytes]]


@st.composite
def partitions(draw: st.DrawFn, max_block: int | None = None) -> tuple[bytes, list[Block]]:
    """A byte string and its blocks (each split into pieces), in a random arrival order."""
    data = draw(st.binary(min_size=0, max_size=400))
    cuts: set[int] = set()
    if len(data) > 1:
        cuts = set(draw(st.lists(st.integers(1, len(data) - 1), max_size=40)))
    if max_block is not None:
        cuts |= set(range(max_block, len(data), max_block))
    edges = [0, *sorted(cuts), len(data)]
    blocks: list[Block] = []
    for s, e in pairwise(edges):
        chunk = data[s:e]
        inner = sorted(set(draw(st.lists(st.integers(0, len(chunk)), max_size=3))))
        marks = [0, *inner, len(chunk)]
        # pieces may be empty: they must not confuse the accounting
        blocks.append((s, [chunk[a:b] for a, b in pairwise(marks)]))
    return data, draw(st.permutations(blocks))


def size_of(pieces: list[bytes]) -> int:
    return sum(len(p) for p in pieces)


@settings(max_examples=200, deadline=None)
@given(partitions(), st.data())
def test_any_arrival_order_yields_the_original_bytes(
    case: tuple[bytes, list[Block]], data: st.DataObject
) -> None:
    original, blocks = case
    r = Reorderer()
    out: list[bytes] = []
    pushed = popped = 0
    for offset, pieces in blocks:
        r.push(offset, pieces)
        pushed += size_of(pieces)
        assert r.held == pushed - popped
        if data.draw(st.booleans(), label="pop now"):
            if data.draw(st.booleans(), label="one block"):
                while r.ready():
                    got = r.pop_ready_block()
                    out.extend(got)
                    popped += size_of(got)
                    assert r.held == pushed - popped
            else:
                got = r.pop_ready()
                out.extend(got)
                popped += size_of(got)
        assert 0 <= r.held <= pushed - popped
        assert r.emitted == popped
        assert r.peak >= r.held
    out.extend(r.pop_ready())
    assert b"".join(out) == original
    assert r.emitted == len(original)
    assert r.held == 0
    assert not r.ready()
    assert r.pop_ready() == []


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 64).flatmap(lambda w: st.tuples(st.just(w), partitions(max_block=w))))
def test_windowed_producer_keeps_peak_within_the_window(
    case: tuple[int, tuple[bytes, list[Block]]],
) -> None:
    window, (original, blocks) = case
    r = Reorderer()
    pending = list(blocks)  # in the drawn arrival order
    out: list[bytes] = []
    while pending:
        # the producer pushes the first block (in arrival order) that fits the window
        eligible = [b for b in pending if b[0] + size_of(b[1]) <= r.emitted + window]
        assert eligible, "a block at the cursor always fits: blocks are <= window"
        offset, pieces = eligible[0]
        pending.remove(eligible[0])
        r.push(offset, pieces)
        assert r.held <= window
        if r.held == window or len(eligible) == 1:
            out.extend(r.pop_ready())
    out.extend(r.pop_ready())
    assert b"".join(out) == original
    assert r.peak <= window


def test_push_behind_the_cursor_raises() -> None:
    r = Reorderer()
    r.push(0, [b"abcd"])
    assert r.pop_ready() == [b"abcd"]
    with pytest.raises(ValueError, match="behind"):
        r.push(2, [b"xx"])
    with pytest.raises(ValueError, match="behind"):
        Reorderer(start=100).push(99, [b"x"])


def test_overlapping_blocks_raise() -> None:
    r = Reorderer()
    r.push(0, [b"abcd"])
    r.push(2, [b"xx"])
    with pytest.raises(ValueError, match="overlapping"):
        r.pop_ready()

    r = Reorderer()
    r.push(0, [b"ab"])
    r.push(0, [b"cd"])
    with pytest.raises(ValueError, match="overlapping"):
        r.pop_ready()


def test_pop_ready_block_out_of_turn_raises() -> None:
    r = Reorderer()
    r.push(5, [b"x"])
    assert not r.ready()
    with pytest.raises(ValueError, match="no block continues"):
        r.pop_ready_block()
    assert r.held == 1 and not r.ready()  # nothing was dropped


def test_empty_pushes_are_ignored_and_start_offsets_work() -> None:
    r = Reorderer(start=1000)
    r.push(1000, [])
    r.push(1000, [b"", b""])
    assert r.held == 0
    assert not r.ready()
    r.push(1003, [b"de"])
    assert r.pop_ready() == []
    r.push(1000, [b"a", b"bc"])
    assert r.ready()
    assert r.held == 5
    assert r.peak == 5
    assert r.pop_ready_block() == [b"a", b"bc"]
    assert r.pop_ready_block() == [b"de"]
    assert r.emitted == 1005
    assert r.held == 0
    assert r.peak == 5


def test_clear_drops_held_blocks() -> None:
    r = Reorderer()
    r.push(10, [b"abc"])
    r.clear()
    assert r.held == 0
    assert not r.ready()
    assert r.pop_ready() == []
