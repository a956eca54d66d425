"""What a redirect may do, checked on every hop httpx follows (its event hooks).

* A ``Location`` with a scheme other than http(s) (``file:``, ``ftp:``, ``javascript:``)
  or a host that can never resolve (``a..b``) is the server's doing, not the user's:
  ``RedirectRefused`` (exit 1), never retried.
* https to plain http is followed (as browsers do) with a warning: from there on anyone
  on the path can read and alter the bytes. curl refuses it by default (``--proto-redir``).
* A ``Cookie`` header the user gave (``-H``) goes to the origin of the URL they typed, on
  every hop that returns there, as it does on the range requests; httpx alone would drop it
  after the first redirect. Another origin never sees it (nor ``Authorization``).
"""

from __future__ import annotations

import logging

import httpx

from hydra_tui.engine.http.urls import host_problem, redact_url
from hydra_tui.errors import RedirectRefused

__all__ = ["COOKIE_EXTENSION", "check_redirect", "cookie_extension", "resend_cookie"]

log = logging.getLogger(__name__)

#: request extension carrying ``(origin, cookie)`` from the first request to its redirects
COOKIE_EXTENSION = "hydra_tui.cookie"
_SCHEMES = ("http", "https")


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def cookie_extension(url: str, headers: dict[str, str]) -> dict[str, object]:
    """The extension for a request to ``url`` with the user's ``headers`` (may be empty)."""
    cookie = next((v for k, v in headers.items() if k.lower() == "cookie"), None)
    if cookie is None:
        return {}
    return {COOKIE_EXTENSION: (origin(httpx.URL(url)), cookie)}


async def resend_cookie(request: httpx.Request) -> None:
    """Request hook: put the user's Cookie back on a hop to the origin it was given for."""
    carried = request.extensions.get(COOKIE_EXTENSION)
    if carried is None:
        return
    where, cookie = carried
    if origin(request.url) == where and "cookie" not in request.headers:
        request.headers["Cookie"] = cookie


async def check_redirect(response: httpx.Response) -> None:
    """Response hook: refuse a redirect to a scheme we do not fetch; warn on a downgrade."""
    if not response.has_redirect_location:
        return
    location = response.headers["Location"]
    try:
        target = response.request.url.join(location)
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return  # httpx reports a Location it cannot parse, with its own words
    if target.scheme not in _SCHEMES:
        await response.aclose()
        raise RedirectRefused(
            f"redirected to an unsupported scheme ({target.scheme}:) "
            f"by {redact_url(str(response.request.url))}"
        )
    problem = host_problem(target.host)
    if problem is not None:
        await response.aclose()
        raise RedirectRefused(
            f"redirected to an invalid host ({problem}) by {redact_url(str(response.request.url))}"
        )
    if response.request.url.scheme == "https" and target.scheme == "http":
        log.warning(
            "redirected from https to plain http (%s): the rest is not encrypted",
            redact_url(str(target)),
        )
