"""Parsers for the response headers the engine relies on.

Content-Range decides whether bytes may be written at an offset, Content-Disposition
names a file on the user's disk, Retry-After decides how long we stay quiet: each parser
returns ``None`` (or a safe default) for anything malformed instead of raising.
"""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = [
    "ContentRange",
    "for_origin",
    "parse_content_disposition",
    "parse_content_range",
    "parse_retry_after",
]

_CR_RE = re.compile(r"^\s*bytes\s+(?:(\d{1,19})-(\d{1,19})|\*)\s*/\s*(\d{1,19}|\*)\s*$", re.I)


@dataclass(frozen=True, slots=True)
class ContentRange:
    """``bytes first-last/total``; ``first``/``last`` are None for ``bytes */total``."""

    first: int | None
    last: int | None
    total: int | None

    @property
    def end(self) -> int | None:
        """Exclusive end offset."""
        return None if self.last is None else self.last + 1


def parse_content_range(value: str | None) -> ContentRange | None:
    """Parse a Content-Range header; ``None`` if absent or malformed (never raises)."""
    if not value:
        return None
    m = _CR_RE.match(value)
    if not m:
        return None
    first_s, last_s, total_s = m.groups()
    total = None if total_s == "*" else int(total_s)
    if first_s is None:
        return None if total is None else ContentRange(None, None, total)
    first, last = int(first_s), int(last_s)
    if last < first or (total is not None and last >= total):
        return None
    return ContentRange(first, last, total)


_CHARSETS = ("utf-8", "utf8", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii")
_TOKEN_RE = re.compile(
    r"""(?ix)
    ;\s*(?P<key>filename\*?)\s*=\s*
    (?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[^;]*))
    """
)


def parse_content_disposition(value: str | None) -> str | None:
    """The raw (unsanitized) file name in a Content-Disposition header, if any.

    ``filename*`` (RFC 5987, ``UTF-8''percent%20encoded``) wins over ``filename``.
    """
    if not value:
        return None
    plain: str | None = None
    extended: str | None = None
    for m in _TOKEN_RE.finditer(";" + value.split(";", 1)[-1] if ";" in value else ""):
        raw = m.group("quoted")
        if raw is not None:
            raw = re.sub(r"\\(.)", r"\1", raw)
        else:
            raw = (m.group("token") or "").strip()
        if m.group("key").lower() == "filename*":
            charset, _, rest = raw.partition("'")
            _lang, _, encoded = rest.partition("'")
            if not encoded and not rest:
                encoded = raw
                charset = "utf-8"
            try:
                charset = (charset or "utf-8").strip().lower()
                # RFC 8187 names only these charsets; no codec games from a server
                extended = (
                    unquote(encoded, encoding=charset, errors="strict")
                    if charset in _CHARSETS
                    else None
                )
            except (LookupError, ValueError):  # any UnicodeError; NUL in the charset name
                extended = None
        else:
            plain = raw
    name = extended or plain
    return name or None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date).

    Returns ``None`` when absent or malformed; clamps to ``[0, 3600]``.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        # ASCII only ("²".isdigit() is true); huge values would overflow int()'s digit limit
        digits = value.lstrip("0") or "0"
        return 3600.0 if len(digits) > 4 else float(min(int(digits), 3600))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, min(3600.0, when.timestamp() - current))


def for_origin(headers: dict[str, str], url: str, final_url: str) -> dict[str, str]:
    """``headers`` given for ``url``, to send to ``final_url``: never carry credentials
    (Authorization, Cookie) to another origin after a redirect or a renewal."""
    if _origin(final_url) == _origin(url):
        return headers
    return {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()
