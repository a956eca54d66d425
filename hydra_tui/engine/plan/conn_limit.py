"""The connection limit a host has shown: how many bodies it serves one client at once.

Many servers cap the connections of one client and refuse the rest (503 with or without
Retry-After, 429). A refusal while other connections to the host are streaming means
"over the limit", not "host down": the limit is the number that works, and the
connections that work must not be paused. The limit is remembered for the life of the
``AimdController`` (one per host in an ``EngineContext``, so every download to the host
shares it) and probed rarely, one connection above it, with spacing that doubles after
each refused probe (as TCP keeps ssthresh), so a limit that rises is found again without
knocking every second.

A refusal while fewer connections than the demonstrated limit are streaming contradicts a
cap (a random 429 storm, an overloaded host): from then on the host is an ordinary
push-back host, and refusals pause it as before.

Pure state, times passed in: unit-tested without I/O (``tests/unit/test_host_limit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HostLimit"]


@dataclass(slots=True)
class HostLimit:
    """The demonstrated limit of one host and when to probe above it."""

    first_gap: float = 10.0
    """Seconds from learning the limit to the first probe above it."""
    max_gap: float = 300.0
    """The spacing of probes doubles after each refused one, up to this."""
    value: int | None = None
    """Most bodies the host served at once before refusing one more (None: no cap seen)."""
    gap: float = 0.0
    probe_at: float = 0.0
    """No probe above the limit before this time."""
    probing: bool = False
    """The window is one above the limit, waiting for the server's answer."""
    disproved: bool = False
    """A refusal came below the demonstrated limit: this host does not cap connections."""
    lowered: bool = False
    """The allowance for a lagging count is spent (see ``reads_as_limit``)."""

    def __post_init__(self) -> None:
        self.gap = self.gap or self.first_gap

    def reads_as_limit(self, working: int, serving: int) -> bool:
        """Does a refusal while ``working`` other slots hold connections and ``serving``
        bodies flow mean "over the limit"?

        Nothing working: an outage (False). Fewer serving than the demonstrated limit
        contradicts a cap, with one allowance: a client's counts lag the server's by one
        at times (a body counted as ended late, a kept slot between two chunks), so one
        refusal one below the limit lowers it by one, and the next body that raises it
        again takes the allowance back. A second such refusal before that, or one with
        two fewer working, disproves the cap for good (False): a 429 storm, an overloaded
        host.
        """
        if self.disproved or working <= 0:
            return False
        value = self.value
        if value is not None and serving < value:
            if working < value - 1 or self.lowered:
                self.disproved = True
                self.value = None
                self.probing = False
                return False
            self.lowered = True
        return True

    def refused(self, serving: int, now: float, retry_after: float | None) -> bool:
        """A refusal read as over the limit, with ``serving`` bodies flowing.

        The limit becomes ``serving`` (lowered by one at most); the next probe waits
        the current gap (or the Retry-After, if longer), and the gap doubles when this
        refusal answered a probe.
        Returns True when it answered a probe.
        """
        self.value = serving if self.value is None else max(serving, self.value - 1)
        was_probe = self.probing
        if was_probe:
            self.gap = min(self.max_gap, self.gap * 2)
            self.probing = False
        self.probe_at = max(self.probe_at, now + max(self.gap, retry_after or 0.0))
        return was_probe

    def served(self, serving: int, now: float) -> bool:
        """A body started with ``serving`` bodies flowing; True if the limit rose.

        A rise answers a probe (or corrects a limit read before every answer was in):
        probing may go on at the pace of ordinary growth, and the gap starts over.
        """
        if self.value is None or serving <= self.value:
            return False
        self.value = serving
        self.lowered = False
        if self.probing:
            self.probing = False
            self.gap = self.first_gap
            self.probe_at = now
        return True

    def cap(self, window: int, target: int, now: float) -> int:
        """How far growth from ``window`` toward ``target`` may go now.

        Up to the limit freely; one above it only when a probe is due (and then the
        window is probing until the server answers).
        """
        limit = self.value
        if limit is None or target <= limit:
            return target
        if window < limit:
            return limit
        if window == limit and not self.probing and now >= self.probe_at:
            self.probing = True
            return limit + 1
        return window
