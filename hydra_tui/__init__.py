"""hydra-tui: a terminal download manager.

Importing this package is cheap: the public API is loaded lazily so that
``hydra-tui --version`` and ``--stream`` start fast and never pull in Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hydra_tui._version import __version__

__all__ = [
    "AlreadyRunningError",
    "ChecksumMismatch",
    "ConfigError",
    "ConnectionReset",
    "DownloadResult",
    "HTTPStatusError",
    "HydraClient",
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
    "__version__",
    "download",
    "stream",
]

if TYPE_CHECKING:
    from hydra_tui.api.sync import download, stream
    from hydra_tui.client import DownloadResult, HydraClient
    from hydra_tui.errors import (
        AlreadyRunningError,
        ChecksumMismatch,
        ConfigError,
        ConnectionReset,
        HTTPStatusError,
        HydraError,
        Interrupted,
        LocalIOError,
        NameNotResolved,
        NetworkError,
        ProtocolViolation,
        Pushback,
        PushbackKind,
        RedirectRefused,
        RemoteChangedError,
        RpcRefused,
        ServiceUnavailable,
        Stalled,
        TLSFailure,
        TooSlow,
        UrlExpired,
        UsageError,
    )

_HOMES = {
    "HydraClient": "client",
    "DownloadResult": "client",
    "download": "api.sync",
    "stream": "api.sync",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _HOMES:
        return getattr(importlib.import_module(f"hydra_tui.{_HOMES[name]}"), name)
    if name in __all__ and name != "__version__":
        from hydra_tui import errors

        return getattr(errors, name)
    raise AttributeError(name)
