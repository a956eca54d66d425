"""The one-connection fallback, for servers that ignore Range or send no length.

The body is read front to back; ``skip`` bytes already delivered (stream mode after a
drop) are discarded, which is only allowed while the server proves it is the same
version — otherwise the stream would be spliced from two files.

A 401/403/410 on a retry (a presigned URL that expired while the body ran, then the
connection dropped) is renewed as the range workers do (``engine/http/renew.py``): the fresh
URL must serve the same file. A file on disk then starts again from byte 0 (a server
without Range cannot resume mid-body; the bytes are fetched again, none is kept from
another version); a stream skips what it delivered only under the same validators.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hydra_tui.engine.http.error_map import check_pushback
from hydra_tui.engine.plan.retry import Attempts
from hydra_tui.engine.transfer import FLUSH_BYTES
from hydra_tui.errors import (
    HTTPStatusError,
    HydraError,
    NetworkError,
    ProtocolViolation,
    RemoteChangedError,
    UrlExpired,
)

if TYPE_CHECKING:
    from hydra_tui.engine.download import Download
    from hydra_tui.engine.http.probe import RemoteFile
    from hydra_tui.engine.io.sinks import Sink

__all__ = ["fetch_single"]


async def fetch_single(
    dl: Download, remote: RemoteFile, sink: Sink, *, resumable_skip: bool
) -> int:
    """Fetch the whole body into ``sink`` from offset 0, retrying from the start.

    With ``resumable_skip`` (stream mode) a retry skips the bytes already delivered, if
    the server proves the version is unchanged. Returns the number of bytes written.
    """
    # a reset of the only connection says nothing about how many the host takes
    attempts = Attempts(dl.gate.controller, dl.options.retries, resets_push_back=False)
    while True:
        skip = dl.single_done if resumable_skip else 0
        if not resumable_skip:
            dl.single_done = 0
        slot = await dl.acquire()
        used = dl.transfer_url
        expired: UrlExpired | None = None
        delay = 0.0
        try:
            return await _fetch_once(dl, remote, sink, skip)
        except UrlExpired as exc:
            expired = exc
        except HydraError as exc:
            if not exc.retryable:
                raise
            if skip and not (remote.etag or remote.last_modified):
                raise RemoteChangedError(
                    "connection dropped and the server offers no validator to resume safely"
                ) from exc
            dl.retries += 1
            wait = attempts.delay_after(exc, slot)
            if wait is None:
                raise
            delay = wait
        finally:
            dl.gate.release(slot)
        if expired is not None:  # renewed with no slot held: the check needs one
            if skip and not (remote.etag or remote.last_modified):
                raise RemoteChangedError(
                    "the URL expired and the server offers no validator to resume safely"
                ) from expired
            await dl.renewer.renew(used, expired)
            continue
        await asyncio.sleep(delay)


async def _fetch_once(dl: Download, remote: RemoteFile, sink: Sink, skip: int) -> int:
    pos = 0
    pieces: list[bytes] = []
    buffered = 0
    offset = skip
    async with dl.get(dl.request_headers) as resp:
        check_pushback(resp.status_code, resp.headers.get("retry-after"))
        if resp.status_code in (401, 403, 410):
            raise UrlExpired(resp.status_code, str(resp.url), resp.reason_phrase)
        if resp.status_code != 200:
            raise HTTPStatusError(resp.status_code, str(resp.url), resp.reason_phrase)
        if not remote.same_version(resp.headers):
            raise RemoteChangedError("the file changed on the server during the download")
        length = resp.headers.get("content-length")
        if (
            remote.size is not None
            and length is not None
            and length.isdigit()
            and int(length) != remote.size
        ):
            raise RemoteChangedError("the file size changed on the server during the download")
        opened = dl.body_opened()
        try:
            async for piece in resp.aiter_raw():
                dl.check_speed(opened)
                n = len(piece)
                if pos + n <= skip:
                    pos += n
                    continue
                if pos < skip:
                    piece = piece[skip - pos :]
                    n = len(piece)
                    pos = skip
                pieces.append(piece)
                buffered += n
                pos += n
                dl.pending = buffered
                delay = dl.arrived(n)
                if delay > 0:
                    await asyncio.sleep(delay)
                    dl.paused_by_us()
                if buffered >= FLUSH_BYTES:
                    await sink.write(offset, pieces)
                    offset += buffered
                    dl.single_done = offset
                    dl.pending = 0
                    dl.paused_by_us()  # a stream's reader may have held us back
                    pieces = []
                    buffered = 0
        finally:
            dl.body_closed()
            dl.pending = 0
            if pieces:
                await sink.write(offset, pieces)
                offset += buffered
                dl.single_done = offset
    if pos < skip:
        raise NetworkError("connection closed early (short body)")
    if remote.size is not None and offset != remote.size:
        raise ProtocolViolation(f"received {offset} bytes, expected {remote.size}")
    return offset
