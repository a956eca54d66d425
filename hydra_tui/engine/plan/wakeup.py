"""A wake-up call for many waiters that cannot be lost between a check and a wait.

The pattern it replaces (one shared ``asyncio.Event``; each waiter clears it, then waits)
loses wake-ups when several coroutines wait: one waiter's ``clear()`` can undo a
``set()`` meant for another that has not started waiting yet (``asyncio.wait_for`` on
Python 3.11 starts the wait in a task of its own, a loop iteration later). The lost
wake-up then costs the waiter its whole timeout: a free connection slot idle for half a
second, measured on a server that takes four connections.

Here each ``wake()`` sets the current event and starts a fresh one, and nobody clears:
a waiter takes ``ticket()`` in the same step as it checks its condition, so any wake
after that check sets the very event it waits on.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["WakeUp"]


class WakeUp:
    """Broadcast wake-ups: every waiter holding a ticket from before ``wake()`` wakes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def ticket(self) -> asyncio.Event:
        """The event the next ``wake()`` sets; take it before checking the condition."""
        return self._event

    def wake(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    @staticmethod
    async def wait(ticket: asyncio.Event, timeout: float) -> None:
        """Wait until ``ticket`` is set, or ``timeout`` seconds."""
        # not ``wait_for``: on Python 3.11 it drops a cancel that arrives as the ticket
        # is set (every waiter of a gate is woken as one of them is cancelled), and the
        # cancelled worker went on waiting for a slot of a busy host
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await ticket.wait()
