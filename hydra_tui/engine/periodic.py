"""A timer for the length of a ``with`` block: the download's sampling ticker and the
headless progress both run one (``Download.sampling``, ``cli/progress.reporting``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

__all__ = ["every"]


@contextlib.asynccontextmanager
async def every(seconds: float, action: Callable[[], None], *, name: str) -> AsyncIterator[None]:
    """Call ``action`` every ``seconds`` while inside, from a task of its own that is
    cancelled, and awaited, on the way out (also when the block raises)."""

    async def forever() -> None:
        while True:
            await asyncio.sleep(seconds)
            action()

    ticker = asyncio.create_task(forever(), name=name)
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
