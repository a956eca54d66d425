"""RangeSet against a reference model: a plain set of byte offsets over a small universe."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.plan.ranges import RangeSet

U = 200  # the universe: offsets 0..U-1 (queries may poke a little past it)

offsets = st.integers(0, U + 5)
ops = st.lists(st.tuples(st.booleans(), offsets, offsets), max_size=30)
queries = st.lists(st.tuples(offsets, offsets), min_size=1, max_size=10)


def model_ranges(model: set[int]) -> list[tuple[int, int]]:
    """The maximal runs of the model as half-open intervals."""
    out: list[tuple[int, int]] = []
    for x in sorted(model):
        if out and out[-1][1] == x:
            out[-1] = (out[-1][0], x + 1)
        else:
            out.append((x, x + 1))
    return out


def apply(ops_: list[tuple[bool, int, int]]) -> tuple[RangeSet, set[int]]:
    rs = RangeSet()
    model: set[int] = set()
    for is_add, a, b in ops_:
        if is_add:
            rs.add(a, b)
            model |= set(range(a, b))
        else:
            rs.remove(a, b)
            model -= set(range(a, b))
        check_shape(rs, model)
    return rs, model


def check_shape(rs: RangeSet, model: set[int]) -> None:
    intervals = list(rs)
    for s, e in intervals:
        assert s < e, "no empty intervals"
    for (_, e1), (s2, _) in pairwise(intervals):
        assert e1 < s2, "sorted, disjoint and never merely touching"
    assert intervals == model_ranges(model)
    assert len(rs) == len(intervals)
    assert rs.total == len(model)


@settings(max_examples=200, deadline=None)
@given(ops, queries)
def test_matches_set_model(ops_: list[tuple[bool, int, int]], qs: list[tuple[int, int]]) -> None:
    rs, model = apply(ops_)
    for a, b in qs:
        span = set(range(a, b))
        assert rs.contains(a, b) == (span <= model)
        assert rs.overlap(a, b) == len(span & model)
        gaps = list(rs.gaps(a, b))
        assert gaps == model_ranges(span - model)
        assert rs.first_gap(a, b) == (gaps[0] if gaps else None)
        # prefix_end: end of the covered run starting at a
        end = a
        while end in model:
            end += 1
        assert rs.prefix_end(a) == end


@settings(max_examples=100, deadline=None)
@given(ops, ops)
def test_copy_is_independent_and_eq_is_structural(
    first: list[tuple[bool, int, int]], second: list[tuple[bool, int, int]]
) -> None:
    rs, model = apply(first)
    clone = rs.copy()
    assert clone == rs
    assert RangeSet(list(rs)) == rs
    for is_add, a, b in second:
        (clone.add if is_add else clone.remove)(a, b)
    check_shape(rs, model)  # the original did not move
    assert rs != list(rs)  # not equal to other types


def test_adjacent_intervals_merge_and_empty_ones_are_ignored() -> None:
    rs = RangeSet([(0, 10), (10, 20), (30, 30), (25, 22)])
    assert list(rs) == [(0, 20)]
    rs.add(20, 30)
    assert list(rs) == [(0, 30)]


def test_remove_splits_an_interval() -> None:
    rs = RangeSet([(0, 100)])
    rs.remove(40, 60)
    assert list(rs) == [(0, 40), (60, 100)]
    rs.remove(50, 50)
    assert list(rs) == [(0, 40), (60, 100)]
    rs.remove(0, 1000)
    assert list(rs) == []
    assert rs.total == 0


def test_queries_on_empty_and_reversed_ranges() -> None:
    rs = RangeSet()
    assert rs.contains(5, 5)
    assert rs.contains(9, 3)
    assert rs.overlap(9, 3) == 0
    assert list(rs.gaps(3, 3)) == []
    assert rs.first_gap(0, 10) == (0, 10)
    assert rs.prefix_end() == 0
    assert rs.prefix_end(7) == 7
    assert repr(RangeSet([(1, 2)])) == "RangeSet([(1, 2)])"


def test_prefix_end_and_gaps_with_holes() -> None:
    rs = RangeSet([(0, 10), (20, 30)])
    assert rs.prefix_end() == 10
    assert rs.prefix_end(5) == 10
    assert rs.prefix_end(10) == 10
    assert rs.prefix_end(15) == 15
    assert rs.prefix_end(20) == 30
    assert list(rs.gaps(0, 40)) == [(10, 20), (30, 40)]
    assert list(rs.gaps(5, 25)) == [(10, 20)]
    assert rs.first_gap(0, 10) is None
