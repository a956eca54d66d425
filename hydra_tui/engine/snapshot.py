"""Immutable views of engine state, for anyone to render.

The engine mutates private counters; renderers (the TUI, ``--no-ui`` progress lines,
``--progress=jsonl``, the Python API) call ``snapshot()`` on a timer and get these frozen
dataclasses. Nothing here references live engine objects, so a snapshot is safe to keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "ChunkState",
    "ChunkView",
    "DownloadSnapshot",
    "DownloadState",
    "MirrorView",
    "RateSample",
    "WindowEvent",
]


class DownloadState(StrEnum):
    """Lifecycle of one download, as shown in the queue."""

    QUEUED = "queued"
    PROBING = "probing"
    DOWNLOADING = "downloading"
    PAUSED = "paused"
    VERIFYING = "verifying"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (DownloadState.DONE, DownloadState.FAILED, DownloadState.CANCELLED)


class ChunkState(StrEnum):
    """State of one cell of the chunk map (a fixed slice of the file)."""

    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    RETRYING = "retrying"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChunkView:
    """One planned chunk ``[start, end)`` of the file and how much of it is on disk."""

    start: int
    end: int
    done: int
    state: ChunkState

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def fraction(self) -> float:
        return 1.0 if self.size == 0 else self.done / self.size


@dataclass(frozen=True, slots=True)
class RateSample:
    """Throughput and concurrency at time ``t`` (seconds since the download started)."""

    t: float
    bytes_per_s: float
    window: int
    active: int


@dataclass(frozen=True, slots=True)
class WindowEvent:
    """Why the concurrency window changed, e.g. ``429 → window 8 → 4``."""

    t: float
    kind: str  # "429", "503", "reset", "retry-after", "stall", "grow", "limit", "probe", …
    before: int
    after: int
    detail: str = ""

    def describe(self) -> str:
        arrow = f"window {self.before} → {self.after}" if self.before != self.after else ""
        return " ".join(p for p in (self.kind, self.detail, arrow) if p)


@dataclass(frozen=True, slots=True)
class MirrorView:
    """One mirror of a download (``--mirror``, Metalink): its throughput and whether it
    is still used (``dropped`` says why not)."""

    url: str
    bytes_per_s: float
    received: int
    active: int
    dropped: str | None = None


@dataclass(frozen=True, slots=True)
class DownloadSnapshot:
    """Everything a renderer needs about one download at one moment."""

    id: str
    url: str
    state: DownloadState
    name: str | None = None
    path: str | None = None
    final_url: str | None = None
    size: int | None = None
    done: int = 0
    speed: float = 0.0
    elapsed: float = 0.0
    active: int = 0
    #: running, but no connection yet: every slot of its host is taken (by other downloads)
    waiting_for_host: bool = False
    window: int = 0
    max_window: int = 0
    retries: int = 0
    limit: int | None = None
    """The host's demonstrated connection limit (``engine/plan/conn_limit.py``), if any."""
    resumed_bytes: int = 0
    etag: str | None = None
    last_modified: str | None = None
    accepts_ranges: bool | None = None
    rate_limit: int | None = None
    checksum: str | None = None
    error: str | None = None
    #: the failure's exit code (``HydraError.exit_code``: 3 for a checksum mismatch), 0 otherwise
    exit_code: int = 0
    #: the output folder, absolute (shown before ``path`` is decided, and after)
    folder: str | None = None
    chunks: tuple[ChunkView, ...] = ()
    history: tuple[RateSample, ...] = ()
    events: tuple[WindowEvent, ...] = field(default_factory=tuple)
    #: the mirrors when there is more than one source (``engine/mirrors/run.py``)
    mirrors: tuple[MirrorView, ...] = ()

    @property
    def fraction(self) -> float | None:
        if not self.size:
            return 1.0 if self.state is DownloadState.DONE else None
        return min(1.0, self.done / self.size)

    @property
    def eta(self) -> float | None:
        if self.size is None or self.speed <= 0:
            return None
        return max(0.0, (self.size - self.done) / self.speed)
