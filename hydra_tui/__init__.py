"""hydra-tui: a terminal download manager.

Importing this package is cheap: the public API is loaded lazily so that
``hydra-tui --version`` and ``--stream`` start fast and never pull in Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["DownloadResult", "HydraClient", "__version__"]

if TYPE_CHECKING:
    from hydra_tui.client import DownloadResult, HydraClient


def __getattr__(name: str) -> Any:
    if name in ("HydraClient", "DownloadResult"):
        from hydra_tui import client

        return getattr(client, name)
    raise AttributeError(name)
