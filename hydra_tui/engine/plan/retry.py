"""The one retry rule of the engine's request loops: what counts, how long to wait, when to stop.

Range workers (``transfer``), the one-connection body (``one_connection``), the probe
(``download``) and each mirror's connections keep an ``Attempts`` and ask it after every
failed try, so a 429, a cut connection or a silent server is handled alike wherever it
happens:

- a push-back (a 429 or 503, ``check_pushback``) goes to the host's AIMD controller, which
  halves the window and says how long to wait (Retry-After, or its own backoff); a try
  that was above the host's learned connection limit waits nothing and is no failure;
- a reset is push-back too where other connections share the host (range workers); on
  the only connection (the probe, a one-connection body) it says nothing about how many
  the host takes, and backs off like any other cut;
- a stall is noted in the window's events (it is restarted, the host is not slowed);
- anything else retryable waits exponential backoff with full jitter; failures in a row
  beyond ``--retries`` end the loop (``delay_after`` returns ``None``).

Mirrors (``mirrors/run``) keep one ``Attempts`` per mirror, on that mirror's own host
window: a mirror whose tries run out is dropped, not the download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hydra_tui.errors import ConnectionReset, HydraError, Pushback, PushbackKind, Stalled

if TYPE_CHECKING:
    from hydra_tui.engine.plan.aimd import AimdController, Slot

__all__ = ["Attempts"]


class Attempts:
    """The failures in a row of one request loop, and the wait before its next try."""

    def __init__(
        self, controller: AimdController, limit: int, *, resets_push_back: bool = True
    ) -> None:
        self.controller = controller
        #: failures in a row allowed (``--retries``)
        self.limit = limit
        self.resets_push_back = resets_push_back
        #: failures in a row so far
        self.failures = 0

    def progressed(self) -> None:
        """The loop moved on (a try succeeded, or delivered bytes before it failed)."""
        self.failures = 0

    def delay_after(self, exc: HydraError, slot: Slot | None, detail: str = "") -> float | None:
        """Seconds to wait before the next try after ``exc``; ``None``: give up."""
        controller = self.controller
        delay: float | None = None
        if isinstance(exc, Pushback):
            delay = controller.on_pushback(exc.kind, slot, exc.retry_after)
        elif isinstance(exc, ConnectionReset) and self.resets_push_back:
            delay = controller.on_pushback(PushbackKind.RESET, slot, None)
        elif isinstance(exc, Stalled):
            controller.note("stall", detail)
        # above the host's connection limit, the number of connections failed, not this try
        if slot is None or not slot.over_limit:
            self.failures += 1
            if self.failures > self.limit:
                return None
        return controller.backoff_delay(self.failures - 1) if delay is None else delay
