"""Making finished ``.part`` files durable and giving them their final names.

A file is published (``PartFile.publish``: a hard link to ``NAME``, never replacing a
file) only once its bytes were fdatasync'ed. ``GroupCommit`` does that for many small
files at once: each fdatasync of a fresh file forces a journal commit, and on ext4
every create, link and unlink of the other downloads waits behind it. Files that finish
while a round runs wait for the next one, which syncs them all: the first fdatasync of
a round commits the journal for every file whose writeback was already started
(``start_writeback``), the others find their data committed. A file is published only
after its own fdatasync returned: a crash at any point leaves at most a ``.part``
(which no resume record vouches for, so it is written afresh) and never a wrong file
under ``NAME``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from hydra_tui.engine.http.error_map import local_error
from hydra_tui.engine.io.sinks import DiskSink
from hydra_tui.errors import HydraError, LocalIOError

__all__ = ["GroupCommit", "Staged"]


@dataclass(eq=False)
class Staged:
    """A ``.part`` holding every byte, open and locked, waiting to be published.

    With ``prepare``, the file is written by the commit round itself, on its thread,
    first: ``prepare`` fills in ``sink``, ``part`` and ``final`` (or raises a
    ``HydraError``, which fails this file only).
    """

    sink: DiskSink | None = None
    part: Path | None = None
    final: Path | None = None
    prepare: Callable[[Staged], None] | None = None
    error: BaseException | None = None
    published: bool = False
    done: asyncio.Future[None] | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.sink is not None:
            with contextlib.suppress(OSError):
                self.sink.close()


class GroupCommit:
    """Write (``Staged.prepare``), fdatasync and publish many files per round, on one
    of the engine's I/O threads: one executor hop per round, not per file.

    The ``Staged`` file belongs to the committer once handed over: it is synced,
    published and closed even if the caller stops waiting (bytes already complete and
    verified are kept under their final name rather than thrown away).
    """

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._pending: list[Staged] = []
        self._runner: asyncio.Task[None] | None = None

    async def commit(self, staged: Staged) -> None:
        """Sync and publish ``staged``; raises ``LocalIOError`` if either failed."""
        loop = asyncio.get_running_loop()
        done = staged.done = loop.create_future()
        done.add_done_callback(_retrieved)
        self._pending.append(staged)
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run(), name="hydra group commit")
        await asyncio.shield(done)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    fut = loop.run_in_executor(self._executor, _commit_round, batch)
                except RuntimeError:  # the I/O pool is shut down: the engine is closing
                    self._pending = batch + self._pending
                    return
                fut.add_done_callback(functools.partial(_round_done, batch))
                # shielded: the round runs to its end on its thread whatever happens here,
                # and its callback settles the batch even if this task is cancelled
                with contextlib.suppress(Exception):
                    await asyncio.shield(fut)
        finally:
            # stopped with files never handed to a round: they stay ``.part`` files,
            # unpublished, and their descriptors must not leak
            batch, self._pending = self._pending, []
            for staged in batch:
                staged.close()
                staged.error = LocalIOError(f"stopped before publishing; kept {staged.part}")
            _settle(batch)


def _retrieved(done: asyncio.Future[None]) -> None:
    """A caller that stopped waiting never sees the error: do not log it as lost."""
    if not done.cancelled():
        done.exception()


def _round_done(batch: list[Staged], round_: asyncio.Future[None]) -> None:
    """Settle every file of a round; if the round itself broke, those it did not
    publish failed (and are closed)."""
    broken = round_.cancelled() or round_.exception() is not None
    if broken:
        why = "cancelled" if round_.cancelled() else repr(round_.exception())
        for staged in batch:
            if not staged.published and staged.error is None:
                staged.error = LocalIOError(f"could not publish {staged.final} ({why})")
            staged.close()
    _settle(batch)


def _settle(batch: list[Staged]) -> None:
    for staged in batch:
        done = staged.done
        if done is None or done.done():
            continue
        if staged.error is not None:
            done.set_exception(staged.error)
        else:
            done.set_result(None)


def _commit_round(batch: list[Staged]) -> None:
    """Write the files that are not written yet, fdatasync every file, then publish
    those that synced (I/O thread)."""
    for staged in batch:
        if staged.prepare is not None:
            try:
                staged.prepare(staged)
            except HydraError as exc:
                staged.error = exc
    for staged in batch:
        if staged.error is None and staged.sink is not None:
            try:
                staged.sink.sync()
            except LocalIOError as exc:
                staged.error = exc
    for staged in batch:
        if staged.error is None and staged.sink is not None and staged.final is not None:
            try:
                staged.sink.file.publish()
                staged.published = True
            except LocalIOError as exc:
                staged.error = exc
            except OSError as exc:
                staged.error = local_error(exc, staged.final)
        staged.close()


_committers: weakref.WeakKeyDictionary[Executor, GroupCommit] = weakref.WeakKeyDictionary()


def group_commit(executor: Executor) -> GroupCommit:
    """The committer of the engine that owns ``executor`` (one per I/O pool)."""
    gc = _committers.get(executor)
    if gc is None:
        gc = _committers[executor] = GroupCommit(executor)
    return gc
