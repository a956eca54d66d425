"""Headless renderers of engine snapshots: plain progress lines and ``--progress=jsonl``.

Both read ``DownloadSnapshot``s on a timer, ``reporting`` (the UI pulls; the engine
never pushes per byte), which also feeds ``HydraClient(on_progress=...)``. Plain lines
go to stderr at most once a second, so a log file stays readable; on a terminal the
line is redrawn in place. JSONL is a contract for scripts: one JSON object per line,
documented in the README.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from hydra_tui.engine import periodic
from hydra_tui.engine.snapshot import ChunkState, DownloadSnapshot
from hydra_tui.units import format_duration, format_rate, format_size

if TYPE_CHECKING:
    from hydra_tui.config.model import Settings

__all__ = [
    "CallbackProgress",
    "JsonlProgress",
    "PlainProgress",
    "Progress",
    "average_speed",
    "json_line",
    "progress_for",
    "reporting",
]


def json_line(event: str, *, clock: Any = time.time, **fields: Any) -> str:
    """One ``--progress=jsonl`` line: ``event`` and ``time`` first, then ``fields``."""
    record = {"event": event, "time": round(clock(), 3), **fields}
    return json.dumps(record, separators=(",", ":")) + "\n"


def average_speed(snap: DownloadSnapshot) -> float:
    """Bytes/s moved by this run: bytes resumed from an earlier run do not count."""
    moved = max(0, snap.done - snap.resumed_bytes)
    return moved / snap.elapsed if snap.elapsed > 0 else 0.0


def _absolute(path: str | None) -> str | None:
    return None if path is None else str(Path(path).absolute())


class Shown(Protocol):
    """Anything with a snapshot to show (a ``Download``)."""

    def snapshot(self) -> DownloadSnapshot: ...


@contextlib.asynccontextmanager
async def reporting(
    progress: Progress, downloads: Collection[Shown], *, seconds: float = 1.0
) -> AsyncIterator[None]:
    """While inside, hand ``progress`` the snapshots of ``downloads`` (a live collection:
    those running now) every ``seconds``: the one timer of ``--no-ui``,
    ``--stream`` and the API's ``on_progress``."""
    if progress.silent:
        yield
        return

    def show() -> None:
        progress.update([d.snapshot() for d in downloads])

    async with periodic.every(seconds, show, name="hydra progress"):
        yield


class Progress:
    """Does nothing: ``-q`` and ``--progress=none``."""

    @property
    def silent(self) -> bool:
        """True when neither ``update`` nor ``finished`` does anything: callers may skip
        building snapshots for it."""
        cls = type(self)
        return cls.update is Progress.update and cls.finished is Progress.finished

    def update(self, snaps: list[DownloadSnapshot]) -> None:
        """Called about once a second with every download's snapshot."""

    def finished(self, snap: DownloadSnapshot) -> None:
        """Called once per download when it ends (done, failed or cancelled)."""

    def close(self) -> None:
        """Called once at the end."""

    def report_error(
        self, url: str, exc: BaseException, err: TextIO, snap: DownloadSnapshot | None = None
    ) -> None:
        """A download failed: one line on ``err`` (errors are printed even with ``-q``).
        ``snap``: the download's last state, when there is one (jsonl tells what it
        reached before the error)."""
        from hydra_tui.engine.http.urls import redact_text, redact_url

        err.write(f"hydra-tui: {redact_url(url)}: {redact_text(str(exc))}\n")
        err.flush()


class PlainProgress(Progress):
    """``name  42%  120.0 MiB/256.0 MiB  35.2 MiB/s  ETA 4s  conns 8/8``."""

    def __init__(self, stream: TextIO, *, tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self._last_len = 0

    def update(self, snaps: list[DownloadSnapshot]) -> None:
        active = [s for s in snaps if not s.state.finished and s.state.value != "queued"]
        if not active:
            return
        if self.tty:
            line = " | ".join(_line(s) for s in active[:3])
            if len(active) > 3:
                line += f" | +{len(active) - 3} more"
            pad = max(0, self._last_len - len(line))
            self.stream.write("\r" + line + " " * pad)
            self._last_len = len(line)
        else:
            for s in active:
                self.stream.write(_line(s) + "\n")
        self.stream.flush()

    def finished(self, snap: DownloadSnapshot) -> None:
        if snap.state.value != "done":
            return
        self._clear()
        rate = average_speed(snap)
        extra = f", resumed {format_size(snap.resumed_bytes)}" if snap.resumed_bytes else ""
        self.stream.write(
            f"done: {snap.path or snap.name} ({format_size(snap.size)}, "
            f"{format_rate(rate)} avg{extra})\n"
        )
        self.stream.flush()

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self.tty and self._last_len:
            self.stream.write("\r" + " " * self._last_len + "\r")
            self._last_len = 0


def _line(s: DownloadSnapshot) -> str:
    pct = "" if s.fraction is None else f"{100 * s.fraction:3.0f}% "
    return (
        f"{s.name or s.url}  {pct}{format_size(s.done)}/{format_size(s.size)}  "
        f"{format_rate(s.speed)}  ETA {format_duration(s.eta)}  conns {s.active}/{s.window}"
        + (f"  retries {s.retries}" if s.retries else "")
    )


class JsonlProgress(Progress):
    """One JSON object per line: download, chunk and AIMD window events."""

    def __init__(self, stream: TextIO, *, clock: Any = time.time) -> None:
        self.stream = stream
        self.clock = clock
        self._chunks: dict[str, dict[int, ChunkState]] = {}
        self._events: dict[str, float] = {}
        self._started: set[str] = set()
        self._reported: set[str] = set()

    def _emit(self, event: str, snap: DownloadSnapshot, **fields: Any) -> None:
        self._put(event, id=snap.id, url=snap.url, **fields)

    def _put(self, event: str, **fields: Any) -> None:
        self.stream.write(json_line(event, clock=self.clock, **fields))

    def report_error(
        self,
        url: str,
        exc: BaseException,
        err: TextIO | None,
        snap: DownloadSnapshot | None = None,
    ) -> None:
        """The failure as an ``error`` event (``finished`` then adds no second one),
        after the ``start`` and ``chunk`` events of what ``snap`` reached."""
        from hydra_tui.engine.http.urls import redact_text, redact_url
        from hydra_tui.errors import HydraError

        code = exc.exit_code if isinstance(exc, HydraError) else 1
        shown = redact_url(url)  # as the snapshots show it (``finished`` compares)
        self._reported.add(shown)
        ids = {}
        if snap is not None:
            self._diff(snap)
            ids["id"] = snap.id
        self._put("error", **ids, url=shown, message=redact_text(str(exc)), exit_code=code)
        self.stream.flush()

    def update(self, snaps: list[DownloadSnapshot]) -> None:
        for s in snaps:
            self._diff(s)
            if not s.state.finished and s.state.value not in ("queued",):
                self._emit(
                    "progress", s, state=s.state.value, done=s.done, size=s.size,
                    speed=round(_speed(s), 1), active=s.active, window=s.window,
                    retries=s.retries, limit=s.limit, **_mirrors(s),
                )  # fmt: skip
        self.stream.flush()

    def _diff(self, s: DownloadSnapshot) -> None:
        if s.id not in self._started and s.final_url is not None:
            # once the probe has answered (a failed probe has no start, only its error)
            self._started.add(s.id)
            self._emit(
                "start", s, name=s.name, path=_absolute(s.path), size=s.size,
                final_url=s.final_url,
                etag=s.etag, last_modified=s.last_modified, resumed=s.resumed_bytes,
            )  # fmt: skip
        known = self._chunks.setdefault(s.id, {})
        for i, c in enumerate(s.chunks):
            if known.get(i) is not c.state:
                known[i] = c.state
                self._emit(
                    "chunk", s, index=i, start=c.start, end=c.end, done=c.done, state=c.state.value
                )
        last = self._events.get(s.id, -1.0)
        for e in s.events:
            if e.t > last:
                self._emit(
                    "window", s, kind=e.kind, before=e.before, after=e.after, detail=e.detail,
                    t=round(e.t, 3), text=e.describe(),
                )  # fmt: skip
                last = e.t
        self._events[s.id] = last

    def finished(self, snap: DownloadSnapshot) -> None:
        self._diff(snap)
        if snap.state.value == "done":
            # a chunked download learns its size at the end: the bytes it got
            size = snap.size if snap.size is not None else snap.done
            self._emit("done", snap, path=_absolute(snap.path), size=size,
                       checksum=snap.checksum, elapsed=round(snap.elapsed, 3),
                       speed=round(average_speed(snap), 1), resumed=snap.resumed_bytes,
                       retries=snap.retries, **_mirrors(snap))  # fmt: skip
        elif snap.url not in self._reported:
            self._emit("error", snap, state=snap.state.value, message=snap.error)
        self.stream.flush()


def _mirrors(s: DownloadSnapshot) -> dict[str, Any]:
    """``mirrors``: one object per source, only for a download with several."""
    if not s.mirrors:
        return {}
    return {
        "mirrors": [
            {
                "url": m.url,
                "speed": round(m.bytes_per_s, 1),
                "received": m.received,
                "active": m.active,
                "dropped": m.dropped,
            }
            for m in s.mirrors
        ]
    }


def _speed(s: DownloadSnapshot) -> float:
    """The recent speed; before the first sample, the average since the start (never
    0.0 once bytes have moved)."""
    if s.speed > 0:
        return s.speed
    return average_speed(s)


class CallbackProgress(JsonlProgress):
    """The jsonl events as dicts, handed to a function (``HydraClient(on_progress=…)``)."""

    def __init__(self, callback: Callable[[dict[str, Any]], None], *, clock: Any = time.time):
        super().__init__(io.StringIO(), clock=clock)  # stays empty: _put is ours
        self.callback = callback

    def _put(self, event: str, **fields: Any) -> None:
        self.callback({"event": event, "time": round(self.clock(), 3), **fields})


def progress_for(settings: Settings, err: TextIO = sys.stderr) -> Progress:
    """The renderer ``settings`` ask for (``--progress``, ``--quiet``, a terminal or not)."""
    mode = settings.progress
    if mode == "jsonl":
        return JsonlProgress(err)
    if settings.quiet or mode == "none":
        return Progress()
    tty = err.isatty() and mode == "auto"
    return PlainProgress(err, tty=tty)
