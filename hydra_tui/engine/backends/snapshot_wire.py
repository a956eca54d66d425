"""Snapshots as plain tuples, sent as differences: how the engine process talks to the UI.

Pickling a ``DownloadSnapshot`` as it is costs about a millisecond (hundreds of slotted
dataclasses: 256 chunk cells, up to 600 rate samples), paid ten times a second on the
engine's own thread. Between two snapshots few cells change and the rate history grows at
the end, and the engine reuses the objects that did not change (``chunk_map.chunk_views``,
the deques behind ``history`` and ``events``). So the encoder sends only what is new, by
identity, as tuples of numbers and strings, and the decoder rebuilds equal snapshots.
Both sides keep the last snapshot of each download; an encoder and its decoder must see
the same messages in the same order (one pipe).

A snapshot identical (``is``) to the one sent last is not sent at all, and the queue's
order only when it changed: with the engine handing out the same object while nothing
changes (``ManagedDownload.snapshot``), a message costs O(changed rows), not O(queue),
so a queue of 1,500 waiting downloads no longer slows the ones running.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hydra_tui.engine.snapshot import (
    ChunkState,
    ChunkView,
    DownloadSnapshot,
    DownloadState,
    RateSample,
    WindowEvent,
)

__all__ = ["SnapshotDecoder", "SnapshotEncoder"]

#: every field but the three sequences, in declaration order
_SCALARS = tuple(
    f.name
    for f in dataclasses.fields(DownloadSnapshot)
    if f.name not in ("state", "chunks", "history", "events")
)

T = TypeVar("T")
#: (start, end, done, state)
_Cell = tuple[int, int, int, str]
#: None: unchanged; (True, all items); (False, changes): cells by index, or rows to append
_Delta = tuple[bool, tuple[Any, ...]] | None
Packed = tuple[str, tuple[Any, ...], _Delta, _Delta, _Delta]
#: (the ids in queue order if they changed, else ``None``; the snapshots that changed)
Message = tuple[tuple[str, ...] | None, list[Packed]]


def _cell(c: ChunkView) -> _Cell:
    return (c.start, c.end, c.done, c.state.value)


def _sample(s: RateSample) -> tuple[float, float, int, int]:
    return (s.t, s.bytes_per_s, s.window, s.active)


def _event(e: WindowEvent) -> tuple[float, str, int, int, str]:
    return (e.t, e.kind, e.before, e.after, e.detail)


def _cells_delta(new: tuple[ChunkView, ...], old: tuple[ChunkView, ...] | None) -> _Delta:
    if new is old:
        return None
    if old is None or len(old) != len(new):
        return (True, tuple(map(_cell, new)))
    return (
        False,
        tuple((i, *_cell(c)) for i, (c, o) in enumerate(zip(new, old, strict=True)) if c is not o),
    )


def _tail_delta(
    new: tuple[T, ...], old: tuple[T, ...] | None, pack: Callable[[T], tuple[Any, ...]]
) -> _Delta:
    """What was appended to ``old`` to make ``new`` (a bounded deque's contents: items
    fall off the front, new ones arrive at the end), or all of ``new``."""
    if (
        old is not None
        and len(old) == len(new)
        and all(a is b for a, b in zip(old, new, strict=True))
    ):
        return None
    if old and new:
        last = old[-1]
        for i in range(len(new) - 1, -1, -1):
            if new[i] is last:
                kept = new[: i + 1]
                # the kept part must be exactly the end of ``old``, in order
                if len(kept) <= len(old) and all(
                    a is b for a, b in zip(kept, old[len(old) - len(kept) :], strict=True)
                ):
                    return (False, (len(new), tuple(map(pack, new[i + 1 :]))))
                break
    return (True, tuple(map(pack, new)))


class SnapshotEncoder:
    """The engine's side: snapshots → ``Packed`` tuples, each relative to the last sent."""

    def __init__(self) -> None:
        self._sent: dict[str, DownloadSnapshot] = {}
        self._order: tuple[str, ...] = ()

    def encode(self, snapshots: Sequence[DownloadSnapshot]) -> Message:
        out = []
        ids = tuple(s.id for s in snapshots)
        order = None if ids == self._order else ids
        for s in snapshots:
            old = self._sent.get(s.id)
            if old is s:
                continue
            out.append(
                (
                    s.state.value,
                    tuple(getattr(s, name) for name in _SCALARS),
                    _cells_delta(s.chunks, old.chunks if old else None),
                    _tail_delta(s.history, old.history if old else None, _sample),
                    _tail_delta(s.events, old.events if old else None, _event),
                )
            )
        self._sent = {s.id: s for s in snapshots}  # and forget removed downloads
        self._order = ids
        return order, out


class SnapshotDecoder:
    """The UI's side: ``Packed`` tuples → snapshots equal to the engine's."""

    def __init__(self) -> None:
        self._last: dict[str, DownloadSnapshot] = {}
        self._order: tuple[str, ...] = ()

    def decode(self, message: Message) -> list[DownloadSnapshot]:
        """The whole queue, in order (unchanged snapshots are the objects decoded before)."""
        order, packed = message
        last = self._last
        if order is not None:
            self._order = order
            last = {i: last[i] for i in order if i in last}
        for state, scalars, cells, history, events in packed:
            fields = dict(zip(_SCALARS, scalars, strict=True))
            old = self._last.get(fields["id"])
            snap = DownloadSnapshot(
                state=DownloadState(state),
                chunks=_apply_cells(cells, old.chunks if old else ()),
                history=_apply_tail(history, old.history if old else (), RateSample),
                events=_apply_tail(events, old.events if old else (), WindowEvent),
                **fields,
            )
            last[snap.id] = snap
        self._last = last
        return [last[i] for i in self._order]


def _view(start: int, end: int, done: int, state: str) -> ChunkView:
    return ChunkView(start, end, done, ChunkState(state))


def _apply_cells(delta: _Delta, old: tuple[ChunkView, ...]) -> tuple[ChunkView, ...]:
    if delta is None:
        return old
    full, items = delta
    if full:
        return tuple(_view(*c) for c in items)
    cells = list(old)
    for i, *cell in items:
        cells[i] = _view(*cell)
    return tuple(cells)


def _apply_tail(delta: _Delta, old: tuple[T, ...], make: Callable[..., T]) -> tuple[T, ...]:
    if delta is None:
        return old
    full, items = delta
    if full:
        return tuple(make(*row) for row in items)
    length, rows = items
    joined = old + tuple(make(*row) for row in rows)
    return joined[len(joined) - length :]
