"""AIMD concurrency control: how many range requests may be open at once to one host.

Multiplicative decrease on push-back (429, 503, refused or reset connections), additive
increase after a window's worth of clean completions, a pause honouring Retry-After.
A refusal while other connections stream is read as the host's connection limit instead
(``conn_limit.HostLimit``): the window is capped at the number that works, nothing pauses,
and growth above the limit is a rare probe.
In ``auto`` mode the window starts small and doubles while aggregate throughput keeps
growing, then settles on the smallest window that gave the best throughput.

``AimdController`` is pure (clock and random source injected) so it is unit-tested
without I/O; ``HostGate`` wraps it for asyncio workers.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hydra_tui.engine.plan.conn_limit import HostLimit
from hydra_tui.engine.plan.wakeup import WakeUp
from hydra_tui.engine.snapshot import RateSample, WindowEvent
from hydra_tui.errors import PushbackKind

log = logging.getLogger(__name__)

__all__ = ["AimdController", "HostGate", "Slot"]


class _LoggedEvents(deque[WindowEvent]):
    """The controller's event history; each event also goes to the log file."""

    def append(self, event: WindowEvent) -> None:
        super().append(event)
        log.info("concurrency: %s (t=%.1fs)", event.describe(), event.t)


@dataclass(slots=True)
class Slot:
    """One admitted request; remembers when it started so stale push-back is ignored.

    A worker may keep its slot for the next chunk (``HostGate.keep``), so a slot can
    carry several requests over one kept-alive connection.
    """

    started: float
    owner: object = None
    #: a body came on this slot and it has not been refused or released since
    working: bool = False
    #: its last refusal was read as over the host's connection limit (not a failure)
    over_limit: bool = False


class AimdController:
    """The concurrency window for one host. All times come from ``clock``."""

    def __init__(
        self,
        *,
        ceiling: int,
        auto: bool = False,
        clock: Callable[[], float],
        rng: random.Random | None = None,
        backoff_base: float = 0.25,
        backoff_max: float = 30.0,
        epoch: float = 0.5,
        probe_every: int = 20,
        history: int = 600,
        limit: HostLimit | None = None,
        limit_quiet: float = 0.5,
    ) -> None:
        self.ceiling = max(1, ceiling)
        self.auto = auto
        self.clock = clock
        self.rng = rng or random.Random()
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.epoch = epoch
        self.window = min(2, self.ceiling) if auto else self.ceiling
        self.pause_until = 0.0
        self.active = 0
        #: requests whose body is flowing (answered 206/200 and being read)
        self.streaming = 0
        #: slots that carry bodies (kept between chunks): what the server demonstrably serves
        self.working = 0
        #: the host's demonstrated connection limit and its probe schedule
        self.host_limit = limit or HostLimit()
        self.started_at = clock()
        #: a learned limit is told once it held this long (a climb at start-up is one event)
        self.limit_quiet = limit_quiet
        self._limit_told: int | None = None
        self._limit_changed: float | None = None
        #: auto mode: open one more connection per body that starts until the first
        #: epoch ends or the server refuses (a capped server teaches its limit at once)
        self._slow_start = auto
        self._start_window = self.window
        #: called when the window grew outside the gate's own calls (``HostGate`` sets it)
        self.on_grown: Callable[[], None] | None = None
        self.events: _LoggedEvents = _LoggedEvents(maxlen=200)
        self.history: deque[RateSample] = deque(maxlen=history)
        self.pushbacks = 0
        self._clean = 0
        self._last_decrease = -1e18
        self._consecutive_backoffs = 0
        # auto mode: throughput per epoch and the best seen
        self.probe_every = probe_every
        self._mode = "growing" if auto else "fixed"
        self._probe_epochs = 0
        self._probe_base = 0.0
        self._quiet_epochs = 0
        self._recent = 0.0
        self._settling = auto  # the first epoch includes connecting
        self._epoch_start = self.started_at
        self._epoch_bytes = 0
        self._best_rate = 0.0
        self._best_window = self.window
        self._flat_epochs = 0
        self._bytes_total = 0

    # -- admission ---------------------------------------------------------------------
    def can_start(self) -> bool:
        return self.active < self.window and self.clock() >= self.pause_until

    def wait_time(self) -> float:
        """Seconds until a pause ends (0 if none)."""
        return max(0.0, self.pause_until - self.clock())

    def start(self, owner: object = None) -> Slot:
        self.active += 1
        return Slot(self.clock(), owner)

    def finish(self, slot: Slot | None = None) -> None:
        self.active = max(0, self.active - 1)
        if slot is not None:
            self._unwork(slot)

    @property
    def limit(self) -> int | None:
        """The host's demonstrated connection limit (None: none seen)."""
        return self.host_limit.value

    # -- feedback ----------------------------------------------------------------------
    def body_started(self, slot: Slot | None = None) -> None:
        self.streaming += 1
        if slot is not None and not slot.working:
            slot.working = True
            self.working += 1
        if self._slow_start and self.host_limit.value is None:
            # quiet: one "grow" event when slow start ends, not one per body
            grown = min(self.ceiling, max(self.window, self.streaming + 1))
            if grown > self.window:
                self.window = grown
                if self.on_grown is not None:
                    self.on_grown()  # a worker waits at the gate for this
        before = self.host_limit.value
        # bodies flowing at once, not slots: a kept slot between chunks holds none
        if self.host_limit.served(self.streaming, self.clock()):
            window = self.window
            self.window = max(window, min(self.ceiling, self.streaming))
            self._limit_event(before, window)

    def _unwork(self, slot: Slot) -> None:
        if slot.working:
            slot.working = False
            self.working = max(0, self.working - 1)

    def body_ended(self) -> None:
        self.streaming = max(0, self.streaming - 1)

    def on_bytes(self, n: int) -> None:
        """Count transferred bytes (for auto mode and the rate history)."""
        self._epoch_bytes += n
        self._bytes_total += n

    def on_success(self) -> None:
        """A request completed cleanly: after a window's worth, grow by one (to the ceiling)."""
        self._consecutive_backoffs = 0
        self._clean += 1
        if not self.auto and self._clean >= self.window and self.window < self.ceiling:
            self._clean = 0
            self._grow(self.window + 1, "clean completions")

    def on_pushback(
        self, kind: PushbackKind, slot: Slot | None, retry_after: float | None
    ) -> float:
        """429/503/reset: halve the window once per round trip; pause the host.

        A 429/503 while other connections stream is over the host's connection limit
        instead (``slot.over_limit`` is set): the window is capped at the number that
        works, nothing pauses, and Retry-After only delays the next probe.

        Returns the delay the failed request should wait before retrying.
        """
        now = self.clock()
        self.pushbacks += 1
        self._clean = 0
        self._end_slow_start(kind)
        if slot is not None:
            self._unwork(slot)
            slot.over_limit = False
            if kind in ("429", "503") and self._reads_as_limit():
                slot.over_limit = True
                self._over_limit(kind, retry_after, now)
                return 0.0
        if slot is None or slot.started >= self._last_decrease:
            self._last_decrease = now
            # halve, but not below what the server demonstrably sustains right now
            # (the bodies still flowing), so a K-connection server settles at K
            target = max(self.window // 2, min(self.streaming, self.window - 1))
            self._set_window(max(1, target), kind)
            if self.auto:
                self._best_window = self.window
                self._mode = "steady"
                self._quiet_epochs = 0
        if retry_after is not None:
            delay = retry_after
            self.events.append(
                WindowEvent(self._t(), "retry-after", self.window, self.window, f"{delay:g} s")
            )
        else:
            delay = self.backoff_delay(self._consecutive_backoffs)
        self._consecutive_backoffs += 1
        # the whole host waits when the server said how long, or on 429 (a rate limit);
        # a bare 503 or a reset only delays the request that got it
        if retry_after is not None or kind == "429":
            self.pause_until = max(self.pause_until, now + delay)
        return delay

    def _reads_as_limit(self) -> bool:
        before = self.host_limit.value
        verdict = self.host_limit.reads_as_limit(self.working, min(self.working, self.streaming))
        if before is not None and self.host_limit.disproved:
            self._limit_told = None
            self.note("limit", f"refused below {before}: not a connection limit")
        return verdict

    def _over_limit(self, kind: str, retry_after: float | None, now: float) -> None:
        """A refusal above the connection limit: cap the window at what works."""
        limit = self.host_limit
        before = limit.value
        working = self.working
        # the limit is what the server demonstrably serves at once (bodies flowing); the
        # window keeps every working slot, a kept one between chunks included
        probe = limit.refused(max(1, min(working, self.streaming)), now, retry_after)
        if before != limit.value:
            self._limit_event(before, self.window)
        detail = "probe refused" if probe else "over the limit"
        gap = max(0.0, limit.probe_at - now)
        self._set_window(working, kind, f"{detail}, next probe in {gap:.0f} s")
        # an earlier pause read this host as down: it is not, the others stream
        self.pause_until = min(self.pause_until, now)
        if self.auto:
            self._best_window = self.window
            self._mode = "steady"
            self._quiet_epochs = 0

    def _limit_event(self, before: int | None, window: int) -> None:
        """The limit changed: told by ``flush_events`` once it held ``limit_quiet`` s."""
        del before, window
        self._limit_changed = self.clock()

    def flush_events(self, *, force: bool = False) -> None:
        """Tell a learned limit that held ``limit_quiet`` seconds (or now, ``force``).

        At start-up the limit climbs one body at a time as connections connect; the
        user sees one "limit learned: K", not each step.
        """
        changed = self._limit_changed
        if changed is None or (not force and self.clock() - changed < self.limit_quiet):
            return
        self._limit_changed = None
        after, before = self.host_limit.value, self._limit_told
        if after is None or after == before:
            return
        self._limit_told = after
        was = "" if before is None else f" (was {before})"
        self.events.append(
            WindowEvent(self._t(), "limit", self.window, self.window, f"learned: {after}{was}")
        )

    def _grow(self, target: int, detail: str) -> None:
        """Raise the window toward ``target``: above a learned limit only by a probe."""
        before = self.host_limit.probing
        allowed = self.host_limit.cap(self.window, min(self.ceiling, target), self.clock())
        if self.host_limit.probing and not before:
            self._set_window(allowed, "probe", f"above the limit of {self.host_limit.value}")
        elif allowed > self.window:
            self._set_window(allowed, "grow", detail)

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform(0, min(max, base·2^attempt))."""
        cap = min(self.backoff_max, self.backoff_base * (2 ** min(attempt, 30)))
        return self.rng.uniform(0.0, cap)

    def note(self, kind: str, detail: str = "") -> None:
        """Record an event that did not change the window (a stall, a retry)."""
        self.events.append(WindowEvent(self._t(), kind, self.window, self.window, detail))

    def set_ceiling(self, ceiling: int) -> None:
        """A new most-connections-at-once; a fixed window follows it up and down."""
        ceiling = max(1, ceiling)
        grown = ceiling - self.ceiling
        self.ceiling = ceiling
        if grown > 0 and not self.auto:
            grown_to = self.window + grown
            if self.host_limit.value is not None:  # a new download does not probe
                grown_to = min(grown_to, max(self.window, self.host_limit.value))
            self.window = min(ceiling, grown_to)
        # not an event: downloads starting and ending move the ceiling all the time
        self.window = min(self.window, ceiling)

    # -- periodic ----------------------------------------------------------------------
    def tick(self) -> None:
        """Called about every ``epoch`` seconds: sample history; steer auto mode."""
        self.flush_events()
        now = self.clock()
        dt = now - self._epoch_start
        if dt < self.epoch:
            return
        rate = self._epoch_bytes / dt
        self.history.append(RateSample(self._t(), rate, self.window, self.active))
        self._epoch_start = now
        self._epoch_bytes = 0
        if not self.auto:
            return
        self._steer_auto(rate, now)

    def _steer_auto(self, rate: float, now: float) -> None:
        """Auto mode: double while throughput scales, then add one connection at a time
        while it grows >10%, settle on the best window,
        and every ``probe_every`` quiet epochs try one more connection, keeping it only
        if throughput rose >5%."""
        if self._mode == "growing" and self._slow_start:
            self._end_slow_start("first epoch")
            if self._mode == "descending":
                return
        if self._mode == "descending":
            self._descend(rate)
            return
        if self._mode == "growing":
            if self._settling:
                self._settling = False  # the epoch after a change mixes two windows
                return
            if rate > self._best_rate * 1.10:
                # near-linear gains (x1.6 per doubling): keep doubling; smaller gains mean
                # the bottleneck is close: creep up one connection at a time
                linear = not self._best_rate or rate >= self._best_rate * 1.6
                self._best_rate, self._best_window, self._flat_epochs = rate, self.window, 0
                if self.window < self.ceiling:
                    target = self.window * 2 if linear else self.window + 1
                    self._grow(target, "throughput up")
                return
            self._flat_epochs += 1
            if self._flat_epochs >= 2:
                self._best_rate = max(self._best_rate, rate)
                self._enter_steady(self._best_window, "settle", "throughput flat")
            return
        if self._mode == "probing":
            self._probe_epochs += 1
            if self._probe_epochs < 2:
                return
            if rate > self._probe_base * 1.05:
                self._best_rate, self._best_window = rate, self.window
                self._enter_steady(self.window, "settle", "more connections helped")
            else:
                self._enter_steady(self._best_window, "settle", "probe did not help")
            return
        # steady
        self._quiet_epochs += 1
        self._recent = 0.7 * self._recent + 0.3 * rate if self._recent else rate
        if (
            self._quiet_epochs >= self.probe_every
            and self.window < self.ceiling
            and now - self._last_decrease > self.probe_every * self.epoch
        ):
            before = self.window
            self._grow(self.window + 1, "probe")
            if self.window > before:
                self._mode = "probing"
                self._probe_epochs = 0
                self._probe_base = self._recent

    def _end_slow_start(self, why: str) -> None:
        """Slow start is over: tell how far it went; on a first epoch with nothing
        refused, look for the fewest connections that carry the same throughput."""
        if not self._slow_start:
            return
        self._slow_start = False
        grown = self.window
        if grown <= self._start_window:
            return
        self.events.append(
            WindowEvent(self._t(), "grow", self._start_window, grown, f"slow start, {why}")
        )
        if self._mode == "growing" and why == "first epoch":
            self._mode = "descending"
            self._settling = True  # the first epoch included connecting
            self._best_rate, self._best_window = 0.0, grown

    def _descend(self, rate: float) -> None:
        """After slow start: halve while throughput holds (within 10%), then settle on
        the smallest window that held it — a shared link gets few connections."""
        if self._settling:
            self._settling = False  # the epoch after a change mixes two windows
            return
        if rate < self._best_rate * 0.9:
            self._enter_steady(self._best_window, "settle", "fewer connections carried less")
            return
        self._best_rate = max(self._best_rate, rate)
        self._best_window = self.window
        if self.window <= self._start_window:
            self._enter_steady(self.window, "settle", "throughput held")
            return
        self._set_window(max(self._start_window, self.window // 2), "settle", "try fewer")

    def _enter_steady(self, window: int, kind: str, detail: str) -> None:
        self._mode = "steady"
        self._quiet_epochs = 0
        self._recent = 0.0
        self._set_window(window, kind, detail)

    # -- helpers -----------------------------------------------------------------------
    def _t(self) -> float:
        return self.clock() - self.started_at

    def _set_window(self, window: int, kind: str, detail: str = "") -> None:
        window = max(1, min(self.ceiling, window))
        limit = self.host_limit
        if limit.probing and limit.value is not None and window <= limit.value:
            limit.probing = False  # the probe was called off: the next one waits its gap
            limit.probe_at = max(limit.probe_at, self.clock() + limit.gap)
        if window != self.window:
            self._settling = True
            self.events.append(WindowEvent(self._t(), kind, self.window, window, detail))
            self.window = window


class HostGate:
    """Asyncio admission over an ``AimdController``: ``await gate.acquire()``, then
    ``gate.release(slot)``; waiters are served first come, first served.

    A worker that finished a chunk asks ``keep(slot)`` and, while the window allows,
    sends its next request at once over the same connection instead of queueing again.
    """

    def __init__(self, controller: AimdController, *, recheck: float = 0.5) -> None:
        self.controller = controller
        controller.on_grown = self.poke
        #: longest wait between looks at the window when nothing wakes a waiter (a
        #: safety net: every change of the window or of the slots wakes them)
        self.recheck = recheck
        self._changed = WakeUp()
        self._leases: dict[int, int] = {}
        self._queue: deque[tuple[object, object]] = deque()
        #: slots handed out by ``acquire`` (kept slots are not counted again)
        self.admitted = 0

    def lease(self, owner: object, threads: int) -> None:
        """``owner`` (a running download) may use up to ``threads`` connections; the
        host's ceiling is the sum over running downloads, each still capped by its own."""
        self._leases[id(owner)] = max(1, threads)
        self._apply()

    def unlease(self, owner: object) -> None:
        if self._leases.pop(id(owner), None) is not None:
            self._apply()

    def _apply(self) -> None:
        if self._leases:
            self.controller.set_ceiling(sum(self._leases.values()))
        self.poke()

    async def acquire(self, owner: object = None) -> Slot:
        """A slot, first come first served: one download's workers cannot starve
        another's by grabbing every slot that frees up."""
        ctl = self.controller
        me = (object(), owner)
        self._queue.append(me)
        try:
            while True:
                ticket = self._changed.ticket()
                if self._queue[0] is me and ctl.can_start():
                    break
                wait = ctl.wait_time()
                await WakeUp.wait(ticket, wait if wait > 0 else self.recheck)
        except BaseException:
            self._queue.remove(me)
            self.poke()
            raise
        self._queue.popleft()
        self.poke()  # the next in line may fit too
        self.admitted += 1
        return ctl.start(owner)

    def keep(self, slot: Slot) -> bool:
        """May ``slot``'s holder send its next request without queueing again?

        Yes while the window has room for it, the host is not paused (a pause is set
        only when a refusal did not read as a connection limit) and no other owner
        (another download to this host) waits first in line for a full window: kept
        slots never starve it.
        """
        ctl = self.controller
        if ctl.active > ctl.window or ctl.wait_time() > 0:
            return False
        full = ctl.active == ctl.window
        return not (full and self._queue and self._queue[0][1] is not slot.owner)

    def release(self, slot: Slot | None = None) -> None:
        self.controller.finish(slot)
        self.poke()

    def poke(self) -> None:
        """Wake waiters after the window or pause changed."""
        self._changed.wake()
