"""How one resource misbehaves: the ``Faults`` dataclass and its URL-query form.

Every field can be set per resource (``srv.add(name, data, Faults(...))``) and overridden
per request by a query parameter of the same name (``/data.bin?rate=4M&reset=0.2&seed=7``),
so benchmarks and the demo can choose faults by URL alone. Sizes and rates accept
``64K``/``4M``/``1G`` (binary) as well as plain byte counts.

Counting conventions: "request N" counts requests (HEAD included) and "body N" counts GET
responses that carry the resource's bytes, both from 1, and both per fault set: requests
whose effective faults are equal share one count and one ``Random(seed)``, so a URL such as
``/f?reset_first=2`` starts its own count whatever other URLs did before.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

__all__ = ["LIES", "Faults", "LieKind", "RetryAfter", "parse_size"]

LieKind = Literal["shift", "total", "short", "long", "flip"]
#: ``None`` (no header), whole seconds, or ``"date"`` for an HTTP-date one second ahead
RetryAfter = int | Literal["date"] | None
LIES: tuple[LieKind, ...] = ("shift", "total", "short", "long", "flip")
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True, slots=True)
class Faults:
    """Misbehaviour of one resource; the default instance is a well-behaved server."""

    rate: int = 0
    """Per-connection throttle in bytes/s (0: unlimited)."""
    link_rate: int = 0
    """Aggregate throttle in bytes/s shared by all connections of the resource (0: none)."""
    slow_every: int = 0
    """Bodies 1, 1+N, 1+2N, ... are throttled to ``slow_rate`` (0: never)."""
    slow_rate: int = 64 * 1024
    """Rate in bytes/s of the slow bodies chosen by ``slow_every``, ``slow_after`` or
    ``slow_connection``."""
    slow_connection: int = 0
    """Every body on the Nth connection that asks for the resource is throttled to
    ``slow_rate`` (0: none): one crawling connection (a bad path), however many requests
    it carries, while a new connection is fast."""
    slow_after: int = 0
    """Bodies after the first N are throttled to ``slow_rate`` (0: never): a probe that
    goes well, then range requests that trickle."""
    reset: float = 0.0
    """Probability that a body is aborted with a TCP RST at a random point."""
    reset_first: int = 0
    """The first N bodies are aborted with a TCP RST at a random point."""
    truncate: float = 0.0
    """Probability that a body is cut short with a clean close (FIN) at a random point."""
    stall: float = 0.0
    """Probability that a body goes silent at a random point, keeping the socket open."""
    status_rate: float = 0.0
    """Probability that a request is answered with ``status_code``."""
    status_first: int = 0
    """The first N requests are answered with ``status_code``."""
    status_after: int | None = None
    """Every request after the first N is answered with ``status_code`` (a source that
    answers its probe, then only pushes back)."""
    status_code: int = 503
    """Status sent by ``status_rate``/``status_first`` and ``max_bodies`` refusals
    (usually 429 or 503)."""
    retry_after: RetryAfter = None
    """Retry-After sent with ``status_code`` and ``max_bodies`` refusals."""
    max_bodies: int = 0
    """At most K bodies in flight at once; requests above that get ``status_code``, with
    ``retry_after`` (0: no limit). As the only client, the tests' engine meets it as a
    per-client connection cap (Apache mod_qos, nginx ``limit_conn``)."""
    ignore_range: bool = False
    """Always 200 with the full body, and no Accept-Ranges header."""
    no_length: bool = False
    """No Content-Length: a chunked 200 with the full body (Range is ignored)."""
    no_accept_ranges: bool = False
    """Omit Accept-Ranges but still honour Range."""
    lie: LieKind | None = None
    """Range responses lie: shift (body starts one byte late), total (wrong total),
    short (legal: fewer bytes than asked, said honestly), long (more bytes than promised),
    flip (honest head, every body byte XOR 0x01: a mirror serving corrupt bytes)."""
    lie_rate: float = 1.0
    """Fraction of range responses that lie."""
    lie_after: int = 0
    """Only requests after the first N lie."""
    range_200_after: int | None = None
    """After N requests, range requests get a 200 with the full body."""
    change_after: int | None = None
    """After N requests the content becomes a second version (new bytes, ETag, date)."""
    change_size: int | None = None
    """Size of that second version (default: the same size)."""
    html_200: bool = False
    """Every request gets a 200 with a small text/html error page."""
    status: int | None = None
    """Fixed status for every request (404, 403, 410, ...)."""
    redirect_to: str | None = None
    """Answer with ``redirect_code`` and this Location."""
    redirect_code: int = 302
    """Status of the redirect (301, 302, 303, 307 or 308)."""
    latency: float = 0.0
    """Seconds to wait before sending the response headers."""
    content_disposition: str | None = None
    """Content-Disposition header value (not a fault; here so that a URL can set it)."""
    no_validators: bool = False
    """Send neither ETag nor Last-Modified: nothing proves two answers are one version."""
    content_type: str | None = None
    """Content-Type of the resource's bytes (default application/octet-stream);
    ``text/html`` is busybox httpd's manner: every file is labelled an HTML page."""
    seed: int = 0
    """Seed of the resource's random source; runs with the same seed repeat."""
    require_auth: str | None = None
    """``user:password``: requests without that HTTP Basic ``Authorization`` get a 401."""
    signed_uses: int = 0
    """Presigned URLs that expire: a request needs a ``sig`` query the server issued
    (``/sign/NAME`` redirects to ``/NAME?sig=...``; ``/sign/NAME?text=1`` prints that
    URL), each good for this many requests, then 403 (0: no signature needed)."""
    signed_for: float = 0.0
    """Like ``signed_uses``, but each signature is good for this many seconds (a body
    started in time is sent to its end, as S3 does); both may be set."""
    expired_status: int = 403
    """Status of a request whose signature expired or is missing (``signed_uses``,
    ``signed_for``): 403 as S3 and GCS answer, 401 or 410 as other services do."""

    def __post_init__(self) -> None:
        for name in ("reset", "truncate", "stall", "status_rate", "lie_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], not {value!r}")
        for name in _COUNTS + _SIZES + ("latency", "signed_for"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, not {value!r}")
        if self.lie is not None and self.lie not in LIES:
            raise ValueError(f"lie must be one of {', '.join(LIES)}, not {self.lie!r}")
        for name in ("status_code", "status", "expired_status"):
            code = getattr(self, name)
            if code is not None and not 200 <= code <= 599:
                raise ValueError(f"{name} must be an HTTP status, not {code!r}")
        if self.redirect_code not in _REDIRECTS:
            raise ValueError(f"redirect_code must be a redirect status, not {self.redirect_code}")
        retry_after = self.retry_after
        if retry_after not in (None, "date") and type(retry_after) is not int:
            raise ValueError(f"retry_after must be seconds or 'date': {self.retry_after!r}")

    def with_query(self, query: str) -> Faults:
        """These faults overridden by a URL query (unknown parameters are ignored)."""
        overrides: dict[str, object] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            parse = _PARSERS.get(key)
            if parse is None:
                continue
            try:
                overrides[key] = parse(value)
            except ValueError as exc:
                raise ValueError(f"bad value for {key}: {value!r} ({exc})") from exc
        if not overrides:
            return self
        return dataclasses.replace(self, **overrides)  # type: ignore[arg-type]

    @classmethod
    def from_query(cls, query: str) -> Faults:
        """Faults from a URL query such as ``rate=4M&reset=0.1`` (the CLI's ``--faults``)."""
        return cls().with_query(query)


_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_size(text: str) -> int:
    """Bytes from ``1048576``/``64K``/``4M``/``1G``/``4MiB`` (binary) or ``4MB`` (decimal)."""
    match = _SIZE_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    number, prefix, suffix = match.groups()
    base = 1000 if suffix is not None and suffix.lower() == "b" and prefix else 1024
    return int(float(number) * base ** _POWERS[prefix.lower()])


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("", "1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    def parse_optional(text: str) -> object:
        return None if text.strip().lower() in ("", "none", "null") else parse(text)

    return parse_optional


def _parse_retry_after(text: str) -> RetryAfter:
    lowered = text.strip().lower()
    if lowered in ("", "none", "null"):
        return None
    if lowered == "date":
        return "date"
    return int(lowered)


_SIZES = ("rate", "link_rate", "slow_rate", "change_size")
_COUNTS = (
    "slow_every",
    "slow_after",
    "slow_connection",
    "reset_first",
    "status_first",
    "max_bodies",
    "lie_after",
    "range_200_after",
    "status_after",
    "change_after",
    "signed_uses",
)
_PARSERS: dict[str, Callable[[str], object]] = {
    **dict.fromkeys(("rate", "link_rate", "slow_rate"), parse_size),
    "change_size": _optional(parse_size),
    **dict.fromkeys(("slow_every", "slow_after", "reset_first", "status_first", "max_bodies"), int),
    "slow_connection": int,
    "signed_uses": int,
    **dict.fromkeys(("lie_after", "status_code", "redirect_code", "seed", "expired_status"), int),
    **dict.fromkeys(("range_200_after", "status_after", "change_after", "status"), _optional(int)),
    **dict.fromkeys(("reset", "truncate", "stall", "status_rate", "lie_rate", "latency"), float),
    "signed_for": float,
    **dict.fromkeys(
        ("ignore_range", "no_length", "no_accept_ranges", "html_200", "no_validators"), _parse_bool
    ),
    **dict.fromkeys(
        ("lie", "redirect_to", "content_disposition", "content_type", "require_auth"),
        _optional(str),
    ),
    "retry_after": _parse_retry_after,
}
assert set(_PARSERS) == {f.name for f in dataclasses.fields(Faults)}, "every field has a parser"
