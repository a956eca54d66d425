"""How a mirrored file is cut into units (without metalink pieces; with them, a unit is
a piece): pure, so it is tested without I/O.

Most units are 256 KiB - 1 MiB: few requests (each costs a round trip on a connection
that then idles) yet many units per connection. The last ones shrink by halves, a
wave of each size per connection: connections then run out of work within one small
unit of each other instead of one waiting a whole 1 MiB unit for the last, and a slow
mirror still finds units it can finish before the others are done.
"""

from __future__ import annotations

__all__ = ["MIN_TAIL_UNIT", "unit_size", "unit_spans"]

MiB = 1024 * 1024
#: the tail's units shrink down to this (a request per 128 KiB is still cheap)
MIN_TAIL_UNIT = 128 * 1024


def unit_size(size: int, sources: int, threads: int) -> int:
    """Unit length in the body of the file: many units per connection, 256 KiB - 1 MiB."""
    per = size // max(1, sources * threads * 8)
    return max(256 * 1024, min(MiB, per))


def unit_spans(size: int, sources: int, threads: int) -> list[tuple[int, int]]:
    """(start, end) of every unit, in file order, the tail's units shrinking."""
    length = unit_size(size, sources, threads)
    conns = max(1, sources * threads)
    tail: list[int] = []
    step = length // 2
    while step >= MIN_TAIL_UNIT:
        tail += [step] * conns
        step //= 2
    if sum(tail) * 4 > size:  # a small file: the tail would be most of it
        tail = []
    body_end = size - sum(tail)
    spans = [(s, min(body_end, s + length)) for s in range(0, body_end, length)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < MIN_TAIL_UNIT:
        spans[-2:] = [(spans[-2][0], body_end)]  # no sliver of a unit before the tail
    start = body_end
    for n in tail:
        spans.append((start, start + n))
        start += n
    return spans
