"""Signals the engine raises to itself: "this route cannot do it, take the other one".

Each is caught inside the engine and turned into a fallback; none is meant for a
person (``hydra_tui.errors`` holds those). They derive from ``HydraError`` so that
one escaping by a bug is still one line and an exit code, never a traceback.

::

    HydraError
    ├── Unsupported     the lean range reader (``http/rawhttp``) met more HTTP than it
    │                   speaks (chunked body, redirect): the same request goes to httpx
    └── RangeIgnored    a 200 to a range request from the same version: the download
                        continues over one connection (``one_connection``)
"""

from __future__ import annotations

from hydra_tui.errors import HydraError

__all__ = ["RangeIgnored", "Unsupported"]


class Unsupported(HydraError):
    """The answer needs more HTTP than this reader speaks: use httpx for this download."""


class RangeIgnored(HydraError):
    """A 200 to a range request from the same version: fall back to one connection."""
