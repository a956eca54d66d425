"""One exception tree for everything hydra-tui reports to a person.

::

    HydraError                      exit code 1 unless said otherwise
    ├── UsageError                  bad option or argument (exit 2)
    │   ├── ConfigError             broken config/presets file (names file and key)
    │   └── RpcRefused              an RPC call the service will not run (bad params, unknown GID)
    ├── NetworkError                connect/read failures, resets, timeouts, stalls (after retries)
    │   ├── ConnectionReset         the server reset or cut a connection (a sign of load)
    │   ├── Stalled                 no byte within the stall timeout
    │   │   └── TooSlow             under the low-speed limit for the speed time
    │   ├── NameNotResolved         DNS failed (never retried)
    │   └── TLSFailure              certificate or handshake failure (never retried)
    ├── HTTPStatusError             4xx/5xx the engine cannot recover from
    │   └── UrlExpired              401/403/410 for the file: a signed URL may have expired
    ├── Pushback                    429/503: the server asks us to slow down (after retries)
    ├── ProtocolViolation           the server lied: bad Content-Range, wrong length, HTML page
    ├── RedirectRefused             redirected to a scheme we do not fetch (file:, ftp:), a bad host
    ├── RemoteChangedError          the remote file changed under us (validator or size differs)
    ├── ChecksumMismatch            --md5/--sha256 did not match (exit 3)
    ├── LocalIOError                disk full, file size limit, permissions (the .part is kept)
    ├── AlreadyRunningError         another process holds the lock on this output (or the service's)
    ├── ServiceUnavailable          no background service answers on the user's socket
    └── Interrupted                 SIGINT/SIGTERM (exit 130/143)

httpx exceptions are translated at the engine boundary with ``raise ... from exc``;
the CLI prints ``str(error)`` as one line and exits with ``error.exit_code``.
Transport errors are mapped in one place, ``engine/http/error_map.network_error``, by
type and errno, never by message text. ``retryable`` is a class attribute or a
constructor argument: an error never changes its mind after it was raised. Signals the
engine raises only to itself (fall back to httpx, to one connection) live in
``engine/signals.py``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AlreadyRunningError",
    "ChecksumMismatch",
    "ConfigError",
    "ConnectionReset",
    "HTTPStatusError",
    "HydraError",
    "Interrupted",
    "LocalIOError",
    "NameNotResolved",
    "NetworkError",
    "ProtocolViolation",
    "Pushback",
    "PushbackKind",
    "RedirectRefused",
    "RemoteChangedError",
    "RpcRefused",
    "ServiceUnavailable",
    "Stalled",
    "TLSFailure",
    "TooSlow",
    "UrlExpired",
    "UsageError",
]


class HydraError(Exception):
    """Base of every error hydra-tui reports; ``str()`` is the one-line message."""

    exit_code: int = 1
    #: transient errors may be retried by the engine; a class attribute, or given once
    #: to the constructor for an error whose class alone does not decide it
    retryable: bool = False

    def __init__(self, *args: object, retryable: bool | None = None) -> None:
        super().__init__(*args)
        if retryable is not None:
            self.retryable = retryable


class UsageError(HydraError):
    """A bad option, argument or URL given by the user."""

    exit_code = 2


class ConfigError(UsageError):
    """A config or presets file that cannot be used; the message names the file and key."""


class RpcRefused(UsageError):
    """An aria2 JSON-RPC call the service will not run; ``rpc_code`` is the JSON-RPC error
    code sent back (aria2 answers 1 for any refused call, -32602 for malformed params)."""

    def __init__(self, message: str, rpc_code: int = 1) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code


class NetworkError(HydraError):
    """The network failed us (refused, reset, timed out, stalled, name not resolved)."""

    retryable = True


class ConnectionReset(NetworkError):
    """The server reset or cut a connection mid-answer: the host's AIMD window backs off."""


class Stalled(NetworkError):
    """A connection went silent for the stall timeout: it is restarted, not the host slowed."""


class TooSlow(Stalled):
    """A download stayed under ``--speed-limit`` for ``--speed-time``: its connections are
    restarted; after ``--retries`` such restarts it fails (``retryable`` is then False)."""


class NameNotResolved(NetworkError):
    """DNS failed: retrying at once will not help."""

    retryable = False


class TLSFailure(NetworkError):
    """Certificate or handshake failure: never retried, never silently ignored."""

    retryable = False


class HTTPStatusError(HydraError):
    """An HTTP status we cannot turn into data (404, 403, 410, 416, persistent 5xx)."""

    def __init__(self, status: int, url: str, reason: str = "") -> None:
        self.status = status
        self.url = url
        text = f"HTTP {status}" + (f" {reason}" if reason else "")
        super().__init__(text, retryable=status >= 500 or status in (408, 429))


class UrlExpired(HTTPStatusError):
    """401, 403 or 410 for the file: a signed URL may have expired (``engine/http/renew.py``
    gets a fresh one where it can)."""


class PushbackKind(StrEnum):
    """What a server's push-back was: the AIMD controller reads it (a 429 pauses the host,
    a 429 or 503 while others stream reads as a connection limit), the window's events
    show it."""

    TOO_MANY_REQUESTS = "429"
    UNAVAILABLE = "503"
    #: a connection reset while other connections share the host (``engine/plan/retry``)
    RESET = "reset"


class Pushback(HydraError):
    """429/503: the server asks us to slow down. The engine backs off and retries
    (``engine/plan/aimd.py``); after ``--retries`` it is the user's error."""

    retryable = True

    def __init__(self, kind: PushbackKind, retry_after: float | None) -> None:
        super().__init__(f"HTTP {kind} (server busy)")
        self.kind = kind
        #: seconds the server asked us to wait (its Retry-After), if it said
        self.retry_after = retry_after


class ProtocolViolation(HydraError):
    """The server's answer contradicts what was asked (Content-Range, length, type)."""

    retryable = True


class RedirectRefused(HydraError):
    """A redirect to a scheme hydra-tui does not fetch (``file:``, ``ftp:``, ``javascript:``)
    or to a host that cannot exist: the server's answer, not the user's URL, is at fault
    (exit 1, never retried)."""


class RemoteChangedError(HydraError):
    """The file changed on the server (new ETag/Last-Modified/size) during the download."""


class ChecksumMismatch(HydraError):
    """The downloaded bytes do not match the expected digest."""

    exit_code = 3


class LocalIOError(HydraError):
    """Writing locally failed (disk full, size limit, permissions); partial data is kept."""


class AlreadyRunningError(HydraError):
    """Another hydra-tui process is writing the same output file."""


class ServiceUnavailable(HydraError):
    """No hydra-tui service answers on the user's socket, or it went away mid-command."""


class Interrupted(HydraError):
    """Stopped by a signal; the resume state was saved."""

    def __init__(self, signum: int, *, resumable: bool = True) -> None:
        super().__init__(
            "interrupted; partial download kept, run the same command to resume"
            if resumable
            else "interrupted"
        )
        self.exit_code = 128 + signum
