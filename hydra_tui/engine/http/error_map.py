"""Turning httpx and OS exceptions into the one exception tree (``hydra_tui.errors``).

Every message is one line a person can act on; the original exception stays chained.
"""

from __future__ import annotations

import errno
import socket
import ssl

import httpx

from hydra_tui.engine.http.urls import redact_text
from hydra_tui.errors import (
    ConnectionReset,
    HydraError,
    LocalIOError,
    NetworkError,
    Stalled,
    UsageError,
)

__all__ = [
    "NameNotResolved",
    "TLSFailure",
    "local_error",
    "local_reason",
    "network_error",
    "tls_failure",
]


class NameNotResolved(NetworkError):
    """DNS failed: retrying at once will not help."""

    retryable = False


class TLSFailure(NetworkError):
    """Certificate or handshake failure: never retried, never silently ignored."""

    retryable = False


#: OpenSSL's X509_V_ERR_* codes (``SSLCertVerificationError.verify_code``) in words
_VERIFY_CODES: dict[int, str] = {
    9: "its certificate is not yet valid",
    10: "its certificate has expired",
    18: "its certificate is self-signed",
    19: "its certificate chain ends in a self-signed CA that is not trusted",
    2: "its certificate is signed by an unknown CA",
    20: "its certificate is signed by an unknown CA",
    21: "its certificate is signed by an unknown CA",
    62: "its certificate is for another host name",
    64: "its certificate is for another IP address",
}
#: ``SSLError.reason`` codes of a server that offers no TLS version we accept (>= 1.2)
_OLD_PROTOCOL = frozenset(
    {
        "UNSUPPORTED_PROTOCOL",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "NO_PROTOCOLS_AVAILABLE",
        "WRONG_SSL_VERSION",
        "VERSION_TOO_LOW",
    }
)
_HINT = "use --ca-certificate FILE to trust its CA, or --insecure to skip checks"


def tls_failure(exc: ssl.SSLError, host: str | None = None) -> TLSFailure:
    """One line for a failed TLS handshake, decided by ``verify_code`` and ``reason``."""
    server = f"the server {host}" if host else "the server"
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = _VERIFY_CODES.get(exc.verify_code)
        if why is None:
            why = f"its certificate failed verification ({exc.verify_message})"
        return TLSFailure(f"TLS: {server} is not trusted: {why}; {_HINT}")
    if exc.reason in _OLD_PROTOCOL:
        return TLSFailure(f"TLS: {server} speaks only versions older than 1.2, which are unsafe")
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return TLSFailure(f"TLS handshake with {server} failed: it closed the connection")
    return TLSFailure(f"TLS handshake with {server} failed: {exc.reason or exc.__class__.__name__}")


def network_error(
    exc: Exception, host: str | None = None, *, proxy: str | None = None
) -> HydraError:
    """Classify an httpx transport error; ``host`` names the server in TLS failures,
    ``proxy`` (already redacted) is the proxy the request went through, named when the
    failure is reaching it."""
    error = _classify(exc, host)
    if proxy is not None and isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError
    ):
        named = type(error)(f"proxy {proxy}: {error}")
        named.retryable = error.retryable
        return named
    return error


def _classify(exc: Exception, host: str | None) -> HydraError:
    text = redact_text(str(exc) or exc.__class__.__name__)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return tls_failure(cause, host)
        if isinstance(cause, socket.gaierror):
            return NameNotResolved(f"could not resolve host: {_first_line(str(cause))}")
        if isinstance(cause, ConnectionRefusedError):
            return NetworkError("connection refused")
        cause = cause.__cause__ or cause.__context__
    lowered = text.lower()
    if any(
        s in lowered
        for s in (
            "name or service not known",
            "nodename nor servname",
            "name resolution",
            "getaddrinfo",
        )
    ):
        return NameNotResolved(f"could not resolve host: {_first_line(text)}")
    if "certificate" in lowered or "ssl" in lowered:
        return TLSFailure(f"TLS error: {_first_line(text)}")
    if isinstance(exc, httpx.TooManyRedirects):
        error = NetworkError(f"too many redirects: {_first_line(text)}")
        error.retryable = False  # the same chain would loop again
        return error
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return UsageError(f"invalid URL: {_first_line(text)}")
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError("connection timed out")
    if isinstance(exc, httpx.ReadTimeout):
        return Stalled("stalled: no data within the stall timeout")
    if isinstance(exc, httpx.ConnectError):
        if "refused" in lowered:
            return NetworkError("connection refused")
        return NetworkError(f"could not connect: {_first_line(text)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(f"connection closed early: {_first_line(text)}")
    if isinstance(exc, httpx.ReadError):
        return ConnectionReset(f"connection reset: {_first_line(text)}")
    return NetworkError(f"network error: {_first_line(text)}")


def local_error(exc: OSError, path: object, *, kept: bool = True) -> LocalIOError:
    """Classify a failed local write; ``kept``: bytes of this file are already on disk
    (otherwise promising a resume would mislead: nothing was written)."""
    if not kept:
        return LocalIOError(f"cannot write {path}: {local_reason(exc)}")
    return LocalIOError(
        f"cannot write {path}: {local_reason(exc)}; partial data kept, run again to resume"
    )


def local_reason(exc: OSError) -> str:
    """Why a local write failed, in words."""
    if exc.errno == errno.ENOSPC:
        why = "no space left on device"
    elif exc.errno == errno.EFBIG:
        why = "file size limit exceeded"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "permission denied"
    elif exc.errno == errno.ENOTDIR:
        why = "not a directory"
    else:
        why = exc.strerror or str(exc)
    return why


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line[:300]
