"""A set of byte offsets kept as sorted, disjoint, half-open ``[start, end)`` intervals.

Used for "what is on disk" (resume store), "what is left to fetch" (planner) and the
chunk map. Pure and small so it can be property-tested.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

__all__ = ["RangeSet"]


class RangeSet:
    """Sorted disjoint half-open intervals; adjacent intervals are merged."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in ranges:
            self.add(start, end)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self._starts, self._ends, strict=True))

    def __len__(self) -> int:
        return len(self._starts)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RangeSet) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"RangeSet({list(self)!r})"

    def copy(self) -> RangeSet:
        new = RangeSet()
        new._starts = self._starts.copy()
        new._ends = self._ends.copy()
        return new

    @property
    def total(self) -> int:
        """Number of bytes covered."""
        return sum(e - s for s, e in self)

    def add(self, start: int, end: int) -> None:
        """Cover ``[start, end)``, merging with overlapping or touching intervals."""
        if end <= start:
            return
        # first interval whose end >= start (could merge), last whose start <= end
        lo = bisect.bisect_left(self._ends, start)
        hi = bisect.bisect_right(self._starts, end)
        if lo < hi:
            start = min(start, self._starts[lo])
            end = max(end, self._ends[hi - 1])
        self._starts[lo:hi] = [start]
        self._ends[lo:hi] = [end]

    def remove(self, start: int, end: int) -> None:
        """Uncover ``[start, end)``."""
        if end <= start:
            return
        lo = bisect.bisect_right(self._ends, start)
        hi = bisect.bisect_left(self._starts, end)
        if lo >= hi:
            return
        keep_s: list[int] = []
        keep_e: list[int] = []
        if self._starts[lo] < start:
            keep_s.append(self._starts[lo])
            keep_e.append(start)
        if self._ends[hi - 1] > end:
            keep_s.append(end)
            keep_e.append(self._ends[hi - 1])
        self._starts[lo:hi] = keep_s
        self._ends[lo:hi] = keep_e

    def contains(self, start: int, end: int) -> bool:
        """True if all of ``[start, end)`` is covered."""
        if end <= start:
            return True
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and self._ends[i] >= end

    def overlap(self, start: int, end: int) -> int:
        """Number of covered bytes inside ``[start, end)``."""
        if end <= start:
            return 0
        i = max(0, bisect.bisect_right(self._ends, start))
        total = 0
        while i < len(self._starts) and self._starts[i] < end:
            total += min(end, self._ends[i]) - max(start, self._starts[i])
            i += 1
        return total

    def gaps(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Uncovered intervals inside ``[start, end)``, in order."""
        pos = start
        i = bisect.bisect_right(self._ends, start)
        while i < len(self._starts) and self._starts[i] < end and pos < end:
            if self._starts[i] > pos:
                yield pos, self._starts[i]
            pos = max(pos, self._ends[i])
            i += 1
        if pos < end:
            yield pos, end

    def first_gap(self, start: int, end: int) -> tuple[int, int] | None:
        """The lowest uncovered interval inside ``[start, end)``, if any."""
        return next(self.gaps(start, end), None)

    def prefix_end(self, start: int = 0) -> int:
        """End of the covered run that begins at ``start`` (``start`` if none)."""
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0 and self._ends[i] >= start:
            return self._ends[i]
        return start
