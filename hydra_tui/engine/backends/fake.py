"""A scripted backend with a frozen clock: for snapshot tests, screenshots and trying the UI.

``PreviewBackend`` implements the ``DownloadBackend`` protocol without any I/O. Every call is
recorded in ``calls`` (tests assert on it) and nudges the entry's state the way the real
manager would, so the UI reacts. Nothing here reads a clock or a random source, so a
rendered screen is the same on every run.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import replace
from typing import Any

from hydra_tui.engine.backends.protocol import QueueEntry
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import (
    ChunkState,
    ChunkView,
    DownloadSnapshot,
    DownloadState,
    RateSample,
    WindowEvent,
)

__all__ = ["PreviewBackend", "PreviewControl", "demo_backend", "many_backend"]

MiB = 1024 * 1024
Call = tuple[Any, ...]


class PreviewControl(QueueEntry):
    """One scripted entry; steering calls are logged on the backend and change the state."""

    def __init__(
        self, backend: PreviewBackend, url: str, options: DownloadOptions, snap: DownloadSnapshot
    ) -> None:
        super().__init__(snap.id, url, options)
        self._backend = backend
        self.snap = snap

    def snapshot(self) -> DownloadSnapshot:
        return self.snap

    def _log(self, *call: Any) -> None:
        self._backend.calls.append((call[0], self.id, *call[1:]))
        failure = self._backend.fail_on.get(call[0])
        if failure is not None:
            raise failure

    def pause(self) -> None:
        self._log("pause")
        self.snap = replace(self.snap, state=DownloadState.PAUSED, speed=0.0, active=0)

    def resume(self) -> None:
        self._log("resume")
        self.snap = replace(self.snap, state=DownloadState.QUEUED)

    def cancel(self) -> None:
        self._log("cancel")
        self.snap = replace(self.snap, state=DownloadState.CANCELLED, speed=0.0, active=0)

    def retry(self) -> None:
        self._log("retry")
        self.snap = replace(self.snap, state=DownloadState.QUEUED, error=None)

    def set_threads(self, threads: int) -> None:
        self._log("set_threads", threads)
        self.snap = replace(self.snap, max_window=threads)

    def set_rate_limit(self, bytes_per_s: int | None) -> None:
        self._log("set_rate_limit", bytes_per_s)
        self.snap = replace(self.snap, rate_limit=bytes_per_s)


class PreviewBackend:
    """A ``DownloadBackend`` whose entries only change when told to (``update``)."""

    def __init__(self, max_active: int = 3) -> None:
        self.max_active = max_active
        self.calls: list[Call] = []
        #: make the named call raise, to test that the UI shows errors as notifications
        self.fail_on: dict[str, BaseException] = {}
        self._entries: dict[str, PreviewControl] = {}
        self._ids = itertools.count(1)
        self.running = False

    def add(
        self,
        url: str,
        options: DownloadOptions,
        *,
        id: str | None = None,
        paused: bool = False,
    ) -> PreviewControl:
        self.calls.append(("add", url, options, id, paused))
        if "add" in self.fail_on:
            raise self.fail_on["add"]
        if id is None:
            id = f"dl{next(self._ids)}"
            while id in self._entries:
                id = f"dl{next(self._ids)}"
        if id in self._entries:
            raise ValueError(f"duplicate id {id!r}")
        state = DownloadState.PAUSED if paused else DownloadState.QUEUED
        snap = DownloadSnapshot(
            id=id, url=url, state=state, max_window=options.threads, rate_limit=options.limit_rate
        )
        control = PreviewControl(self, url, options, snap)
        self._entries[id] = control
        return control

    def put(
        self, url: str, snapshot: DownloadSnapshot, options: DownloadOptions | None = None
    ) -> None:
        """Install a ready-made entry without logging a call (scene set-up)."""
        opts = options or DownloadOptions(threads=max(1, snapshot.max_window or 8))
        self._entries[snapshot.id] = PreviewControl(self, url, opts, snapshot)

    def update(self, id: str, **changes: Any) -> None:
        """Change an entry's snapshot, as the engine would between two polls."""
        control = self._entries[id]
        control.snap = replace(control.snap, **changes)

    def remove(self, id: str, *, delete_files: bool = False) -> None:
        self.calls.append(("remove", id, "delete files") if delete_files else ("remove", id))
        if "remove" in self.fail_on:
            raise self.fail_on["remove"]
        del self._entries[id]

    def move(self, id: str, index: int) -> None:
        self.calls.append(("move", id, index))
        entry = self._entries[id]
        order = [e for e in self._entries.values() if e is not entry]
        order.insert(max(0, min(len(order), index)), entry)
        self._entries = {e.id: e for e in order}

    def get(self, id: str) -> PreviewControl:
        return self._entries[id]

    def controls(self) -> list[PreviewControl]:
        return list(self._entries.values())

    def snapshots(self) -> list[DownloadSnapshot]:
        return [c.snap for c in self._entries.values()]

    async def run(self) -> None:
        self.running = True
        try:
            await asyncio.Event().wait()
        finally:
            self.running = False


# --- scenes -------------------------------------------------------------------------------


def _chunks(
    count: int, chunk: int, done_upto: int, active: dict[int, float], **states: ChunkState
) -> tuple[ChunkView, ...]:
    """``done_upto`` chunks done, ``active`` ones partly done, the rest pending."""
    out = []
    for i in range(count):
        start, end = i * chunk, (i + 1) * chunk
        if i < done_upto:
            out.append(ChunkView(start, end, chunk, ChunkState.DONE))
        elif i in active:
            state = states.get(f"c{i}", ChunkState.ACTIVE)
            out.append(ChunkView(start, end, int(chunk * active[i]), state))
        else:
            out.append(ChunkView(start, end, 0, ChunkState.PENDING))
    return tuple(out)


def _history() -> tuple[tuple[RateSample, ...], tuple[WindowEvent, ...]]:
    """Thirty seconds of a download that hits a 429 and a stall, then recovers."""
    samples = []
    window = 2
    events = []
    for i in range(1, 121):
        t = i * 0.25
        if t in (2.0, 4.0, 6.0, 8.0, 10.0, 12.0) and window < 8:
            events.append(WindowEvent(t, "grow", window, window + 1))
            window += 1
        if t == 14.0:
            events.append(WindowEvent(t, "429", window, 4, "Too Many Requests"))
            window = 4
        if t in (18.0, 21.0):
            events.append(WindowEvent(t, "grow", window, window + 1))
            window += 1
        if t == 24.5:
            events.append(WindowEvent(t, "stall", window, window - 1, "no bytes for 20s"))
            window -= 1
        per_conn = 5.2 * MiB * (1 + 0.15 * math.sin(i / 3))
        dip = 0.35 if 14.0 <= t < 15.5 or 24.5 <= t < 25.5 else 1.0
        samples.append(RateSample(t, per_conn * window * dip, window, window))
    return tuple(samples), tuple(events)


def _demo_entries() -> list[tuple[str, DownloadSnapshot]]:
    size = 96 * 64 * MiB
    history, events = _history()
    downloading = DownloadSnapshot(
        id="ubuntu",
        url="https://releases.example.org/24.04/ubuntu-24.04-desktop-amd64.iso",
        state=DownloadState.DOWNLOADING,
        name="ubuntu-24.04-desktop-amd64.iso",
        path="downloads/ubuntu-24.04-desktop-amd64.iso",
        final_url="https://mirror3.example.org/ubuntu/24.04/ubuntu-24.04-desktop-amd64.iso",
        size=size,
        done=int(40.6 * 64 * MiB),
        speed=history[-1].bytes_per_s,
        elapsed=30.0,
        active=5,
        window=5,
        max_window=8,
        retries=2,
        resumed_bytes=12 * 64 * MiB,
        etag='"5f3a-61c8e2a1b2c40"',
        last_modified="Thu, 25 Apr 2024 14:21:05 GMT",
        accepts_ranges=True,
        chunks=_chunks(
            96,
            64 * MiB,
            38,
            {38: 0.92, 39: 0.63, 40: 0.41, 41: 0.18, 42: 0.05, 44: 0.3},
            c44=ChunkState.RETRYING,
        ),
        history=history,
        events=events,
    )
    paused = DownloadSnapshot(
        id="dataset",
        url="https://data.example.net/exports/climate-2023.tar.zst",
        state=DownloadState.PAUSED,
        name="climate-2023.tar.zst",
        path="downloads/climate-2023.tar.zst",
        size=24 * 16 * MiB,
        done=9 * 16 * MiB + 5 * MiB,
        max_window=4,
        rate_limit=5 * MiB,
        etag='W/"a1b2c3"',
        chunks=_chunks(24, 16 * MiB, 9, {9: 5 / 16}, c9=ChunkState.PENDING),
        history=history[:40],
        events=events[:3],
    )
    failed = DownloadSnapshot(
        id="missing",
        url="https://cdn.example.com/builds/nightly-2024-05-01.bin",
        state=DownloadState.FAILED,
        name="nightly-2024-05-01.bin",
        path="downloads/nightly-2024-05-01.bin",
        size=8 * 32 * MiB,
        done=3 * 32 * MiB,
        retries=5,
        error="HTTP 503 Service Unavailable after 5 retries",
        chunks=(
            *_chunks(3, 32 * MiB, 3, {}),
            ChunkView(3 * 32 * MiB, 4 * 32 * MiB, 7 * MiB, ChunkState.FAILED),
            *(
                ChunkView(i * 32 * MiB, (i + 1) * 32 * MiB, 0, ChunkState.PENDING)
                for i in range(4, 8)
            ),
        ),
        history=history[:30],
        events=(
            *events[:2],
            WindowEvent(7.5, "503", 3, 1, "Service Unavailable"),
            WindowEvent(7.6, "retry-after", 1, 1, "wait 30s"),
        ),
    )
    done = DownloadSnapshot(
        id="notes",
        url="https://docs.example.org/handbook.pdf",
        state=DownloadState.DONE,
        name="handbook.pdf",
        path="downloads/handbook.pdf",
        size=18 * MiB + 512 * 1024,
        done=18 * MiB + 512 * 1024,
        elapsed=4.2,
        checksum="sha256 ok 9f86d081884c7d65",
        chunks=_chunks(4, (18 * MiB + 512 * 1024) // 4, 4, {}),
    )
    verifying = DownloadSnapshot(
        id="firmware",
        url="https://downloads.example.com/fw/router-fw-3.2.1.img",
        state=DownloadState.VERIFYING,
        name="router-fw-3.2.1.img",
        size=48 * MiB,
        done=48 * MiB,
        chunks=_chunks(6, 8 * MiB, 6, {}),
    )
    probing = DownloadSnapshot(
        id="video",
        url="https://media.example.tv/talks/keynote.mp4",
        state=DownloadState.PROBING,
        active=1,
        window=1,
        max_window=8,
    )
    queued = DownloadSnapshot(
        id="debian",
        url="https://cdimage.example.org/debian-12.5.0-amd64-netinst.iso",
        state=DownloadState.QUEUED,
        max_window=8,
    )
    return [(s.url, s) for s in (downloading, paused, failed, done, verifying, probing, queued)]


def demo_backend() -> PreviewBackend:
    """Seven downloads in every state, the first one mid-transfer with a 429 in its history."""
    backend = PreviewBackend()
    for url, snap in _demo_entries():
        backend.put(url, snap)
    return backend


def many_backend(count: int = 1000) -> PreviewBackend:
    """A long queue for responsiveness tests."""
    backend = PreviewBackend()
    for i in range(count):
        state = DownloadState.DOWNLOADING if i < 3 else DownloadState.QUEUED
        snap = DownloadSnapshot(
            id=f"q{i:04d}",
            url=f"https://files.example.org/part-{i:04d}.bin",
            state=state,
            size=(i + 1) * MiB,
            done=(i + 1) * MiB // 3 if i < 3 else 0,
            speed=2.0 * MiB if i < 3 else 0.0,
            active=2 if i < 3 else 0,
            window=4 if i < 3 else 0,
            max_window=4,
        )
        backend.put(snap.url, snap)
    return backend
