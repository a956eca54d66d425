"""Signals the engine raises to itself: "this route cannot do it, take the other one".

Each is caught inside the engine (``MetalinkFound``: by the command line) and turned
into a fallback; none is meant for a
person (``hydra_tui.errors`` holds those). They derive from ``HydraError`` so that
one escaping by a bug is still one line and an exit code, never a traceback.

::

    HydraError
    ├── Unsupported     the lean range reader (``http/rawhttp``) met more HTTP than it
    │                   speaks (chunked body, redirect): the same request goes to httpx
    ├── RangeIgnored    a 200 to a range request from the same version: the download
    │                   continues over one connection (``one_connection``)
    └── MetalinkFound   the probe's answer is a metalink (by Content-Type): the command
                        line downloads its files instead (``cli/metalink_source``)
"""

from __future__ import annotations

from hydra_tui.errors import HydraError

__all__ = ["MetalinkFound", "RangeIgnored", "Unsupported"]


class Unsupported(HydraError):
    """The answer needs more HTTP than this reader speaks: use httpx for this download."""


class RangeIgnored(HydraError):
    """A 200 to a range request from the same version: fall back to one connection."""


class MetalinkFound(HydraError):
    """Not a failure: the probe of a download asked to follow metalinks found one (by
    its Content-Type). ``data`` is the whole document when the probe brought all of it
    (the usual case: one request), else None (fetch it again)."""

    def __init__(self, url: str, shown: str, data: bytes | None) -> None:
        super().__init__(f"{shown} is a metalink")
        self.url = url
        self.data = data
