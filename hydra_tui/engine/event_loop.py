"""The event loop hydra-tui runs on: uvloop where it is installed, asyncio's own where not.

uvloop is a dependency on POSIX only, so Windows takes the fallback. This is the one place
that decides, in two forms: a loop for code that makes its own (the engine's thread and
process, the Python API's runners), and the default for code that calls ``asyncio.run``
itself (the front ends, Textual among them).
"""

from __future__ import annotations

import asyncio
from types import ModuleType

__all__ = ["new_loop", "use_uvloop"]


def new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's, or asyncio's where uvloop is missing."""
    uvloop = _uvloop()
    if uvloop is None:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def use_uvloop() -> None:
    """uvloop for every loop ``asyncio.run`` makes from now on; chosen once at start-up
    (asyncio's default stays where uvloop is missing)."""
    uvloop = _uvloop()
    if uvloop is not None:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _uvloop() -> ModuleType | None:
    """The ``uvloop`` module, or None where it is not installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return None
    return uvloop
