"""One download: probe, then fill a ``.part`` file (``to_disk``) or a stream (``stream``).

The ``Download`` owns the mutable state of one URL and publishes it as an immutable
``DownloadSnapshot``; the heavy lifting lives in ``transfer`` (range workers),
``disk`` (where on disk, resume) and ``one_connection`` (one-connection fallback).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.http.error_map import check_pushback, network_error
from hydra_tui.engine.http.headers import for_origin
from hydra_tui.engine.http.probe import (
    PROBE_BYTES,
    RemoteFile,
    empty_remote,
    raw_probe,
    raw_route,
    remote_from_headers,
)
from hydra_tui.engine.http.redirects import cookie_extension
from hydra_tui.engine.http.renew import UrlRenewer
from hydra_tui.engine.http.urls import host_problem, redact_url
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.periodic import every
from hydra_tui.engine.plan.aimd import AimdController, Slot
from hydra_tui.engine.plan.chunk_map import chunk_grid
from hydra_tui.engine.plan.lowspeed import LowSpeedWatch
from hydra_tui.engine.plan.planner import Planner
from hydra_tui.engine.plan.ratelimit import TokenBucket
from hydra_tui.engine.plan.retry import Attempts
from hydra_tui.engine.signals import Unsupported
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState, RateSample
from hydra_tui.engine.speed import SpeedMeter
from hydra_tui.engine.transfer import TransferRun
from hydra_tui.errors import (
    HTTPStatusError,
    HydraError,
    ProtocolViolation,
    UrlExpired,
    UsageError,
)

if TYPE_CHECKING:
    from hydra_tui.engine.mirrors.run import MirrorSet

__all__ = ["Download", "Probed"]

log = logging.getLogger(__name__)
#: the smallest probe under a rate limit (a slow limit still needs the file's headers)
MIN_PROBE_BYTES = 16 * 1024
#: seconds between two samples of throughput and window (the graphs' resolution)
SAMPLE_SECONDS = 0.5
_ids = itertools.count(1)


class Probed:
    """The probe's result: the remote's identity plus the first bytes of the body."""

    def __init__(self, remote: RemoteFile, head: bytes, head_complete: bool) -> None:
        self.remote = remote
        self.head = head
        #: True when ``head`` is the whole file (small file or empty)
        self.head_complete = head_complete


class Download:
    """State and control of one URL; see ``hydra_tui.engine.disk`` / ``stream`` to run it."""

    def __init__(
        self, ctx: EngineContext, url: str, options: DownloadOptions, *, id: str | None = None
    ) -> None:
        parts = urlsplit(url)
        shown = redact_url(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"not an http(s) URL: {shown!r}")
        problem = host_problem(parts.hostname)
        if problem is not None:
            raise UsageError(f"invalid URL {shown!r}: {problem}")
        try:
            self._url = httpx.URL(url)
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise UsageError(f"invalid URL {shown!r}: {exc}") from None
        self.ctx = ctx
        self.url = url
        #: the URL as people and logs may see it (password redacted)
        self.shown_url = shown
        self.options = options
        self.id = id or f"d{next(_ids)}"
        self.state = DownloadState.QUEUED
        self.error: str | None = None
        self.threads = max(1, options.threads)
        self.gate = ctx.gate_for(url, options)
        self.bucket = TokenBucket(options.limit_rate, clock=ctx.clock, parent=ctx.total_bucket)
        self.remote: RemoteFile | None = None
        self.planner: Planner | None = None
        self.transfer: TransferRun | None = None
        self.name: str | None = None
        self.path: str | None = None
        self.checksum: str | None = None
        #: algorithm → hex the file must match, known once probed (``engine/io/checksums.py``)
        self.expected_digests: dict[str, str] = {}
        self.received = 0
        self.resumed_bytes = 0
        self.single_done = 0
        #: bytes that arrived but are not yet in ``single_done`` (probe, one connection)
        self.pending = 0
        self.retries = 0
        #: connections opened above the window to take over a crawling one
        self.hedges = 0
        self.low_speed = LowSpeedWatch(
            options.speed_limit, options.speed_time, clock=ctx.clock, retries=options.retries
        )
        self._open_bodies = 0
        self.started_at = ctx.clock()
        for name, value in options.headers:
            if not value.isascii():  # httpx would fail deep inside the first request
                raise UsageError(f"header {name} has non-ASCII characters in its value")
        self.request_headers: dict[str, str] = {k: v for k, v in options.headers}
        self.transfer_url = url
        #: bytes the probe asks for when not the default (a renewal's check asks for one)
        self.probe_size: int | None = None
        #: gets a fresh URL when a range answers 401/403/410 (``engine/http/renew.py``)
        self.renewer = UrlRenewer(self)
        self._grid: list[tuple[int, int]] = []
        self._meter = SpeedMeter()
        self._history: deque[RateSample] = deque(maxlen=600)
        self._leased = False
        #: requests of this download waiting for a connection slot of its host
        self.waiting = 0
        #: the probed mirrors, when ``--mirror`` or a metalink gave more than one source
        self.mirror_set: MirrorSet | None = None

    def for_probe(self, url: str) -> Download:
        """A download of ``url`` with this one's context and options, only to probe it
        (a renewal's fresh URL: it never runs ``--url-cmd`` in turn)."""
        return Download(self.ctx, url, dataclasses.replace(self.options, url_cmd=None))

    # -- control -----------------------------------------------------------------------
    def set_threads(self, threads: int) -> None:
        self.threads = max(1, min(1024, threads))
        if self._leased:
            self.gate.lease(self, self.threads)
        if self.transfer is not None:
            self.transfer.spawn(self.threads)
        self.gate.poke()

    def set_rate_limit(self, bytes_per_s: int | None) -> None:
        self.bucket.set_rate(bytes_per_s)

    async def acquire(self) -> Slot:
        """A connection slot of this download's host (``gate.release()`` gives it back);
        while it waits, the snapshot says so (``waiting_for_host``)."""
        self.waiting += 1
        try:
            return await self.gate.acquire(self)
        finally:
            self.waiting -= 1

    def begin(self) -> None:
        """Count this download's connections into its host's ceiling while it runs."""
        self._leased = True
        self.gate.lease(self, self.threads)

    def end(self) -> None:
        self._leased = False
        self.gate.unlease(self)

    @contextlib.contextmanager
    def running(self, *, stopped: DownloadState) -> Iterator[None]:
        """One run of this download, disk or stream: the one place its end state is set.

        Inside, its connections count into the host's ceiling (``begin``/``end``). A
        ``HydraError`` leaves it FAILED with the error's line; a cancel (or, for a stream,
        a reader that went away) leaves it ``stopped``: PAUSED on disk, where the ``.part``
        and its resume record wait for the next run, CANCELLED for a stream, which has
        nothing to resume. The caller sets DONE once every byte is where it belongs.
        """
        self.begin()
        try:
            yield
        except HydraError as exc:
            self.fail(exc)
            raise
        except (asyncio.CancelledError, GeneratorExit):
            if not self.state.finished:
                self.state = stopped
            raise
        finally:
            self.end()

    def fail(self, exc: HydraError) -> None:
        """The download ended on ``exc``: FAILED, with its line (also for a failure found
        after the engine's part was done, as ``--stream`` checking what it wrote)."""
        self.state = DownloadState.FAILED
        self.error = str(exc)

    # -- the low-speed limit -------------------------------------------------------------
    def body_opened(self) -> float:
        """A response body starts; returns its start time for ``check_speed``. The
        low-speed window counts only time when some body is open (never our own idling
        while a stream's reader catches up)."""
        if self._open_bodies == 0:
            self.low_speed.start(self.received)
        self._open_bodies += 1
        return self.ctx.clock()

    def body_closed(self) -> None:
        self._open_bodies -= 1

    def check_speed(self, opened: float) -> None:
        """Raise ``TooSlow`` when the body opened at ``opened`` must be restarted."""
        rate = self.bucket.rate
        share = None if rate is None else rate / max(1, self.threads)
        self.low_speed.check(self.received, opened, share=share)

    def arrived(self, n: int, controller: AimdController | None = None) -> float:
        """``n`` body bytes came over httpx: counted for this download and for the host
        window they came through (``controller``: a mirror's own; by default this
        download's). Returns the seconds ``--limit-rate`` holds the connection back."""
        self.received += n
        (controller or self.gate.controller).on_bytes(n)
        return 0.0 if self.bucket.rate is None else self.bucket.take(n)

    def paused_by_us(self) -> None:
        """We held the bytes back (rate limit, a full stream buffer): not the server's
        slowness, so the low-speed window starts again."""
        self.low_speed.start(self.received)

    # -- requests through httpx ---------------------------------------------------------
    def range_headers(self, start: int, end: int, validator: str | None) -> dict[str, str]:
        """The user's headers with ``Range: bytes=start-(end-1)`` and, given a validator,
        ``If-Range`` (a new version then answers 200, not a spliced 206)."""
        headers = dict(self.request_headers)
        headers["Range"] = f"bytes={start}-{end - 1}"
        if validator:
            headers["If-Range"] = validator
        return headers

    @contextlib.asynccontextmanager
    async def get(
        self, headers: dict[str, str], url: str | None = None
    ) -> AsyncIterator[httpx.Response]:
        """GET ``url`` (default: the transfer URL) through httpx, the path of whatever the
        lean reader does not take (probe, range workers, one connection, mirrors).

        The user's Cookie follows redirects back to its origin (``cookie_extension``), and
        an httpx failure, in the head or the body, becomes its one-line ``HydraError``.
        """
        url = self.transfer_url if url is None else url
        extensions = cookie_extension(self.url, headers)
        try:
            async with self.ctx.client.stream(
                "GET", url, headers=headers, extensions=extensions
            ) as resp:
                yield resp
        except httpx.HTTPError as exc:
            host = httpx.URL(url).host
            raise network_error(exc, host, proxy=self.ctx.proxy_for(url)) from exc

    # -- probe -------------------------------------------------------------------------
    async def probe(self) -> Probed:
        """GET the first bytes with a Range header; retries transient failures. With
        ``--url-cmd`` (or the one the resume store kept), a URL that has expired already
        (a rerun the next day) is swapped for the command's fresh one."""
        try:
            return await self._probe_retrying()
        except UrlExpired:
            if self.renewer.command() is None:
                raise
            probed = await self.renewer.probe_fresh()
            self._set_remote(probed.remote)
            return probed

    async def _probe_retrying(self) -> Probed:
        self.state = DownloadState.PROBING
        # one connection: a reset says nothing about how many the host takes
        attempts = Attempts(self.gate.controller, self.options.retries, resets_push_back=False)
        while True:
            slot = await self.acquire()
            try:
                return await self._probe_once()
            except HydraError as exc:
                if not exc.retryable:
                    raise
                delay = attempts.delay_after(exc, slot)
                error = exc
            finally:
                self.gate.release(slot)
            self.retries += 1
            if delay is None:
                raise error
            if not slot.over_limit:  # else other downloads hold the host's connections
                log.info("%s: probe: %s; reconnecting", self.url, error)
            await asyncio.sleep(delay)

    def probe_bytes(self) -> int:
        """How much the probe asks for: 256 KiB, or one burst of the rate limit, so that
        ``--limit-rate`` holds from the first byte."""
        if self.probe_size is not None:
            return self.probe_size
        rate = self.bucket.rate
        if rate is None:
            return PROBE_BYTES
        return max(MIN_PROBE_BYTES, min(PROBE_BYTES, rate // 20))

    async def _probe_once(self) -> Probed:
        probed = await self._probe_request(self.probe_bytes())
        if self.bucket.rate is not None and probed.head:
            await self.bucket.consume(len(probed.head))
        return probed

    async def _probe_request(self, limit: int) -> Probed:
        headers = self.range_headers(0, limit, None)
        ctx = self.ctx
        pool = ctx.raw_pool if self.options.raw_http else None
        if pool is not None and raw_route(pool, self._url, cookies=ctx.has_cookies):
            merged = httpx.Headers(ctx.default_headers)
            merged.update(headers)
            try:
                opened = self.body_opened()
                try:
                    answer = await raw_probe(
                        pool, self._url, merged, limit=limit,
                        stall=self.options.stall_timeout, progress=self._probe_progress(opened),
                    )  # fmt: skip
                finally:
                    self.body_closed()
                    self.pending = 0
            except Unsupported as exc:
                log.info("%s: probing through httpx: %s", self.url, exc)
            else:
                if "set-cookie" in answer.headers:
                    request = httpx.Request("GET", self._url)
                    ctx.client.cookies.extract_cookies(
                        httpx.Response(answer.status, headers=answer.headers, request=request)
                    )
                found = self._judge(answer.status, answer.reason, answer.headers, str(self._url))
                if isinstance(found, Probed):
                    return found
                return self._conclude(found, answer.status, answer.body, answer.ended, limit)
        try:
            async with self.get(headers, self.url) as resp:
                final_url = str(resp.url)
                found = self._judge(resp.status_code, resp.reason_phrase, resp.headers, final_url)
                if isinstance(found, Probed):
                    return found
                pieces: list[bytes] = []
                got = 0
                ended = False
                opened = self.body_opened()
                try:
                    async for piece in resp.aiter_raw():
                        pieces.append(piece)
                        got += len(piece)
                        self.received += len(piece)
                        self.pending = got
                        if got >= limit:
                            break
                        self.check_speed(opened)
                    else:
                        ended = True
                finally:
                    self.body_closed()
                    self.pending = 0
                return self._conclude(found, resp.status_code, b"".join(pieces), ended, limit)
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise UsageError(f"invalid URL {self.shown_url!r}: {exc}") from exc

    def _probe_progress(self, opened: float) -> Callable[[int], None]:
        """What the lean probe calls as bytes of its body arrive: count them, check speed."""

        def progress(got: int) -> None:
            self.received += got - self.pending
            self.pending = got
            self.check_speed(opened)

        return progress

    def _judge(
        self, status: int, reason: str, headers: httpx.Headers, final_url: str
    ) -> RemoteFile | Probed:
        """The probe's status and headers: the remote file, or the whole (empty) answer;
        raises for statuses that are not the file."""
        check_pushback(status, headers.get("retry-after"))
        if status == 416:
            if headers.get("content-range", "").strip().endswith("/0"):
                remote = empty_remote(self.url, final_url, headers)
                self._set_remote(remote)
                return Probed(remote, b"", True)
            raise HTTPStatusError(416, self.url, "the server refuses the first bytes")
        if status in (401, 403, 410):
            raise UrlExpired(status, self.url, reason)
        if status not in (200, 206):
            raise HTTPStatusError(status, self.url, reason)
        remote = remote_from_headers(self.url, final_url, status, headers)
        if status == 200:
            # a valid 206 whose Content-Range answers the range asked (checked by
            # remote_from_headers) is the file whatever its type: busybox httpd labels
            # every file text/html, and so may a .php or .cgi download
            self._check_html(remote)
        return remote

    def _conclude(
        self, remote: RemoteFile, status: int, body: bytes, ended: bool, limit: int
    ) -> Probed:
        """The first bytes of the body (``ended``: the body ended within them)."""
        got = len(body)
        complete = ended and (status == 200 or got == remote.size)
        head = body[:limit] if got > limit else body
        if status == 206 and remote.size is not None:
            if len(head) > remote.size:
                head = head[: remote.size]
            complete = len(head) == remote.size
        if status == 200 and remote.size is not None and complete and got != remote.size:
            raise ProtocolViolation(f"body has {got} bytes, Content-Length says {remote.size}")
        self._set_remote(remote)
        return Probed(remote, head, complete)

    def _check_html(self, remote: RemoteFile) -> None:
        """An HTML page answering a request for a binary-looking name is an error page."""
        if self.options.accept_html:
            return
        ctype = (remote.content_type or "").lower()
        path = urlsplit(remote.final_url).path.lower()
        if (
            "text/html" in ctype
            and not path.endswith((".html", ".htm", "/"))
            and "." in path.rsplit("/", 1)[-1]
        ):
            raise ProtocolViolation(
                "server answered with an HTML page instead of the file (an error page?); "
                "--accept-html saves it anyway",
                retryable=False,  # asking again gets the same page
            )

    def adopt_remote(self, remote: RemoteFile) -> None:
        """A mirror's probe stands for this URL's, which failed: the file's size and
        identity are the mirror's; no request goes to this URL any more."""
        self.remote = remote
        if remote.size:
            self._grid = chunk_grid(remote.size)

    def _set_remote(self, remote: RemoteFile) -> None:
        self.remote = remote
        self.transfer_url = remote.final_url
        self.request_headers = for_origin(self.request_headers, self.url, remote.final_url)
        if remote.size:
            self._grid = chunk_grid(remote.size)
        if remote.multi_connection and not (remote.etag or remote.last_modified):
            log.warning(
                "%s: the server sends no ETag or Last-Modified: only the size shows that "
                "the file does not change while it is fetched in pieces",
                self.shown_url,
            )

    # -- progress ----------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def sampling(self) -> AsyncIterator[None]:
        """While a body runs, disk or stream: throughput and the window sampled every
        ``SAMPLE_SECONDS`` (the history the graphs draw), and once more at the end, so the
        last snapshot holds the final figures. The one ticker of every mode.

        The meters start here, so the first tick already has a speed to show."""
        self._sample_speeds(self.ctx.clock())
        try:
            async with every(SAMPLE_SECONDS, self.tick, name="hydra sampling"):
                yield
        finally:
            self.tick()

    def tick(self) -> None:
        """Sample throughput, the download's and each mirror's (every ``SAMPLE_SECONDS``
        while ``sampling``)."""
        now = self.ctx.clock()
        speed = self._sample_speeds(now)
        ctl = self.gate.controller
        ctl.tick()
        self._history.append(
            RateSample(now - self.started_at, speed, min(ctl.window, self.threads), self.active)
        )

    def _sample_speeds(self, now: float) -> float:
        """Feed the download's speed meter and its mirrors'; returns the download's."""
        if self.mirror_set is not None:
            for mirror in self.mirror_set.mirrors:
                mirror.tick(now)
        return self._meter.sample(now, self.received)

    @property
    def active(self) -> int:
        return 0 if self.planner is None else len(self.planner.active)

    @property
    def done_bytes(self) -> int:
        """Bytes that arrived, written or still on their way to the sink (a server that
        trickles a byte every few seconds shows them)."""
        planner = self.planner
        if planner is not None:
            return planner.done_bytes + sum(a.pos - a.committed for a in planner.active)
        return self.single_done + self.pending

    def snapshot(self) -> DownloadSnapshot:
        remote = self.remote
        ctl = self.gate.controller
        ctl.flush_events(force=self.state.finished or self.state == DownloadState.VERIFYING)
        events = tuple(e for e in ctl.events if e.t + ctl.started_at >= self.started_at - 1e-9)
        return DownloadSnapshot(
            id=self.id,
            url=self.shown_url,
            state=self.state,
            name=self.name,
            path=self.path,
            final_url=None if remote is None else redact_url(remote.final_url),
            size=None if remote is None else remote.size,
            done=self.done_bytes,
            speed=self._meter.speed if not self.state.finished else 0.0,
            elapsed=self.ctx.clock() - self.started_at,
            active=self.active,
            waiting_for_host=self.waiting > 0 and self.active == 0,
            window=min(ctl.window, self.threads),
            max_window=self.threads,
            retries=self.retries,
            limit=ctl.limit,
            resumed_bytes=self.resumed_bytes,
            etag=None if remote is None else remote.etag,
            last_modified=None if remote is None else remote.last_modified,
            accepts_ranges=None if remote is None else remote.accepts_ranges,
            rate_limit=self.bucket.own_rate,
            checksum=self.checksum,
            folder=str(self.options.output_dir.absolute()),
            error=self.error,
            chunks=() if self.planner is None else self.planner.chunk_views(self._grid),
            history=tuple(self._history),
            events=events[-50:],
            mirrors=() if self.mirror_set is None else self.mirror_set.views(),
        )
