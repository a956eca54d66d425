"""``--checksum-file``: read a checksum list from a path or fetch it from an http(s) URL.

A URL is fetched by the engine itself (stream mode, into memory), so it gets the same
TLS, proxy, redirect and retry handling as the downloads it checks; a list larger than
``MAX_BYTES`` is refused rather than held in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

from hydra_tui.engine.http.urls import redact_url
from hydra_tui.engine.io.checksums import ChecksumList, parse_checksum_list
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import HydraError, UsageError

__all__ = ["MAX_BYTES", "fetch_small", "load_checksum_list"]

MAX_BYTES = 16 * 1024 * 1024


async def load_checksum_list(where: str, options: DownloadOptions) -> ChecksumList:
    """The parsed list at ``where`` (a path, or an http(s) URL fetched with ``options``)."""
    if where.startswith(("http://", "https://")):
        data = await fetch_small(where, options, MAX_BYTES, what="--checksum-file")
        source = redact_url(where)
    else:
        source = where
        data = _read(where)
    return parse_checksum_list(data.decode("utf-8", "surrogateescape"), source)


async def fetch_small(url: str, options: DownloadOptions, limit: int, *, what: str) -> bytes:
    """A small document at ``url``, fetched by the engine into memory (at most ``limit``)."""
    from hydra_tui.engine.context import EngineContext
    from hydra_tui.engine.download import Download
    from hydra_tui.engine.stream import stream_blocks

    plain = dataclasses.replace(
        options, md5=None, sha256=None, checksum_list=None, threads=1, mirrors=(), metalink=None
    )
    got = bytearray()
    try:
        async with EngineContext(plain, max_connections=2, resume=False) as ctx:
            dl = Download(ctx, url, plain)
            async with contextlib.aclosing(stream_blocks(dl)) as blocks:
                async for block in blocks:
                    for piece in block:
                        got += piece
                    if len(got) > limit:
                        break  # closed here: no more of it is fetched
    except HydraError as exc:
        # the line names what failed to load (it is no download of the user's); the
        # error keeps its type, so its exit status too
        exc.args = (f"{what} {redact_url(url)}: {exc}",)
        raise
    if len(got) > limit:
        raise UsageError(f"{what} {redact_url(url)} is over {limit} bytes")
    return bytes(got)


def _read(path: str) -> bytes:
    """A small local file: read before any download starts, nothing else to wait for."""
    try:
        with Path(path).open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read --checksum-file {path}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"--checksum-file {path} is over {MAX_BYTES} bytes")
    return data
