"""Deciding a response: status, header fields and what the body will be, faults included.

One synchronous step per request, so nothing can interleave between counting a request
and deciding its fate: fault schedules ("the first N", "every Nth") stay exact under
concurrency. Writing the decision to the socket is ``send.py``'s job.
"""

from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

from hydra_tui.devserver.content import Content
from hydra_tui.devserver.faults import Faults
from hydra_tui.devserver.http import (
    UNSATISFIABLE,
    ByteRange,
    Request,
    http_date,
    if_range_matches,
    parse_range,
)
from hydra_tui.devserver.resources import Resource, Schedule
from hydra_tui.devserver.throttle import LinkBucket

__all__ = ["BodyPlan", "Plan", "plan_page", "plan_response"]

Abort = Literal["reset", "truncate", "stall"]
#: how many bytes a ``lie="long"`` body sends beyond its Content-Length
LONG_LIE_EXTRA = 1024
_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head>\n"
    b"<body><h1>Service unavailable</h1><p>Please try again later.</p></body></html>\n"
)


@dataclass(slots=True)
class BodyPlan:
    """The bytes of one GET body and what happens while they are sent."""

    content: Content
    offset: int
    """Where in the content the body starts."""
    length: int
    """How many content bytes to send."""
    pad: int = 0
    """Zero bytes after them (lies that run past the end of the content)."""
    chunked: bool = False
    rate: int = 0
    link: LinkBucket | None = None
    abort: Abort | None = None
    abort_at: int = 0
    """Body bytes sent before the abort."""
    flip: bool = False
    """Send every content byte XOR 0x01 (``lie="flip"``)."""

    @property
    def total(self) -> int:
        """Bytes of body to send when nothing goes wrong."""
        return self.length + self.pad


@dataclass(slots=True)
class Plan:
    """A decided response."""

    status: int
    fields: list[tuple[str, str]]
    body: BodyPlan | None = None
    """Set for GET responses that carry the resource's bytes."""
    page: bytes = b""
    """The small body of every other response (errors, redirects, HTML pages)."""
    close: bool = False
    """Close the connection after this response."""
    latency: float = 0.0
    claimed: bool = False
    """This response holds one of its resource's body slots until it is done."""


def plan_page(
    status: int,
    text: str | bytes,
    extra: list[tuple[str, str]] | None = None,
    content_type: str = "text/plain; charset=utf-8",
) -> Plan:
    """A response with a small body, such as an error message (none for 204 and 304)."""
    if status in (204, 304):
        return Plan(status, extra or [])
    page = text.encode() if isinstance(text, str) else text
    fields = [("Content-Type", content_type), ("Content-Length", str(len(page)))]
    return Plan(status, fields + (extra or []), page=page)


def plan_response(resource: Resource, request: Request, faults: Faults, connection: int) -> Plan:
    """Count the request against ``resource`` and decide the response, faults included."""
    schedule = resource.schedule(faults)
    index = resource.note_request(schedule, connection, request.method, request.headers)
    nth_connection = schedule.connections[connection]
    plan = _decide(_Turn(resource, request, faults, schedule, index, nth_connection))
    plan.latency = faults.latency
    resource.stats.statuses[plan.status] += 1
    return plan


@dataclass(frozen=True, slots=True)
class _Turn:
    """Everything one decision looks at."""

    resource: Resource
    request: Request
    faults: Faults
    schedule: Schedule
    index: int
    """The request's number in its schedule (1-based)."""
    nth_connection: int
    """Its connection's number among those that asked in this schedule (1-based)."""

    def count(self, fault: str) -> None:
        self.resource.stats.faults[fault] += 1


def _decide(turn: _Turn) -> Plan:
    resource, faults, index = turn.resource, turn.faults, turn.index
    if faults.latency:
        turn.count("latency")
    if faults.change_after is not None and index > faults.change_after and not resource.changed:
        resource.change(faults)
        turn.count("change_after")
    if faults.require_auth is not None and not _authorized(turn):
        turn.count("require_auth")
        challenge = [("WWW-Authenticate", 'Basic realm="devserver"')]
        return plan_page(401, f"credentials needed for {resource.name}\n", challenge)
    if (faults.signed_uses or faults.signed_for) and not _signed(turn):
        turn.count("signed")
        why = f"the signature for {resource.name} expired or is missing\n"
        return plan_page(faults.expired_status, why)
    if faults.redirect_to is not None:
        turn.count("redirect_to")
        location = [("Location", faults.redirect_to)]
        return plan_page(faults.redirect_code, f"See {faults.redirect_to}\n", location)
    if faults.status is not None:
        turn.count("status")
        return plan_page(faults.status, f"status {faults.status} for {resource.name}\n")
    if faults.html_200:
        turn.count("html_200")
        return plan_page(200, _HTML, content_type="text/html; charset=utf-8")
    if index <= faults.status_first:
        return _refuse(turn, faults.status_code, "status_first")
    if faults.status_after is not None and index > faults.status_after:
        return _refuse(turn, faults.status_code, "status_after")
    if faults.status_rate and turn.schedule.rng.random() < faults.status_rate:
        return _refuse(turn, faults.status_code, "status_rate")
    is_get = turn.request.method == "GET"
    if is_get and faults.max_bodies and resource.active_bodies >= faults.max_bodies:
        return _refuse(turn, faults.status_code, "max_bodies")
    plan = _content(turn)
    if is_get and plan.body is not None:
        _body_faults(turn, plan.body)
        plan.claimed = True
    return plan


def _signed(turn: _Turn) -> bool:
    """Does the request carry a signature with uses left? (Each request spends one.)"""
    sig = dict(parse_qsl(turn.request.query)).get("sig", "")
    left, until = turn.resource.signatures.get(sig, (0, 0.0))
    if left == 0 or time.monotonic() >= until:
        return False
    turn.resource.signatures[sig] = (left - 1 if left > 0 else left, until)
    return True


def _authorized(turn: _Turn) -> bool:
    """Does the request carry HTTP Basic credentials equal to ``require_auth``?"""
    scheme, _, token = turn.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return given == turn.faults.require_auth


def _refuse(turn: _Turn, status: int, reason: str) -> Plan:
    turn.count(reason)
    retry_after = turn.faults.retry_after
    extra = []
    if retry_after == "date":
        extra.append(("Retry-After", http_date(math.ceil(time.time()) + 1)))
    elif retry_after is not None:
        extra.append(("Retry-After", str(retry_after)))
    return plan_page(status, f"status {status} ({reason}) for {turn.resource.name}\n", extra)


def _content(turn: _Turn) -> Plan:
    """The resource's bytes: 200, 206 or 416, with validators and any Range lie."""
    faults, request = turn.faults, turn.request
    version = turn.resource.version
    size = version.content.size
    fields = [("Content-Type", faults.content_type or "application/octet-stream")]
    if not faults.no_validators:
        fields += [("ETag", version.etag), ("Last-Modified", http_date(version.last_modified))]
    if faults.content_disposition is not None:
        fields.append(("Content-Disposition", faults.content_disposition))
    whole = BodyPlan(version.content, 0, size)
    range_value = request.headers.get("range")
    if faults.no_length:
        turn.count("no_length")
        if request.version == "HTTP/1.1":
            whole.chunked = True
            fields.append(("Transfer-Encoding", "chunked"))
            return Plan(200, fields, body=whole)
        return Plan(200, fields, body=whole, close=True)  # HTTP/1.0: the end is the close
    if faults.ignore_range:
        if range_value is not None:
            turn.count("ignore_range")
        return Plan(200, [*fields, ("Content-Length", str(size))], body=whole)
    if not faults.no_accept_ranges:
        fields.append(("Accept-Ranges", "bytes"))
    wanted = None
    if range_value is not None:
        if_range = request.headers.get("if-range")
        if if_range is None or if_range_matches(if_range, version.etag, version.last_modified):
            wanted = parse_range(range_value, size)
        else:
            turn.count("if_range_mismatch")
    if wanted == UNSATISFIABLE:
        return plan_page(416, "range not satisfiable\n", [("Content-Range", f"bytes */{size}")])
    if isinstance(wanted, ByteRange):
        if faults.range_200_after is None or turn.index <= faults.range_200_after:
            return _partial(turn, fields, wanted)
        turn.count("range_200_after")
    return Plan(200, [*fields, ("Content-Length", str(size))], body=whole)


def _partial(turn: _Turn, fields: list[tuple[str, str]], wanted: ByteRange) -> Plan:
    """A 206 for ``wanted``, or the lie that the faults ask for."""
    content = turn.resource.version.content
    size = content.size
    first, last, total = wanted.first, wanted.last, size
    body = BodyPlan(content, wanted.first, wanted.length)
    close = False
    lie = turn.faults.lie if _lies_now(turn) else None
    if lie == "shift":  # honest head, body one byte late
        body.offset += 1
        body.length = min(wanted.length, size - body.offset)
        body.pad = wanted.length - body.length
    elif lie == "total":
        total = size + 1
    elif lie == "short" and wanted.length >= 2:  # legal: says honestly that it sends less
        body.length = wanted.length // 2
        last = first + body.length - 1
    elif lie == "flip":  # honest head and length, wrong bytes
        body.flip = True
    elif lie == "long":  # Content-Length promises the range, the body goes on
        body.length = min(wanted.length + LONG_LIE_EXTRA, size - body.offset)
        body.pad = wanted.length + LONG_LIE_EXTRA - body.length
        close = True  # the extra bytes would poison the next response
    else:
        lie = None
    if lie is not None:
        turn.count("lie")
    fields.append(("Content-Range", f"bytes {first}-{last}/{total}"))
    fields.append(("Content-Length", str(last - first + 1)))
    return Plan(206, fields, body=body, close=close)


def _lies_now(turn: _Turn) -> bool:
    faults = turn.faults
    if faults.lie is None or turn.index <= faults.lie_after:
        return False
    return faults.lie_rate >= 1.0 or turn.schedule.rng.random() < faults.lie_rate


def _body_faults(turn: _Turn, body: BodyPlan) -> None:
    """Claim a body slot and choose the body's rate and abort, if any."""
    faults, rng = turn.faults, turn.schedule.rng
    number = turn.resource.start_body(turn.schedule)
    body.rate = faults.rate
    if faults.slow_every and (number - 1) % faults.slow_every == 0:
        body.rate = faults.slow_rate
        turn.count("slow")
    elif faults.slow_after and number > faults.slow_after:
        body.rate = faults.slow_rate
        turn.count("slow_after")
    elif faults.slow_connection and turn.nth_connection == faults.slow_connection:
        body.rate = faults.slow_rate
        turn.count("slow_connection")
    if faults.link_rate:
        body.link = turn.resource.link(faults.link_rate)
    if body.total == 0:
        return
    reason: str | None = None
    if number <= faults.reset_first:
        body.abort, reason = "reset", "reset_first"
    elif faults.reset and rng.random() < faults.reset:
        body.abort, reason = "reset", "reset"
    elif faults.truncate and rng.random() < faults.truncate:
        body.abort, reason = "truncate", "truncate"
    elif faults.stall and rng.random() < faults.stall:
        body.abort, reason = "stall", "stall"
    if reason is not None:
        body.abort_at = rng.randrange(body.total)
        turn.count(reason)
