"""The contract between the engine's download manager and anything that steers it.

The TUI codes against these protocols only; ``hydra_tui.engine.backends.manager.DownloadManager``
implements them over the real engine, and tests use a fake with a frozen clock.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot

__all__ = ["DownloadBackend", "DownloadControl", "QueueEntry"]


class DownloadControl(Protocol):
    """One queued download: read its snapshot, steer it. Every method returns at once."""

    @property
    def id(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def options(self) -> DownloadOptions: ...

    def snapshot(self) -> DownloadSnapshot:
        """An immutable view of the current state (cheap; call it ~10 times a second)."""
        ...

    def pause(self) -> None:
        """Stop transferring; keep the ``.part`` file and resume state."""
        ...

    def resume(self) -> None:
        """Queue a paused download again; it continues from the resume store."""
        ...

    def cancel(self) -> None:
        """Stop for good (state ``cancelled``); the partial file is kept for a later retry."""
        ...

    def retry(self) -> None:
        """Queue a failed or cancelled download again (resuming what is on disk)."""
        ...

    def set_threads(self, threads: int) -> None:
        """Change the connection ceiling while running (at least 1)."""
        ...

    def set_rate_limit(self, bytes_per_s: int | None) -> None:
        """Change the rate limit while running; ``None`` removes it."""
        ...


class DownloadBackend(Protocol):
    """A queue of downloads, at most ``max_active`` transferring at once."""

    max_active: int

    def add(
        self,
        url: str,
        options: DownloadOptions,
        *,
        id: str | None = None,
        paused: bool = False,
    ) -> DownloadControl:
        """Queue ``url``; ``id`` lets a restored queue keep its identities."""
        ...

    def remove(self, id: str, *, delete_files: bool = False) -> None:
        """Cancel if running and forget the entry; files on disk are kept unless
        ``delete_files`` (its ``NAME.part``, and ``NAME`` if it finished)."""
        ...

    def move(self, id: str, index: int) -> None:
        """Put the entry at ``index`` of the queue (0: first: it starts next)."""
        ...

    def get(self, id: str) -> DownloadControl:
        """The entry with this id; ``KeyError`` if unknown."""
        ...

    def controls(self) -> list[DownloadControl]:
        """All entries in queue order."""
        ...

    def snapshots(self) -> list[DownloadSnapshot]:
        """Snapshots of all entries in queue order."""
        ...

    async def run(self) -> None:
        """Start queued downloads as slots free up; runs until cancelled."""
        ...


class QueueEntry:
    """The identity of a queue entry and its option changes, shared by the controls that
    steer the engine directly (``ManagedDownload``) and from another thread
    (``ProxyControl``)."""

    def __init__(self, id: str, url: str, options: DownloadOptions) -> None:
        self._id = id
        self._url = url
        self._options = options

    @property
    def id(self) -> str:
        return self._id

    @property
    def url(self) -> str:
        return self._url

    @property
    def options(self) -> DownloadOptions:
        return self._options

    def _new_threads(self, threads: int) -> int:
        """Record a new connection ceiling (1 to 1024); return it."""
        threads = max(1, min(1024, threads))
        self._options = dataclasses.replace(self._options, threads=threads)
        return threads

    def _new_rate_limit(self, bytes_per_s: int | None) -> int | None:
        """Record a new rate limit (0 or ``None``: none); return it."""
        limit = bytes_per_s or None
        self._options = dataclasses.replace(self._options, limit_rate=limit)
        return limit
