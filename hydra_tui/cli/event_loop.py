"""The event loop every front end runs on: uvloop, and SIGINT/SIGTERM as ``Interrupted``.

Its own module so that ``cli/main`` (which dispatches to the demo, the daemon and the
TUI) and those modes (which need the loop) both import it, instead of each other.
"""

from __future__ import annotations

import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

from hydra_tui.errors import Interrupted

__all__ = ["run_async", "use_uvloop"]

T = TypeVar("T")


def use_uvloop() -> None:
    """uvloop as the event loop, chosen once at start-up (stdlib asyncio without it)."""
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run_async(coro: Coroutine[Any, Any, T], *, resumable: bool = True) -> T:
    """Run ``coro`` on uvloop; SIGINT/SIGTERM cancel it and become ``Interrupted``."""
    import asyncio

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
