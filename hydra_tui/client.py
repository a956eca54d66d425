"""``HydraClient``: the Python API over the same engine as the command line.

::

    async with HydraClient(threads=8, buffer="64MiB") as client:
        async for name, chunks in client.stream(urls):
            async for chunk in chunks:
                ...
        result = await client.download(url, dest_dir)   # path, size, sha256

Each client owns its HTTP connections, AIMD gates and resume store handle: several
clients in one process share nothing. Leaving the ``async with`` (or breaking out of a
loop) closes every connection the client opened.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import DownloadResult, download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.reorder import Piece
from hydra_tui.engine.stream import stream_blocks
from hydra_tui.units import parse_rate, parse_size

__all__ = ["DownloadResult", "HydraClient"]


class HydraClient:
    """Download files to disk or stream them in order, over many connections."""

    def __init__(
        self,
        *,
        threads: int = 8,
        buffer: str | int | None = None,
        limit_rate: str | int | None = None,
        retries: int = 5,
        state_dir: Path | None = None,
        resume: bool = True,
        options: DownloadOptions | None = None,
        **extra: Any,
    ) -> None:
        base = options or DownloadOptions()
        self.options = dataclasses.replace(
            base,
            threads=threads,
            buffer=None if buffer is None else parse_size(buffer, what="buffer"),
            limit_rate=None if limit_rate is None else parse_rate(limit_rate) or None,
            retries=retries,
            **extra,
        )
        self._state_dir = state_dir
        self._resume = resume
        self._ctx: EngineContext | None = None
        #: running ``download()`` bodies, cancelled (and awaited) when the client closes
        self._running: set[asyncio.Task[DownloadResult]] = set()

    async def __aenter__(self) -> HydraClient:
        self._ctx = EngineContext(
            self.options,
            max_connections=max(64, self.options.threads * 4),
            state_dir=self._state_dir,
            resume=self._resume,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        # downloads still running in other tasks stop here, before their connections,
        # I/O threads and resume store go away under them
        running = [t for t in self._running if t is not asyncio.current_task()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        if self._ctx is not None:
            await self._ctx.aclose()
            self._ctx = None

    @property
    def ctx(self) -> EngineContext:
        if self._ctx is None:
            raise RuntimeError("use HydraClient inside 'async with'")
        return self._ctx

    async def download(
        self,
        url: str,
        dest_dir: str | Path = ".",
        *,
        filename: str | None = None,
        sha256: str | None = None,
        md5: str | None = None,
        digest: bool = True,
    ) -> DownloadResult:
        """Download ``url`` into ``dest_dir``; resumes a previous partial download.

        The result carries the file's sha256 (``digest=False`` skips reading it back).
        Leaving the client's ``async with`` while this runs cancels it (``CancelledError``;
        the ``.part`` and its resume record are kept).
        """
        ctx = self.ctx
        opts = dataclasses.replace(
            self.options, output_dir=Path(dest_dir), filename=filename, sha256=sha256, md5=md5
        )
        task = asyncio.create_task(_download(ctx, url, opts, digest=digest))
        self._running.add(task)
        try:
            return await task
        finally:
            self._running.discard(task)

    async def stream(
        self, urls: str | Iterable[str], *, sha256: str | None = None, md5: str | None = None
    ) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """Yield ``(name, chunks)`` per URL; ``chunks`` yields the file's bytes in order.

        Chunks not consumed before the next URL is requested are discarded.
        """
        if isinstance(urls, str):
            urls = [urls]
        opts = dataclasses.replace(self.options, sha256=sha256, md5=md5)
        for url in urls:
            dl = Download(self.ctx, url, opts)
            probed = await dl.probe()
            name = probed.remote.final_url.rstrip("/").rsplit("/", 1)[-1] or url
            chunks = _pieces(stream_blocks(dl, probed=probed))
            try:
                yield name, chunks
            finally:
                await chunks.aclose()


async def _download(
    ctx: EngineContext, url: str, opts: DownloadOptions, *, digest: bool
) -> DownloadResult:
    """The body of ``HydraClient.download``, run as a task the client can cancel."""
    dl = Download(ctx, url, opts)
    result = await download_to_disk(dl)
    if digest and result.sha256 is None:
        from hydra_tui.engine.sinks import hash_file

        loop = asyncio.get_running_loop()
        value = await loop.run_in_executor(ctx.executor, hash_file, result.path, "sha256")
        result = dataclasses.replace(result, sha256=value)
    return result


async def _pieces(blocks: AsyncIterator[Sequence[Piece]]) -> AsyncGenerator[bytes, None]:
    try:
        async for block in blocks:
            for piece in block:
                # the engine may hand out its own buffers; callers get immutable bytes
                yield piece if isinstance(piece, bytes) else bytes(piece)
    finally:
        aclose = getattr(blocks, "aclose", None)
        if aclose is not None:
            await aclose()
