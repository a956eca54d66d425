"""The min-heap reorderer: out-of-order pieces in, one in-order byte stream out.

Workers ``push(offset, pieces)``; the consumer ``pop_ready()``s whatever now continues
the stream at ``emitted``. Memory held is exactly ``held`` bytes; the planner never
requests past ``emitted + buffer``, so ``held <= buffer`` always.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Piece", "Reorderer"]

#: a contiguous run of file bytes (a ``bytearray`` block from the raw reader, or ``bytes``)
Piece = bytes | bytearray | memoryview


@dataclass(order=True, slots=True)
class _Block:
    offset: int
    size: int = field(compare=False)
    pieces: Sequence[Piece] = field(compare=False)


class Reorderer:
    """In-order assembly of ``(offset, pieces)`` blocks that never overlap."""

    def __init__(self, start: int = 0) -> None:
        self.emitted = start
        self.held = 0
        self.peak = 0
        self._heap: list[_Block] = []

    def push(self, offset: int, pieces: Sequence[Piece]) -> None:
        size = sum(len(p) for p in pieces)
        if size == 0:
            return
        if offset < self.emitted:
            raise ValueError(f"block at {offset} is behind the stream cursor {self.emitted}")
        heapq.heappush(self._heap, _Block(offset, size, pieces))
        self.held += size
        self.peak = max(self.peak, self.held)

    def ready(self) -> bool:
        return bool(self._heap) and self._heap[0].offset == self.emitted

    def pop_ready(self) -> list[Piece]:
        """All pieces that continue the stream now, in order (possibly none)."""
        out: list[Piece] = []
        heap = self._heap
        while heap and heap[0].offset <= self.emitted:
            block = heapq.heappop(heap)
            if block.offset != self.emitted:
                raise ValueError(f"overlapping block at {block.offset}, cursor {self.emitted}")
            out.extend(block.pieces)
            self.emitted += block.size
            self.held -= block.size
        return out

    def pop_ready_block(self) -> Sequence[Piece]:
        """The one block that continues the stream now (call only when ``ready()``)."""
        if not self.ready():
            first = self._heap[0].offset if self._heap else None
            raise ValueError(f"no block continues cursor {self.emitted} (next: {first})")
        block = heapq.heappop(self._heap)
        self.emitted += block.size
        self.held -= block.size
        return block.pieces

    def clear(self) -> None:
        self._heap.clear()
        self.held = 0
