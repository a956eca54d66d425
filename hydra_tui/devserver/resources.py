"""A served resource: its current version, its faults, its fault schedule and its statistics.

State here is touched only from the server's event-loop thread; ``DevServer`` hands out
copies (``ResourceStats``, ``RecordedRequest``) to other threads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from hydra_tui.devserver.content import Content, synthetic_content
from hydra_tui.devserver.faults import Faults
from hydra_tui.devserver.http import Headers
from hydra_tui.devserver.throttle import LinkBucket

__all__ = [
    "RecordedRequest",
    "Resource",
    "ResourceStats",
    "Schedule",
    "Version",
    "changed_seed",
]


@dataclass(frozen=True, slots=True)
class Version:
    """One immutable version of a resource's bytes with its validators."""

    content: Content
    etag: str
    """Strong ETag, derived from the content identity and the version number."""
    last_modified: int
    """Whole seconds since the epoch; each new version is at least one second later."""
    number: int


@dataclass(slots=True)
class ResourceStats:
    """What happened to one resource since it was added or since ``reset_stats``."""

    requests: int = 0
    range_requests: int = 0
    head_requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    bodies: int = 0
    """GET responses that started sending the resource's bytes."""
    completed_bodies: int = 0
    """Bodies sent to the end without a fault cutting them."""
    max_concurrent_bodies: int = 0
    bytes_sent: int = 0
    """Body bytes handed to the socket (the resource's bytes, padding and lies)."""
    connections: int = 0
    """Distinct connections that asked for this resource."""
    last_body_end: float = 0.0
    """``time.monotonic()`` when the latest body ended (sent, cut or abandoned)."""
    faults: Counter[str] = field(default_factory=Counter)
    """How often each fault happened, keyed by the ``Faults`` field that caused it
    (``reset``, ``reset_first``, ``truncate``, ``stall``, ``status_rate``, ``lie``, ...)."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request as the server received it."""

    method: str
    target: str
    path: str
    query: str
    headers: Headers
    time: float
    """``time.monotonic()`` when the head had been read."""
    connection: int
    """Server-wide connection number (1, 2, ...): equal numbers mean one kept-alive socket."""
    status: int
    """The status the server answered with."""


def changed_seed(faults: Faults) -> int:
    """Seed of the synthetic second version that ``change_after`` switches to."""
    return faults.seed + 1_000_003


@dataclass(slots=True)
class Schedule:
    """Counters and random source of one fault set: "the first N", "every Nth", "after N"."""

    rng: random.Random
    requests: int = 0
    bodies: int = 0
    #: server-wide connection number -> its number (1-based) among this schedule's
    connections: dict[int, int] = field(default_factory=dict)


class Resource:
    """One name on the server.

    Each distinct effective ``Faults`` (the resource's own, or those a URL query makes)
    has its own ``Schedule``, so ``/f?reset_first=2`` resets the first two bodies asked
    for with that URL, whatever other URLs did before.
    """

    def __init__(self, name: str, content: Content, faults: Faults, last_modified: int) -> None:
        self.name = name
        self.faults = faults
        self.version = _version(content, 0, last_modified)
        self._contents = [content]  # old versions may still be mid-body: closed at the end
        self.stats = ResourceStats()
        self.active_bodies = 0
        self.changed = False
        self._connections: set[int] = set()
        self._schedules: dict[Faults, Schedule] = {}
        self._links: dict[int, LinkBucket] = {}
        #: issued signatures (``Faults.signed_uses``/``signed_for``) → requests each may
        #: still make (-1: any number), and when it expires (monotonic; inf: never)
        self.signatures: dict[str, tuple[int, float]] = {}

    def schedule(self, faults: Faults) -> Schedule:
        """The schedule of ``faults``, created on first use with ``Random(faults.seed)``."""
        schedule = self._schedules.get(faults)
        if schedule is None:
            schedule = self._schedules[faults] = Schedule(random.Random(faults.seed))
        return schedule

    def link(self, rate: int) -> LinkBucket:
        """The shared link of ``rate`` bytes/s that all this resource's connections use."""
        bucket = self._links.get(rate)
        if bucket is None:
            bucket = self._links[rate] = LinkBucket(rate)
        return bucket

    def note_request(
        self, schedule: Schedule, connection: int, method: str, headers: Headers
    ) -> int:
        """Count a request; return its number (1-based) in ``schedule``."""
        schedule.requests += 1
        self.stats.requests += 1
        self.stats.head_requests += method == "HEAD"
        self.stats.range_requests += "range" in headers
        self._connections.add(connection)
        schedule.connections.setdefault(connection, len(schedule.connections) + 1)
        return schedule.requests

    def start_body(self, schedule: Schedule) -> int:
        """Claim a body slot; return the body's number (1-based) in ``schedule``."""
        schedule.bodies += 1
        self.active_bodies += 1
        self.stats.bodies += 1
        self.stats.max_concurrent_bodies = max(self.stats.max_concurrent_bodies, self.active_bodies)
        return schedule.bodies

    def end_body(self) -> None:
        """Release the slot taken by ``start_body``."""
        self.active_bodies -= 1
        self.stats.last_body_end = time.monotonic()

    def replace(self, content: Content) -> None:
        """Switch to new bytes with a new ETag and a later Last-Modified."""
        old = self.version
        last_modified = max(old.last_modified + 1, int(time.time()) - 1)
        self.version = _version(content, old.number + 1, last_modified)
        self._contents.append(content)

    def change(self, faults: Faults) -> None:
        """The ``change_after`` switch: other deterministic bytes (``change_size`` or as big)."""
        if not self.changed:
            self.changed = True
            size = self.version.content.size if faults.change_size is None else faults.change_size
            self.replace(synthetic_content(changed_seed(faults), size))

    def set_faults(self, faults: Faults) -> None:
        """New faults, with fresh schedules (request and body numbers start again at 1)."""
        self.faults = faults
        self._schedules.clear()

    def snapshot(self) -> ResourceStats:
        """A copy of the statistics that later requests do not change."""
        stats = dataclasses.replace(
            self.stats, statuses=Counter(self.stats.statuses), faults=Counter(self.stats.faults)
        )
        stats.connections = len(self._connections)
        return stats

    def close(self) -> None:
        """Release every version's content (files held open)."""
        for content in self._contents:
            content.close()

    def reset_stats(self) -> None:
        """Zero the statistics (the fault schedule goes on)."""
        self.stats = ResourceStats()
        self._connections.clear()


def _version(content: Content, number: int, last_modified: int) -> Version:
    digest = hashlib.sha256(content.identity() + b"#%d" % number).hexdigest()[:32]
    return Version(content, f'"{digest}"', last_modified, number)
