"""Disk mode: fill ``NAME.part`` at offsets, checkpoint to the resume store, then rename.

Guarantees: bytes are only ever written under ``NAME.part``; the final name appears (by
a no-clobber hard link) only once every byte is present and any expected digest
matched; the resume store claims a range only after the ``.part`` was fdatasync'ed; a
remote that changed since the bytes on disk were fetched means starting over, never a
splice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from hydra_tui.engine.download import Download, Probed
from hydra_tui.engine.filename import candidate_paths, choose_name, sanitize_filename
from hydra_tui.engine.planner import Planner, choose_chunk_size
from hydra_tui.engine.ranges import RangeSet
from hydra_tui.engine.resume import boot_id
from hydra_tui.engine.single import fetch_single
from hydra_tui.engine.sinks import DiskSink, hash_file
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.engine.transfer import RangeIgnored, TransferRun, unwrap
from hydra_tui.engine.translate import local_error
from hydra_tui.errors import (
    ChecksumMismatch,
    HydraError,
    LocalIOError,
    ProtocolViolation,
    RemoteChangedError,
)

__all__ = ["DownloadResult", "download_to_disk"]

log = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 1.0
CHECKPOINT_BYTES = 1024 * 1024  # per connection
DURABLE_SECONDS = 10.0
MAX_RESTARTS = 2


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """A finished download: where it is, how big, and its digest."""

    url: str
    path: Path
    size: int
    sha256: str | None = None
    md5: str | None = None
    resumed_bytes: int = 0


async def download_to_disk(dl: Download) -> DownloadResult:
    """Run ``dl`` to completion on disk; raises a ``HydraError`` on failure."""
    restarts = 0
    dl.begin()
    try:
        while True:
            try:
                result = await _attempt(dl, fresh=restarts > 0)
            except RemoteChangedError as exc:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise
                log.warning("%s: %s; starting over", dl.url, exc)
                dl.gate.controller.note("changed", "remote changed, starting over")
                continue
            dl.state = DownloadState.DONE
            return result
    except asyncio.CancelledError:
        if dl.state is not DownloadState.DONE:
            dl.state = DownloadState.PAUSED
        raise
    except HydraError as exc:
        dl.state = DownloadState.FAILED
        dl.error = str(exc)
        raise
    finally:
        dl.end()


def _place(dl: Download, probed: Probed) -> tuple[Path, Path]:
    """Pick ``NAME`` (never an existing file: ``stem.1.ext`` etc.) and ``NAME.part``."""
    remote = probed.remote
    out = dl.options.output_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise local_error(exc, out) from exc
    if dl.options.filename:
        name = sanitize_filename(dl.options.filename)
    else:
        name = choose_name(remote.disposition_name, remote.final_url, dl.url)
    for final in candidate_paths(out, name):
        if final.exists() or final.is_symlink():
            continue
        if final.name != name:
            log.warning("%s exists; saving as %s", out / name, final.name)
        return final, final.with_name(final.name + ".part")
    raise LocalIOError(f"no free file name for {name} in {out}")


async def _attempt(dl: Download, *, fresh: bool) -> DownloadResult:
    probed = await dl.probe()
    remote = probed.remote
    final, part = _place(dl, probed)
    dl.name, dl.path = final.name, str(final)
    store = dl.ctx.store
    record = None if store is None else store.load(part)
    done = RangeSet()
    resumable = remote.multi_connection and part.exists() and not fresh
    if (
        record is not None
        and resumable
        and record.same_remote(remote.size, remote.etag, remote.last_modified)
    ):
        done = RangeSet(record.ranges)
    elif record is not None:
        log.warning("%s: the remote file changed since the last run; starting over", final.name)
    sink = DiskSink(part, dl.ctx.executor, truncate=done.total == 0)
    try:
        actual = sink.size()
        done.remove(actual, 1 << 62)  # never trust ranges past the end of the file on disk
        dl.resumed_bytes = done.total
        if dl.resumed_bytes:
            log.info("%s: resuming, %d bytes already on disk", final.name, dl.resumed_bytes)
        dl.state = DownloadState.DOWNLOADING
        if remote.multi_connection:
            assert remote.size is not None
            await _fill_ranges(dl, probed, sink, part, done)
        else:
            await _fill_single(dl, probed, sink)
        size = sink.size()
        if remote.size is not None and size != remote.size:
            raise ProtocolViolation(f"{final.name}: got {size} bytes, expected {remote.size}")
        dl.state = DownloadState.VERIFYING
        await asyncio.get_running_loop().run_in_executor(dl.ctx.executor, sink.sync)
        digests = await _verify(dl, part)
        _publish(part, final)
        if store is not None and (record is not None or dl.planner is not None):
            store.forget(part)
        dl.path = str(final)
        return DownloadResult(
            dl.url, final, size, digests.get("sha256"), digests.get("md5"), dl.resumed_bytes
        )
    finally:
        sink.close()


async def _fill_ranges(
    dl: Download, probed: Probed, sink: DiskSink, part: Path, done: RangeSet
) -> None:
    remote = probed.remote
    assert remote.size is not None
    chunk = dl.options.chunk_size or choose_chunk_size(remote.size, dl.threads)
    planner = Planner(remote.size, chunk_size=chunk, clock=dl.ctx.clock, done=done)
    dl.planner = planner
    head = probed.head
    if head and not planner.done.contains(0, len(head)):
        sink.write_now(0, [head])
        planner.done.add(0, len(head))
    store = dl.ctx.store
    can_trust_volatile = boot_id() is not None
    durable = planner.done.copy()
    saved = (-1, -1)

    def checkpoint(ranges: RangeSet, sync: bool) -> None:
        """Record ``ranges`` (copied on the event loop); with ``sync`` fdatasync first,
        making them durable. Runs on the I/O thread."""
        nonlocal durable, saved
        key = (ranges.total, len(ranges))
        if store is None or (key == saved and not sync):
            return
        if sync or not can_trust_volatile:
            sink.sync()
            durable = ranges
        store.save(part, url=dl.url, size=remote.size, etag=remote.etag,
                   last_modified=remote.last_modified, durable=durable,
                   volatile=ranges)  # fmt: skip
        saved = key

    async def ticker() -> None:
        """Sample progress; checkpoint every second, or sooner once a few MiB per
        connection are at stake, so a kill loses little whatever the speed; fdatasync
        only every DURABLE_SECONDS (what a power loss may cost)."""
        loop = asyncio.get_running_loop()
        last = last_sync = loop.time()
        last_done, ticks = planner.done_bytes, 0
        while True:
            await asyncio.sleep(0.25)
            ticks += 1
            if ticks % 2 == 0:
                dl.tick()
            now, grown = loop.time(), planner.done_bytes - last_done
            if now - last >= CHECKPOINT_SECONDS or grown >= CHECKPOINT_BYTES * dl.threads:
                sync = now - last_sync >= DURABLE_SECONDS
                last, last_done = now, planner.done_bytes
                if sync:
                    last_sync = now
                ranges = planner.done.copy()
                await loop.run_in_executor(dl.ctx.executor, checkpoint, ranges, sync)

    if planner.complete:
        return  # the probe brought the whole (small) file: nothing to checkpoint
    run = TransferRun(dl, remote, planner, sink)
    dl.transfer = run
    tick_task = asyncio.create_task(ticker())
    try:
        try:
            if not planner.complete:
                await run.run()
        except BaseExceptionGroup as group:
            raise unwrap(group) from None
    except RangeIgnored:
        log.warning("%s: server ignores Range; continuing over one connection", dl.url)
        dl.planner = None
        await fetch_single(dl, remote, sink, resumable_skip=False)
        planner.done.add(0, remote.size)
    finally:
        tick_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tick_task
        dl.transfer = None
        # final durable checkpoint, whatever happened (a kill -9 skips this; the ticker's
        # volatile ones did not)
        with contextlib.suppress(OSError, LocalIOError):
            checkpoint(planner.done.copy(), True)
        dl.tick()


async def _fill_single(dl: Download, probed: Probed, sink: DiskSink) -> None:
    remote = probed.remote
    if probed.head_complete:
        sink.truncate(0)
        sink.write_now(0, [probed.head])
        dl.single_done = len(probed.head)
        return
    sink.truncate(0)
    ticker = asyncio.create_task(_tick_forever(dl))
    try:
        await fetch_single(dl, remote, sink, resumable_skip=False)
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        dl.tick()


async def _tick_forever(dl: Download) -> None:
    while True:
        await asyncio.sleep(0.5)
        dl.tick()


async def _verify(dl: Download, part: Path) -> dict[str, str]:
    """Check --md5/--sha256 against the ``.part``; a mismatch keeps the file as ``.part``."""
    wanted = {
        alg: value.lower()
        for alg, value in (("md5", dl.options.md5), ("sha256", dl.options.sha256))
        if value
    }
    digests: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    for alg, value in wanted.items():
        got = await loop.run_in_executor(dl.ctx.executor, hash_file, part, alg)
        digests[alg] = got
        if got != value:
            raise ChecksumMismatch(f"{alg} mismatch: expected {value}, got {got}; kept {part}")
    if digests:
        dl.checksum = ", ".join(f"{k} {v}" for k, v in digests.items())
    return digests


def _publish(part: Path, final: Path) -> None:
    """Give the ``.part`` its final name without ever replacing an existing file."""
    try:
        os.link(part, final)
    except FileExistsError as exc:
        raise LocalIOError(f"{final} appeared while downloading; kept {part}") from exc
    except OSError:
        if final.exists():
            raise LocalIOError(f"{final} appeared while downloading; kept {part}") from None
        part.replace(final)  # a filesystem without hard links
        return
    part.unlink()
