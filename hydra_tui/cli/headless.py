"""The headless modes: ``--no-ui`` downloads to disk and ``--stream`` to stdout.

In stream mode stdout carries only data; progress, logs and errors go to stderr. A
reader that goes away (``| head -c 100``) ends the run quietly with status 141, the
status a shell reports for a process ended by SIGPIPE.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sys
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.download import Download
from hydra_tui.errors import ChecksumMismatch, HydraError, LocalIOError

if TYPE_CHECKING:
    from hydra_tui.cli.progress import Progress
    from hydra_tui.engine.options import DownloadOptions

__all__ = ["EXIT_PARTIAL", "EXIT_SIGPIPE", "run_disk", "run_stream", "url_options"]

log = logging.getLogger(__name__)
EXIT_PARTIAL = 4
EXIT_SIGPIPE = 141


async def _progress_loop(progress: Progress, snaps: Callable[[], list[Download]]) -> None:
    while True:
        await asyncio.sleep(1.0)
        progress.update([d.snapshot() for d in snaps()])


async def run_disk(
    urls: list[str],
    options: DownloadOptions,
    *,
    jobs: int,
    progress: Progress,
    err: TextIO,
    state_dir: os.PathLike[str] | None = None,
    per_url: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """Download every URL to disk, ``jobs`` at a time; return the exit status.

    ``per_url`` overrides options of single URLs (``-O FILE``, an ``-i`` list's
    ``out=``/``dir=``/``checksum=`` lines).
    """
    from pathlib import Path

    from hydra_tui.engine.disk import download_to_disk
    from hydra_tui.engine.signals import MetalinkFound

    async with EngineContext(
        options,
        max_connections=max(4, jobs * options.threads),
        state_dir=None if state_dir is None else Path(state_dir),
    ) as ctx:
        pending = deque(
            Download(ctx, url, url_options(options, (per_url or {}).get(url))) for url in urls
        )
        running: list[Download] = []
        codes: list[int] = []
        workers = 0

        async def follow(found: MetalinkFound) -> None:
            """A URL was a metalink (by Content-Type): its files join the queue."""
            from hydra_tui.cli.metalink_source import found_metalink, metalink_downloads

            try:
                files = await found_metalink(found, options)
            except HydraError as exc:
                progress.report_error(found.url, exc, err)
                codes.append(exc.exit_code)
                return
            for url, extra in metalink_downloads(files):
                pending.append(Download(ctx, url, url_options(options, extra)))
            for _ in range(min(max(1, jobs) - workers, len(pending))):
                spawn()

        async def worker() -> None:
            # ``jobs`` workers, each taking the next URL in list order: no task and no
            # semaphore wake-up per URL
            nonlocal workers
            try:
                while pending:
                    dl = pending.popleft()
                    running.append(dl)
                    found = None
                    try:
                        await download_to_disk(dl, follow_metalink=True)
                        codes.append(0)
                    except MetalinkFound as exc:
                        found = exc
                    except HydraError as exc:
                        progress.report_error(dl.url, exc, err)
                        codes.append(exc.exit_code)
                    finally:
                        running.remove(dl)
                        if found is None and not progress.silent:
                            progress.finished(dl.snapshot())
                    if found is not None:
                        await follow(found)
            finally:
                workers -= 1

        ticker = None
        if not progress.silent:
            ticker = asyncio.create_task(_progress_loop(progress, lambda: list(running)))
        try:
            async with asyncio.TaskGroup() as tg:

                def spawn() -> None:
                    nonlocal workers
                    workers += 1
                    tg.create_task(worker())

                for _ in range(min(max(1, jobs), len(pending))):
                    spawn()
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            progress.close()
    return _combine(codes)


def _combine(codes: list[int]) -> int:
    failures = [c for c in codes if c != 0]
    if not failures:
        return 0
    if len(failures) < len(codes):
        return EXIT_PARTIAL
    return failures[0] if len(set(failures)) == 1 else 1


async def run_stream(
    urls: list[str],
    options: DownloadOptions,
    *,
    progress: Progress,
    err: TextIO,
    out_fd: int | None = None,
    state_dir: os.PathLike[str] | None = None,
    save: os.PathLike[str] | None = None,
) -> int:
    """Stream every URL, one after another, to ``out_fd`` (stdout); return the status.

    ``save`` (one URL): also keep the stream as that file, resuming an interrupted run
    by replaying what it saved (``engine/io/kept_stream.py``)."""
    from pathlib import Path

    from hydra_tui.cli.pipe_writer import PipeWriter
    from hydra_tui.engine.http.error_map import local_reason
    from hydra_tui.engine.io.kept_stream import KeptStream
    from hydra_tui.engine.stream import stream_blocks

    fd = sys.stdout.fileno() if out_fd is None else out_fd
    writer = PipeWriter(fd)
    status = 0
    try:
        async with EngineContext(
            options,
            max_connections=max(16, options.threads * 2),
            state_dir=None if state_dir is None else Path(state_dir),
            resume=save is not None,
        ) as ctx:
            for url in urls:
                kept = None
                if save is None:
                    dl = Download(ctx, url, options)
                    source = stream_blocks(dl, verify=False)
                else:
                    keep = {"filename": Path(save).name, "output_dir": Path(save).parent}
                    dl = Download(ctx, url, url_options(options, keep))
                    kept = KeptStream(dl)
                    source = kept.blocks()
                # made once the probe named the file (a checksum file's line is picked
                # by name); the writer thread hashes what it writes, in order
                hashers: dict[str, Any] | None = None
                ticker = asyncio.create_task(_progress_loop(progress, _just(dl)))
                try:
                    # aclosing: leaving early closes the download now, not at shutdown
                    async with contextlib.aclosing(source) as blocks:
                        async for block in blocks:
                            if hashers is None:
                                hashers = _hashers_for(dl)
                            await writer.write(block, list(hashers.values()))
                    await writer.flush()
                    for alg, h in (hashers or _hashers_for(dl)).items():
                        expected = dl.expected_digests[alg]
                        if h.hexdigest() != expected:
                            kept_as = "" if kept is None else f"; kept {kept.part}"
                            raise ChecksumMismatch(
                                f"{alg} mismatch: expected {expected}, got {h.hexdigest()}"
                                + kept_as
                            )
                    if kept is not None:
                        kept.publish()
                except BrokenPipeError:
                    _silence_stdout(fd)
                    return EXIT_SIGPIPE
                except OSError as exc:
                    why = local_reason(exc)
                    failure = LocalIOError(f"cannot write to standard output: {why}")
                    progress.report_error(url, failure, err)
                    return 1
                except HydraError as exc:
                    # bytes already on stdout cannot be taken back: stop here rather
                    # than splice the next file onto a truncated one
                    progress.report_error(url, exc, err)
                    status = exc.exit_code
                finally:
                    if kept is not None:
                        kept.close()
                    ticker.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await ticker
                    progress.finished(dl.snapshot())
                if status:
                    break
    finally:
        writer.close()
        progress.close()
    return status


def url_options(options: DownloadOptions, extra: Mapping[str, Any] | None) -> DownloadOptions:
    """``options`` with one URL's overrides; ``subdir`` (from ``out=dir/name``) is joined
    to the output folder."""
    if not extra:
        return options
    import dataclasses

    fields = dict(extra)
    subdir = fields.pop("subdir", None)
    changed = dataclasses.replace(options, **fields)
    if subdir is not None:
        changed = dataclasses.replace(changed, output_dir=changed.output_dir / subdir)
    return changed


def _hashers_for(dl: Download) -> dict[str, Any]:
    return {alg: hashlib.new(alg) for alg in dl.expected_digests}


def _just(dl: Download) -> Callable[[], list[Download]]:
    return lambda: [dl]


def _silence_stdout(fd: int) -> None:
    """Point stdout at /dev/null so interpreter shutdown does not complain of EPIPE."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
