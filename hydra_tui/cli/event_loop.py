"""The event loop every front end runs on: uvloop, and SIGINT/SIGTERM as ``Interrupted``.

Its own module so that ``cli/main`` (which dispatches to the demo, the daemon and the
TUI) and those modes (which need the loop) both import it, instead of each other. The
choice of uvloop itself is the engine's (``engine/event_loop.py``), shared with the API.
"""

from __future__ import annotations

import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

from hydra_tui.errors import Interrupted

__all__ = ["run_async"]

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T], *, resumable: bool = True) -> T:
    """Run ``coro`` on uvloop; SIGINT/SIGTERM cancel it and become ``Interrupted``."""
    import asyncio

    from hydra_tui.engine.event_loop import use_uvloop

    use_uvloop()
    received: list[int] = []

    async def runner() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int) -> None:
            if not received:
                received.append(signum)
                task.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop, signum)
        try:
            return await coro
        except asyncio.CancelledError:
            if received:
                raise Interrupted(received[0], resumable=resumable) from None
            raise

    return asyncio.run(runner())
