"""``DownloadManager``: a queue of disk downloads, at most ``max_active`` at once.

It implements ``hydra_tui.engine.backends.protocol.DownloadBackend`` for the TUI. Pausing cancels
the running task (the ``.part`` file and the resume store keep every byte); resuming
starts a fresh run that picks up from the resume store, so pause/resume and quit/restart
are the same, well-tested path.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
from pathlib import Path

from hydra_tui.engine.backends.protocol import DownloadControl, QueueEntry
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.errors import HydraError

__all__ = ["DownloadManager", "ManagedDownload"]

log = logging.getLogger(__name__)
_ids = itertools.count(1)


class ManagedDownload(QueueEntry):
    """One queue entry; implements ``DownloadControl``."""

    def __init__(
        self, manager: DownloadManager, id: str, url: str, options: DownloadOptions, *, paused: bool
    ) -> None:
        super().__init__(id, url, options)
        self._manager = manager
        self.state = DownloadState.PAUSED if paused else DownloadState.QUEUED
        self.dl: Download | None = None
        self.task: asyncio.Task[None] | None = None
        self._last: DownloadSnapshot | None = None
        self._error: str | None = None
        #: the snapshot of an entry not running, and what it was made of
        self._idle: tuple[tuple[object, ...], DownloadSnapshot] | None = None
        self._exit_code = 0

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def snapshot(self) -> DownloadSnapshot:
        if self.dl is not None and self.running:
            return self.dl.snapshot()
        # the same object while nothing changed: the snapshot wire skips it
        # (``snapshot_wire``), so a long queue of waiting entries costs nothing per poll
        key = (
            self.state, self._error, self._exit_code, id(self._last),
            self._options.threads, self._options.limit_rate,
        )  # fmt: skip
        idle = self._idle
        if idle is not None and idle[0] == key:
            return idle[1]
        base = self._last or DownloadSnapshot(
            id=self._id, url=self._url, state=self.state,
            folder=str(self._options.output_dir.absolute()),
        )  # fmt: skip
        snap = dataclasses.replace(
            base, state=self.state, error=self._error, exit_code=self._exit_code, speed=0.0,
            active=0,
            max_window=self._options.threads, rate_limit=self._options.limit_rate,
        )  # fmt: skip
        self._idle = (key, snap)
        return snap

    def pause(self) -> None:
        if self.state in (DownloadState.QUEUED,) or self.running:
            log.info("%s: paused", self._url)
            self._stop(DownloadState.PAUSED)

    def resume(self) -> None:
        if self.state is DownloadState.PAUSED:
            log.info("%s: resumed (queued)", self._url)
            self.state = DownloadState.QUEUED
            self._manager.kick()

    def cancel(self) -> None:
        if not self.state.finished or self.running:
            log.info("%s: cancelled", self._url)
            self._stop(DownloadState.CANCELLED)

    def retry(self) -> None:
        if self.state in (DownloadState.FAILED, DownloadState.CANCELLED) and not self.running:
            log.info("%s: retry (queued again)", self._url)
            self.state = DownloadState.QUEUED
            self._error = None
            self._manager.kick()

    def set_threads(self, threads: int) -> None:
        threads = self._new_threads(threads)
        if self.dl is not None:
            self.dl.set_threads(threads)

    def set_rate_limit(self, bytes_per_s: int | None) -> None:
        limit = self._new_rate_limit(bytes_per_s)
        if self.dl is not None:
            self.dl.set_rate_limit(limit)

    def _stop(self, state: DownloadState) -> None:
        self.state = state
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self._manager.kick()

    async def _run(self, ctx: EngineContext) -> None:
        self.dl = Download(ctx, self._url, self._options, id=self._id)
        self.state = DownloadState.PROBING
        self._error = None
        # the log screen (L) tells each download's story: start, finish, failure, cancel
        log.info("%s: started", self._url)
        self._exit_code = 0
        try:
            result = await download_to_disk(self.dl)
            self.state = DownloadState.DONE
            log.info("%s: finished: %s (%d bytes)", self._url, result.path, result.size)
        except HydraError as exc:
            self.state = DownloadState.FAILED
            self._error = str(exc)
            self._exit_code = exc.exit_code
            log.warning("%s: failed: %s", self._url, exc)
        except asyncio.CancelledError:
            if not self.state.finished and self.state is not DownloadState.PAUSED:
                self.state = DownloadState.PAUSED
        except Exception as exc:  # a bug must not take the whole queue down
            log.exception("%s: unexpected error", self._url)
            self.state = DownloadState.FAILED
            self._error = f"internal error: {exc!r}"
            self._exit_code = 1
        finally:
            self._last = self.dl.snapshot()
            self._idle = None
            self._manager.kick()


class DownloadManager:
    """A download queue over one ``EngineContext``; implements ``DownloadBackend``."""

    def __init__(
        self,
        options: DownloadOptions | None = None,
        *,
        max_active: int = 3,
        state_dir: Path | None = None,
    ) -> None:
        self.base_options = options or DownloadOptions()
        self.max_active = max_active
        self._state_dir = state_dir
        self._entries: dict[str, ManagedDownload] = {}
        self._wake: asyncio.Event | None = None
        self.ctx: EngineContext | None = None
        #: deletions of removed entries' files, waiting for their downloads to stop
        self._cleanups: set[asyncio.Future[None]] = set()

    # -- queue -------------------------------------------------------------------------
    def add(
        self, url: str, options: DownloadOptions, *, id: str | None = None, paused: bool = False
    ) -> ManagedDownload:
        entry_id = id or f"q{next(_ids)}"
        while entry_id in self._entries:
            entry_id = f"q{next(_ids)}"
        entry = ManagedDownload(self, entry_id, url, options, paused=paused)
        self._entries[entry_id] = entry
        self.kick()
        return entry

    def remove(self, id: str, *, delete_files: bool = False) -> None:
        entry = self._entries.pop(id)
        task = entry.task if entry.running else None
        if task is not None:
            task.cancel()
        if delete_files:
            cleanup = asyncio.ensure_future(self._delete_files(entry, task))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
        self.kick()

    def move(self, id: str, index: int) -> None:
        """Put the entry at ``index`` of the queue (0: first); queued entries start in
        queue order, so this is also how a download gets priority."""
        entry = self._entries[id]
        order = [e for e in self._entries.values() if e is not entry]
        order.insert(max(0, min(len(order), index)), entry)
        self._entries = {e.id: e for e in order}
        self.kick()

    async def _delete_files(self, entry: ManagedDownload, task: asyncio.Task[None] | None) -> None:
        """Delete what this entry wrote: its ``NAME.part`` and its resume record, and
        ``NAME`` only if this entry published it (never a file it did not create)."""
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)  # its sink is closed now
        snap = entry.snapshot()
        if snap.path is None:
            return
        final = Path(snap.path)
        part = final.with_name(final.name + ".part")
        store = None if self.ctx is None else self.ctx.store
        targets = [part, final] if snap.state is DownloadState.DONE else [part]
        for path in targets:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("%s: could not delete %s: %s", entry.url, path, exc)
                continue
            log.info("%s: deleted %s", entry.url, path)
        if store is not None:
            store.forget(part)

    def get(self, id: str) -> ManagedDownload:
        return self._entries[id]

    def controls(self) -> list[DownloadControl]:
        return [*self._entries.values()]

    def snapshots(self) -> list[DownloadSnapshot]:
        return [e.snapshot() for e in self._entries.values()]

    def kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- scheduling --------------------------------------------------------------------
    async def run(self) -> None:
        """Start queued entries as slots free; runs until cancelled."""
        self._wake = asyncio.Event()
        ctx = EngineContext(
            self.base_options,
            max_connections=max(64, self.max_active * self.base_options.threads * 2),
            state_dir=self._state_dir,
        )
        self.ctx = ctx
        try:
            while True:
                self._wake.clear()
                running = [e for e in self._entries.values() if e.running]
                for entry in self._entries.values():
                    if len(running) >= self.max_active:
                        break
                    if entry.state is DownloadState.QUEUED and not entry.running:
                        entry.task = asyncio.create_task(
                            entry._run(ctx), name=f"download {entry.id}"
                        )
                        running.append(entry)
                # not ``wait_for``: on 3.11 it loses a cancel that comes as the event is
                # set (a download ending as the app quits), and the queue ran on for good
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._wake.wait()
        finally:
            tasks = [
                e.task for e in self._entries.values() if e.task is not None and not e.task.done()
            ]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if self._cleanups:
                await asyncio.gather(*self._cleanups, return_exceptions=True)
            self.ctx = None
            await ctx.aclose()
