"""``--no-ui``: every URL to disk, ``-j`` at a time, and one exit status for the lot.

A URL that fails is reported in one line and the others go on; the status is 0 when all
succeeded, the failures' own code when all failed alike, and ``EXIT_PARTIAL`` (4) when
some did. A URL whose answer is a metalink adds its files to the queue.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from hydra_tui.cli.headless import url_options
from hydra_tui.cli.progress import reporting
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.download import Download
from hydra_tui.errors import HydraError

if TYPE_CHECKING:
    from hydra_tui.cli.progress import Progress
    from hydra_tui.engine.options import DownloadOptions

__all__ = ["EXIT_PARTIAL", "run_disk"]

EXIT_PARTIAL = 4


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
                        progress.report_error(dl.url, exc, err, dl.snapshot())
                        codes.append(exc.exit_code)
                    finally:
                        running.remove(dl)
                        if found is None and not progress.silent:
                            progress.finished(dl.snapshot())
                    if found is not None:
                        await follow(found)
            finally:
                workers -= 1

        try:
            async with (
                reporting(progress, running),
                asyncio.TaskGroup() as tg,
            ):

                def spawn() -> None:
                    nonlocal workers
                    workers += 1
                    tg.create_task(worker())

                for _ in range(min(max(1, jobs), len(pending))):
                    spawn()
        finally:
            progress.close()
    return _combine(codes)


def _combine(codes: list[int]) -> int:
    failures = [c for c in codes if c != 0]
    if not failures:
        return 0
    if len(failures) < len(codes):
        return EXIT_PARTIAL
    return failures[0] if len(set(failures)) == 1 else 1
