"""Turning httpx and OS exceptions into the one exception tree (``hydra_tui.errors``).

The one place where transport errors are mapped (httpx's ``map_httpcore_exceptions``
manner): ``network_error`` for a failed request, whether httpx's or the raw reader's
connect (``rawhttp``), ``lost_error`` for a raw connection that ended early,
``local_error`` for a failed local write. Decisions are made on exception types and
errno, never on message text. Every message is one line a person can act on; the
original exception stays chained.
"""

from __future__ import annotations

import errno
import socket
import ssl

import httpx

from hydra_tui.engine.http.headers import parse_retry_after
from hydra_tui.engine.http.urls import redact_text
from hydra_tui.errors import (
    ConnectionReset,
    HydraError,
    LocalIOError,
    NameNotResolved,
    NetworkError,
    Pushback,
    PushbackKind,
    Stalled,
    TLSFailure,
    UsageError,
)

__all__ = [
    "check_pushback",
    "local_error",
    "local_reason",
    "lost_error",
    "network_error",
    "tls_failure",
]


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
    exc: httpx.HTTPError | OSError,
    host: str | None = None,
    *,
    proxy: str | None = None,
    tls: bool = False,
) -> HydraError:
    """The error for a failed transport call: an httpx error, or an ``OSError`` of the
    raw reader's connect (``tls``: that connect included the TLS handshake). ``host``
    names the server in TLS failures; ``proxy`` (already redacted) is the proxy the
    request went through, named when the failure is reaching it."""
    if isinstance(exc, OSError):
        return _connect_error(exc, host, tls=tls)
    error = _httpx_error(exc, host)
    if proxy is not None and isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError
    ):
        return type(error)(f"proxy {proxy}: {error}", retryable=error.retryable)
    return error


def _httpx_error(exc: httpx.HTTPError, host: str | None) -> HydraError:
    """By the OS or TLS error chained under ``exc`` (the same words as the raw reader's),
    else by httpx's type."""
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
    if isinstance(exc, httpx.TooManyRedirects):
        # the same chain would loop again
        return NetworkError(f"too many redirects: {_first_line(text)}", retryable=False)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return UsageError(f"invalid URL: {_first_line(text)}")
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError("connection timed out")
    if isinstance(exc, httpx.ReadTimeout):
        return Stalled("stalled: no data within the stall timeout")
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"could not connect: {_first_line(text)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(f"connection closed early: {_first_line(text)}")
    if isinstance(exc, httpx.ReadError):
        return ConnectionReset(f"connection reset: {_first_line(text)}")
    return NetworkError(f"network error: {_first_line(text)}")


def _connect_error(exc: OSError, host: str | None, *, tls: bool) -> HydraError:
    """A raw connect (TCP, then TLS when ``tls``) that failed."""
    if isinstance(exc, TimeoutError):
        return NetworkError("connection timed out")
    if isinstance(exc, ssl.SSLError):
        return tls_failure(exc, host)
    if isinstance(exc, ConnectionResetError):
        if not tls:
            return NetworkError(f"could not connect: {exc.strerror or exc}")
        return NetworkError(
            f"TLS handshake with the server {host} failed: the connection was reset "
            "(does it offer TLS 1.2 or later?)"
        )
    if isinstance(exc, ConnectionAbortedError):  # asyncio's handshake timeout (TLS only)
        return TLSFailure(
            f"TLS handshake with the server {host} timed out (is it an https server?)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return NetworkError("connection refused")
    if isinstance(exc, socket.gaierror):
        return NameNotResolved(f"could not resolve host: {exc}")
    return NetworkError(f"could not connect: {exc.strerror or exc}")


def lost_error(lost: BaseException | None, *, head_done: bool) -> NetworkError:
    """The error for a raw connection that ended (``lost``: why, when known) before its
    answer was complete; ``head_done``: the response head had arrived."""
    if isinstance(lost, NetworkError):
        return lost
    if isinstance(lost, ConnectionResetError | BrokenPipeError):
        return ConnectionReset(f"connection reset: {lost}")
    if not head_done:
        return NetworkError("connection closed early: no response")
    return NetworkError("connection closed early (short body)")


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


def check_pushback(status: int, retry_after: str | None) -> None:
    """Raise ``Pushback`` for a status that asks us to slow down (429, 503), with the
    server's Retry-After; the one rule of the probe, range workers, one-connection
    bodies and mirrors."""
    if status in (429, 503):
        raise Pushback(PushbackKind(str(status)), parse_retry_after(retry_after))
