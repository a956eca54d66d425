"""URLs as a person may see them: passwords redacted, host names checked.

A URL such as ``http://user:SECRET@host/f`` carries a password. It is needed on the wire
(and in the TUI's queue file, to resume), but nowhere a person or another program reads:
stderr, progress lines, the log file, the resume store, the TUI. Every such place shows
``redact_url(url)`` (``user:***@``); ``redact_text`` catches URLs inside a message.

Standard library only: the command line checks URLs before anything heavy is imported.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["REDACTED", "host_problem", "redact_text", "redact_url"]

REDACTED = "***"
#: ``scheme://user:password@`` anywhere in a text (a log line, an httpx message)
_USERINFO_RE = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^/@:\s]*):[^/@\s]*@")
_MAX_HOST = 253
_MAX_LABEL = 63


def redact_url(url: str) -> str:
    """``url`` with the password of its user-info replaced by ``***`` (user name kept)."""
    if "@" not in url:
        return url  # the common case: nothing to hide, nothing to parse
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{hostport}"))


def redact_text(text: str) -> str:
    """Every ``scheme://user:password@`` inside ``text`` with the password redacted."""
    if "@" not in text:
        return text
    return _USERINFO_RE.sub(rf"\g<head>:{REDACTED}@", text)


def host_problem(host: str) -> str | None:
    """Why ``host`` (a URL's host name) can never be looked up, or None if it may be.

    An empty label (``a..b``) or one longer than 63 characters fails deep inside the
    resolver with a ``UnicodeError``; saying so up front gives the user one line.
    """
    name = host.strip("[]")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return None
    name = name.removesuffix(".")
    if not name:
        return "empty host name"
    if len(name) > _MAX_HOST:
        return f"host name longer than {_MAX_HOST} characters"
    for label in name.split("."):
        if not label:
            return "host name has an empty label (two dots in a row?)"
        if len(label) > _MAX_LABEL:
            return f"host name has a label longer than {_MAX_LABEL} characters"
    try:
        name.encode("idna")
    except UnicodeError as exc:
        return f"host name cannot be encoded ({exc})"
    return None
