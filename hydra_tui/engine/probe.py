"""Probing a URL: size, range support, validators, final URL and a safe file name.

The probe is a real ``GET`` with ``Range: bytes=0-(PROBE_BYTES-1)`` rather than a HEAD
(many servers answer HEAD differently from GET). Its body is kept: for a small file the
probe *is* the download, and for a large one it is the first piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from hydra_tui.engine.headers import parse_content_disposition, parse_content_range
from hydra_tui.errors import HTTPStatusError, ProtocolViolation

__all__ = ["PROBE_BYTES", "RemoteFile", "remote_from_response"]

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

    def same_version(self, response: httpx.Response) -> bool:
        """False if ``response`` carries a validator that differs from the probe's."""
        etag = response.headers.get("etag")
        if self.etag and etag and etag != self.etag:
            return False
        modified = response.headers.get("last-modified")
        return not (self.last_modified and modified and modified != self.last_modified)


def remote_from_response(url: str, response: httpx.Response) -> RemoteFile:
    """Interpret the probe's response headers (status already known to be 200 or 206)."""
    headers = response.headers
    size: int | None = None
    ranges = False
    if response.status_code == 206:
        cr = parse_content_range(headers.get("content-range"))
        if cr is None or cr.first != 0:
            raise ProtocolViolation(
                f"probe got an invalid Content-Range: {headers.get('content-range')!r}"
            )
        size = cr.total
        ranges = size is not None and headers.get("accept-ranges", "bytes").lower() != "none"
    elif response.status_code == 200:
        length = headers.get("content-length")
        if (
            length is not None
            and length.isdigit()
            and "chunked" not in headers.get("transfer-encoding", "")
        ):
            size = int(length)
    else:  # pragma: no cover - the caller filters statuses
        raise HTTPStatusError(response.status_code, url)
    return RemoteFile(
        url=url,
        final_url=str(response.url),
        size=size,
        accepts_ranges=ranges,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        disposition_name=parse_content_disposition(headers.get("content-disposition")),
        content_type=headers.get("content-type"),
    )


def empty_remote(url: str, response: httpx.Response) -> RemoteFile:
    """A 416 with ``bytes */0``: the file exists and is empty."""
    return RemoteFile(
        url=url,
        final_url=str(response.url),
        size=0,
        accepts_ranges=True,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        disposition_name=parse_content_disposition(response.headers.get("content-disposition")),
        content_type=response.headers.get("content-type"),
    )
