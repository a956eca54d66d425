"""The HTTP/1.1 pieces the devserver needs, written here rather than shared with the engine.

The devserver is the engine's independent oracle: if both used one Range or Content-Range
parser, a bug in it would pass every test. So request parsing, Range and If-Range handling
and response heads live here, small and strict.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final, Literal, NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = [
    "UNSATISFIABLE",
    "BadRequest",
    "ByteRange",
    "Headers",
    "Request",
    "http_date",
    "if_range_matches",
    "parse_http_date",
    "parse_range",
    "read_request",
    "response_head",
]

MAX_HEAD: Final = 64 * 1024
UNSATISFIABLE: Final = "unsatisfiable"
_RANGE_SPEC = re.compile(r"(\d*)-(\d*)")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class BadRequest(Exception):
    """The client sent something that is not an HTTP/1.x request head."""


class Headers(Mapping[str, str]):
    """Case-insensitive header fields in arrival order; repeated fields are joined with ``, ``."""

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: dict[str, tuple[str, str]] = {}
        for name, value in fields:
            key = name.lower()
            if key in self._fields:
                first_name, earlier = self._fields[key]
                self._fields[key] = (first_name, f"{earlier}, {value}")
            else:
                self._fields[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._fields.values())

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Headers({list(self._fields.values())!r})"


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed request head."""

    method: str
    target: str
    """The request target exactly as sent (``/data.bin?rate=4M``)."""
    path: str
    """The percent-decoded path (``/data.bin``)."""
    query: str
    version: str
    headers: Headers

    @property
    def keep_alive(self) -> bool:
        """Whether the client lets the connection live on after the response."""
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request head; ``None`` on a clean end of stream between requests."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest("incomplete request head") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request head too large") from exc
    request = parse_request_head(raw.lstrip(b"\r\n"))
    length = request.headers.get("content-length")
    if "transfer-encoding" in request.headers:
        raise BadRequest("request bodies are not supported")
    if length is not None:
        if not length.isdigit() or int(length) > MAX_HEAD:
            raise BadRequest("bad or large Content-Length")
        await reader.readexactly(int(length))  # a GET/HEAD body means nothing: discard it
    return request


def parse_request_head(raw: bytes) -> Request:
    """Parse a request line and header fields (CRLF-separated, without the body)."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise BadRequest(f"bad request line: {lines[0]!r}")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(f"unsupported version: {version!r}")
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadRequest(f"bad header line: {line!r}")
        fields.append((name, value.strip(" \t")))
    split = urlsplit(target)
    return Request(method, target, unquote(split.path), split.query, version, Headers(fields))


class ByteRange(NamedTuple):
    """An inclusive byte range ``first..last`` that fits the representation."""

    first: int
    last: int

    @property
    def length(self) -> int:
        """Number of bytes in the range."""
        return self.last - self.first + 1


def parse_range(value: str, size: int) -> ByteRange | Literal["unsatisfiable"] | None:
    """Resolve a Range header against ``size`` (RFC 9110 §14.2).

    ``None`` means "ignore it and send 200": another unit, bad syntax, or several ranges
    (which a server may answer in full). ``UNSATISFIABLE`` means 416.
    """
    unit, eq, spec = value.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    specs = [s.strip() for s in spec.split(",") if s.strip()]
    if len(specs) != 1:
        return None
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return ByteRange(start, min(end, size - 1))


def http_date(timestamp: float) -> str:
    """IMF-fixdate, e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> float | None:
    """Seconds since the epoch from an HTTP-date, or ``None`` if it is not one."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def if_range_matches(value: str, etag: str, last_modified: int) -> bool:
    """Whether an If-Range validator names the current representation (strong comparison)."""
    value = value.strip()
    if value.startswith("W/"):
        return False
    if value.startswith('"'):
        return value == etag
    timestamp = parse_http_date(value)
    return timestamp is not None and int(timestamp) == last_modified


def response_head(status: int, fields: Iterable[tuple[str, str]]) -> bytes:
    """Status line and header fields of a response, ready to write."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in fields)
    # UTF-8 so that tests can send raw non-ASCII names, as some real servers do
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
