"""Probing a URL: size, range support, validators, final URL and a safe file name.

The probe is a real ``GET`` with ``Range: bytes=0-(PROBE_BYTES-1)`` rather than a HEAD
(many servers answer HEAD differently from GET). Its body is kept: for a small file the
probe *is* the download, and for a large one it is the first piece.

Over ``http://`` and ``https://`` the probe goes through the lean reader of ``rawhttp`` (one
keep-alive pool per engine, no per-request pool scan): for a list of small files the
probe is nearly all the work. Anything that needs more HTTP than it speaks (redirects,
bodies without a length) is answered ``Unsupported`` and asked again through httpx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from hydra_tui.engine.http.error_map import lost_error
from hydra_tui.engine.http.headers import parse_content_disposition, parse_content_range
from hydra_tui.engine.http.rawhttp import (
    RawConnection,
    RawPool,
    build_request,
    wait_until,
)
from hydra_tui.engine.signals import Unsupported
from hydra_tui.errors import HTTPStatusError, ProtocolViolation

__all__ = [
    "PROBE_BYTES",
    "RawAnswer",
    "RemoteFile",
    "raw_probe",
    "remote_from_headers",
]

PROBE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """What the server told us about the file."""

    url: str
    final_url: str
    size: int | None
    accepts_ranges: bool
    etag: str | None
    last_modified: str | None
    disposition_name: str | None
    content_type: str | None

    @property
    def validator(self) -> str | None:
        """The If-Range value: a strong ETag, else Last-Modified."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified

    @property
    def multi_connection(self) -> bool:
        return self.accepts_ranges and self.size is not None

    def same_version(self, headers: httpx.Headers) -> bool:
        """False if an answer's ``headers`` carry a validator that differs from the probe's."""
        etag = headers.get("etag")
        if self.etag and etag and etag != self.etag:
            return False
        modified = headers.get("last-modified")
        return not (self.last_modified and modified and modified != self.last_modified)


def remote_from_headers(
    url: str, final_url: str, status: int, headers: httpx.Headers
) -> RemoteFile:
    """Interpret the probe's answer (status already known to be 200 or 206)."""
    size: int | None = None
    ranges = False
    if status == 206:
        cr = parse_content_range(headers.get("content-range"))
        if cr is None or cr.first != 0:
            raise ProtocolViolation(
                f"probe got an invalid Content-Range: {headers.get('content-range')!r}"
            )
        size = cr.total
        ranges = size is not None and headers.get("accept-ranges", "bytes").lower() != "none"
    elif status == 200:
        length = headers.get("content-length")
        if (
            length is not None
            and length.isdigit()
            and "chunked" not in headers.get("transfer-encoding", "")
        ):
            size = int(length)
    else:  # pragma: no cover - the caller filters statuses
        raise HTTPStatusError(status, url)
    return RemoteFile(
        url=url,
        final_url=final_url,
        size=size,
        accepts_ranges=ranges,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        disposition_name=parse_content_disposition(headers.get("content-disposition")),
        content_type=headers.get("content-type"),
    )


def empty_remote(url: str, final_url: str, headers: httpx.Headers) -> RemoteFile:
    """A 416 with ``bytes */0``: the file exists and is empty."""
    return RemoteFile(
        url=url,
        final_url=final_url,
        size=0,
        accepts_ranges=True,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        disposition_name=parse_content_disposition(headers.get("content-disposition")),
        content_type=headers.get("content-type"),
    )


# -- the lean probe ------------------------------------------------------------------------
_SPARE_BLOCKS = 64


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """A probe's answer read by ``raw_probe``: the head and the first body bytes."""

    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    #: True when ``body`` is the whole body (Content-Length reached)
    ended: bool


def raw_route(pool: RawPool | None, url: httpx.URL, *, cookies: bool) -> bool:
    """May ``url`` be probed with the lean reader? It suits the URL (``RawPool.origin``),
    there are no cookies to send, and the origin has not needed httpx before."""
    if pool is None or cookies:
        return False
    return pool.origin(url) is not None


async def raw_probe(
    pool: RawPool,
    url: httpx.URL,
    headers: httpx.Headers,
    *,
    limit: int,
    stall: float,
    progress: Callable[[int], None] | None = None,
) -> RawAnswer:
    """``GET url`` on a pooled keep-alive connection: the head and up to ``limit`` body
    bytes. Raises ``Unsupported`` for answers httpx must handle (nothing is kept from
    them), ``NetworkError`` when the connection fails or stalls for ``stall`` seconds.
    ``progress(n)`` hears how many body bytes arrived so far (and may raise)."""
    key = pool.origin(url)
    assert key is not None, "raw_route said yes"
    request = build_request(
        url, [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw]
    )
    spare = pool.spare_blocks.pop() if pool.spare_blocks else None
    block = spare if spare is not None and len(spare) == limit else bytearray(limit)
    keep = False
    conn: RawConnection | None = None
    try:
        conn = await pool.open(key, request, block, stall=stall)
        if 300 <= conn.status < 400 or conn.content_length is None or conn.chunked:
            pool.declined.add(key)
            raise Unsupported(f"HTTP {conn.status} without a plain Content-Length body")
        seen = None if progress is None else (lambda c: progress(c.fill))
        await wait_until(conn, lambda c: c.body_done or c.fill >= len(block), stall, seen)
        if not (conn.body_done or conn.fill >= len(block)):
            raise lost_error(conn.lost, head_done=conn.head_done)
        keep = conn.body_done and conn.finish()
        body = bytes(memoryview(block)[: conn.fill])
        return RawAnswer(conn.status, conn.reason, conn.headers, body, conn.body_done)
    finally:
        if conn is not None and keep:
            pool.give_back(conn)  # reading is paused: it writes into no block while idle
        elif conn is not None:
            conn.close()
        if len(pool.spare_blocks) < _SPARE_BLOCKS:
            pool.spare_blocks.append(block)
