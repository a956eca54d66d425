"""Disk mode: fill ``NAME.part`` at offsets, checkpoint to the resume store, then rename.

Guarantees: bytes are only ever written under ``NAME.part``, inside the output folder,
into a file hydra-tui created (``engine/io/partfile.py``: no link is followed, a user's file
is left alone); the final name appears (by a no-clobber hard link) only once every byte
is present and any expected digest matched; the resume store claims a range only after
the ``.part`` was fdatasync'ed, and only for that very file; a remote that changed since
the bytes on disk were fetched means starting over, never a splice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from hydra_tui.engine.download import Download, Probed
from hydra_tui.engine.http.error_map import local_error
from hydra_tui.engine.io.checksums import check_digests, expected_digests, names_of
from hydra_tui.engine.io.commit import Staged, group_commit
from hydra_tui.engine.io.filename import candidate_paths, download_name
from hydra_tui.engine.io.partfile import OutputFolder, PartFile, claim_part, part_names
from hydra_tui.engine.io.prefix_hash import PrefixHasher
from hydra_tui.engine.io.resume import ResumeRecord, boot_id
from hydra_tui.engine.io.sinks import DiskSink
from hydra_tui.engine.io.writeback import start_writeback
from hydra_tui.engine.mirrors.metalink import is_metalink_type
from hydra_tui.engine.mirrors.probe import probe_sources
from hydra_tui.engine.mirrors.run import MirrorRun
from hydra_tui.engine.one_connection import fetch_single
from hydra_tui.engine.plan.planner import Planner, choose_chunk_size
from hydra_tui.engine.plan.ranges import RangeSet
from hydra_tui.engine.signals import MetalinkFound, RangeIgnored
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.engine.transfer import TransferRun, unwrap
from hydra_tui.errors import (
    LocalIOError,
    ProtocolViolation,
    RemoteChangedError,
)

__all__ = ["DownloadResult", "download_to_disk", "place_part"]

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


async def download_to_disk(dl: Download, *, follow_metalink: bool = False) -> DownloadResult:
    """Run ``dl`` to completion on disk; raises a ``HydraError`` on failure. With
    ``follow_metalink``, a URL whose probe answers a metalink Content-Type raises
    ``MetalinkFound`` instead of saving it (the caller downloads its files)."""
    restarts = 0
    with dl.running(stopped=DownloadState.PAUSED):
        while True:
            try:
                result = await _attempt(dl, fresh=restarts > 0, follow_metalink=follow_metalink)
            except RemoteChangedError as exc:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise
                log.warning("%s: %s; starting over", dl.shown_url, exc)
                dl.gate.controller.note("changed", "remote changed, starting over")
                continue
            dl.state = DownloadState.DONE
            return result


def place_part(dl: Download, probed: Probed) -> tuple[PartFile, ResumeRecord | None]:
    """Pick ``NAME`` and claim ``NAME.part`` (``engine/io/partfile.py``), with the resume
    record kept for it. A name is skipped when a file, folder or link is there, when
    this process is already downloading to it, or when each of its temporary names
    (``NAME.part``, ``NAME.1.part``, ...) is the user's: ``stem.1.ext`` etc. then."""
    remote = probed.remote
    out = dl.options.output_dir
    if not out.is_dir():  # a stat: mkdir would lock the parent folder every time
        if out.exists():
            raise LocalIOError(f"cannot write into {out}: not a directory")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise local_error(exc, out, kept=False) from exc
    name = download_name(dl.options.filename, remote.disposition_name, remote.final_url, dl.url)
    names = dl.ctx.claimed_names
    folder = OutputFolder(out)
    try:
        for final in candidate_paths(out, name):
            if folder.lexists(final.name):
                continue
            key = str(folder.resolved / final.name)
            if not names.claim(key):
                continue  # another download of this run writes it
            try:
                found = _claim(dl, folder, final.name)
            except BaseException:
                names.release(key)
                raise
            if found is None:
                names.release(key)
                continue
            found[0].hold(names, key)
            if final.name != name:
                log.warning("%s is taken; saving as %s", out / name, final.name)
            return found
    except BaseException:
        folder.close()
        raise
    folder.close()
    raise LocalIOError(f"no free file name for {name} in {out}")


def _claim(
    dl: Download, folder: OutputFolder, final: str
) -> tuple[PartFile, ResumeRecord | None] | None:
    """Claim the first of ``final``'s temporary names that is free or ours; ``None``
    when each is the user's."""
    store = dl.ctx.store
    for part in part_names(final):
        record = None if store is None else store.load(folder.resolved / part)
        pf = claim_part(folder, final, None if record is None else record.identity, part)
        if pf is not None:
            return pf, record
        log.warning("%s is not hydra-tui's; leaving it alone", folder.path / part)
    return None


async def _attempt(dl: Download, *, fresh: bool, follow_metalink: bool) -> DownloadResult:
    if dl.options.mirrors or dl.options.metalink is not None:
        probed = await probe_sources(dl)  # all at once; the URL may fall back to a mirror
    else:
        probed = await dl.probe()
        if follow_metalink and is_metalink_type(probed.remote.content_type):
            data = probed.head if probed.head_complete else None
            raise MetalinkFound(dl.url, dl.shown_url, data)
    # before a byte is written: a checksum file without this file's line fails now
    dl.expected_digests = expected_digests(dl.options, names_of(dl.options, probed.remote, dl.url))
    if probed.head_complete:
        return await _save_whole(dl, probed)
    remote = probed.remote
    pf, record = place_part(dl, probed)
    sink = DiskSink(pf, dl.ctx.executor)
    final = pf.final
    dl.name, dl.path = final.name, str(final)
    store = dl.ctx.store
    done = RangeSet()
    try:
        if record is not None and not pf.matches(record.identity):
            if not pf.created:
                log.warning("%s: the resume record is for another file; starting over", final.name)
        elif (
            record is not None
            and remote.multi_connection
            and not fresh
            and record.same_remote(remote.size, remote.etag, remote.last_modified)
        ):
            done = RangeSet(record.ranges)
        elif record is not None and not fresh:  # a restart in this run said why already
            if remote.etag is None and remote.last_modified is None:
                log.warning("%s: no validator proves the remote file is unchanged since the "
                            "last run; starting over", final.name)  # fmt: skip
            else:
                log.warning("%s: the remote file changed since the last run; starting over",
                            final.name)  # fmt: skip
        if done.total == 0:
            pf.start_over()
        actual = sink.size()
        done.remove(actual, 1 << 62)  # never trust ranges past the end of the file on disk
        dl.resumed_bytes = done.total
        if dl.resumed_bytes:
            log.info("%s: resuming, %d bytes already on disk", final.name, dl.resumed_bytes)
        dl.state = DownloadState.DOWNLOADING
        stored = False
        hasher = None
        async with dl.sampling():
            if remote.multi_connection:
                assert remote.size is not None
                if dl.expected_digests:
                    hasher = PrefixHasher(sink.fd, list(dl.expected_digests), sink.reader.read)
                stored = await _fill_ranges(dl, probed, sink, done, hasher)
            else:
                await _fill_single(dl, probed, sink)
        size = sink.size()
        if remote.size is not None and size != remote.size:
            raise ProtocolViolation(f"{final.name}: got {size} bytes, expected {remote.size}")
        dl.state = DownloadState.VERIFYING
        await asyncio.get_running_loop().run_in_executor(dl.ctx.executor, sink.sync)
        digests = await _verify(dl, sink, hasher)
        pf.publish()
        if store is not None and (record is not None or stored):
            store.forget(pf.key)
        dl.path = str(final)
        return DownloadResult(
            dl.url, final, size, digests.get("sha256"), digests.get("md5"), dl.resumed_bytes
        )
    finally:
        sink.close()


async def _save_whole(dl: Download, probed: Probed) -> DownloadResult:
    """The probe brought every byte: the group commit writes them (on its thread), then
    fdatasyncs and publishes them in one round with the other small files finishing now.

    Nothing here needs the resume store: a run killed before the publish re-fetches one
    response. The fdatasync stays (the final name never points at bytes a power loss
    could take back), shared with every file of the same round.
    """
    head = probed.head
    dl.state = DownloadState.DOWNLOADING
    dl.single_done = len(head)
    wanted = dl.expected_digests
    found: dict[str, str] = {}
    existed = False

    def prepare(staged: Staged) -> None:
        nonlocal existed
        existed = _stage(dl, probed, wanted, staged, found)

    staged = Staged(prepare=prepare)
    await group_commit(dl.ctx.executor).commit(staged)
    assert staged.final is not None and staged.part is not None
    dl.name, dl.path = staged.final.name, str(staged.final)
    if found:
        dl.checksum = check_digests(wanted, found)
    store = dl.ctx.store
    if existed and store is not None and staged.sink is not None:
        store.forget(staged.sink.file.key)  # what an earlier, interrupted run left
    return DownloadResult(dl.url, staged.final, len(head), found.get("sha256"), found.get("md5"), 0)


def _stage(
    dl: Download, probed: Probed, wanted: dict[str, str], staged: Staged, found: dict[str, str]
) -> bool:
    """Pick the name, write ``NAME.part`` (locked, truncated), check the digests and
    start its writeback; fills ``staged`` and ``found`` (the digests). Runs in the commit
    round; returns whether a ``.part`` was there before."""
    pf, record = place_part(dl, probed)
    staged.final, staged.part = pf.final, pf.path
    staged.sink = sink = DiskSink(pf, dl.ctx.executor)
    pf.start_over()
    data = probed.head
    if data:
        sink.write_now(0, [data])
        start_writeback(sink.fd)
    found.update(_check_digests(wanted, data, pf.path))
    return not pf.created or record is not None


def _check_digests(wanted: dict[str, str], data: bytes, part: Path) -> dict[str, str]:
    found = {alg: hashlib.new(alg, data).hexdigest() for alg in wanted}
    check_digests(wanted, found, kept=part)
    return found


async def _fill_ranges(
    dl: Download, probed: Probed, sink: DiskSink, done: RangeSet, hasher: PrefixHasher | None
) -> bool:
    """Fetch the missing ranges into ``sink``; True if the resume store got a record.
    ``hasher`` follows the contiguous prefix on disk as it grows."""
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
    url_cmd = dl.renewer.command()  # kept so that a resume renews the same way

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
        store.save(sink.file.key, url=dl.url, size=remote.size, etag=remote.etag,
                   last_modified=remote.last_modified, durable=durable,
                   volatile=ranges, identity=sink.file.identity,
                   url_cmd=url_cmd)  # fmt: skip
        saved = key

    async def checkpoints() -> None:
        """Checkpoint every second, or sooner once a few MiB per connection are at
        stake, so a kill loses little whatever the speed; fdatasync only every
        DURABLE_SECONDS (what a power loss may cost)."""
        loop = asyncio.get_running_loop()
        last = last_sync = loop.time()
        last_done = planner.done_bytes
        while True:
            await asyncio.sleep(0.25)
            now, grown = loop.time(), planner.done_bytes - last_done
            if now - last >= CHECKPOINT_SECONDS or grown >= CHECKPOINT_BYTES * dl.threads:
                sync = now - last_sync >= DURABLE_SECONDS
                last, last_done = now, planner.done_bytes
                if sync:
                    last_sync = now
                ranges = planner.done.copy()
                await loop.run_in_executor(dl.ctx.executor, checkpoint, ranges, sync)

    if planner.complete:
        return False  # everything was on disk already: nothing to checkpoint

    async def follow() -> None:
        loop = asyncio.get_running_loop()
        while hasher is not None:
            await asyncio.sleep(0.25)
            prefix = next((end for begin, end in planner.done if begin == 0), 0)
            if prefix - hasher.pos >= 4 * 1024 * 1024:
                await loop.run_in_executor(dl.ctx.executor, hasher.advance, prefix)

    run: TransferRun | MirrorRun
    if dl.mirror_set is not None:
        run = MirrorRun(dl, dl.mirror_set, planner, sink)
    else:
        run = dl.transfer = TransferRun(dl, remote, planner, sink)
    checkpoint_task = asyncio.create_task(checkpoints())
    finished = False
    follow_task = asyncio.create_task(follow())
    try:
        try:
            if not planner.complete:
                await run.run()
        except BaseExceptionGroup as group:
            raise unwrap(group) from None
    except RangeIgnored:
        log.warning("%s: server ignores Range; continuing over one connection", dl.shown_url)
        dl.planner = None
        follow_task.cancel()
        if hasher is not None:
            hasher.restart()  # the file is written again from byte 0
        await fetch_single(dl, remote, sink, resumable_skip=False)
        planner.done.add(0, remote.size)
    else:
        finished = True
    finally:
        for task in (checkpoint_task, follow_task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        dl.transfer = None
        if planner.complete:  # every byte is in: what is left (sync, digests) is the disk's
            dl.state = DownloadState.VERIFYING
        # final durable checkpoint, whatever happened (a kill -9 skips this; the ticker's
        # volatile ones did not) -- unless the file completed before its first
        # checkpoint: a record written only to be forgotten a moment later costs a
        # transaction and an fdatasync, and a kill now loses under a second of work
        last = None if planner.complete and saved == (-1, -1) else planner.done.copy()
        if last is not None and not finished:  # failed or cancelled: now, before any await
            with contextlib.suppress(OSError, LocalIOError):
                checkpoint(last, True)
    if last is not None:
        # off the loop: an fdatasync behind other files' writeback can take seconds, and
        # every download and the UI's answers would wait for it
        with contextlib.suppress(OSError, LocalIOError):
            await asyncio.get_running_loop().run_in_executor(
                dl.ctx.executor, checkpoint, last, True
            )
    return saved != (-1, -1)


async def _fill_single(dl: Download, probed: Probed, sink: DiskSink) -> None:
    remote = probed.remote
    if probed.head_complete:
        sink.truncate(0)
        sink.write_now(0, [probed.head])
        dl.single_done = len(probed.head)
        return
    sink.truncate(0)
    await fetch_single(dl, remote, sink, resumable_skip=False)


async def _verify(dl: Download, sink: DiskSink, hasher: PrefixHasher | None) -> dict[str, str]:
    """Check the expected digests (``engine/io/checksums.py``) against the ``.part`` (read
    through our own descriptor, the way it was written; ``hasher`` has read the prefix
    while later ranges still arrived); a mismatch keeps the file as ``.part``."""
    wanted = dl.expected_digests
    loop = asyncio.get_running_loop()
    if hasher is None and wanted:  # one read of the whole file for every algorithm
        hasher = PrefixHasher(sink.fd, list(wanted), sink.reader.read)
    found = {} if hasher is None else await loop.run_in_executor(dl.ctx.executor, hasher.finish)
    dl.checksum = check_digests(wanted, found, kept=sink.path)
    return {alg: found[alg] for alg in wanted}
