"""What downloads share inside one process-local engine: the HTTP client, the per-host
AIMD gates, the resume store, the clock and random source.

Each ``HydraClient`` (and the CLI, and the TUI's manager) owns one ``EngineContext``;
there is no module-level state, so several can live in one process.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from hydra_tui.engine.http.rawhttp import RawPool
from hydra_tui.engine.http.redirects import check_redirect, resend_cookie
from hydra_tui.engine.http.tls import client_context
from hydra_tui.engine.http.urls import redact_url
from hydra_tui.engine.io.partfile import ClaimedNames
from hydra_tui.engine.io.resume import ResumeStore
from hydra_tui.engine.options import DownloadOptions, default_user_agent
from hydra_tui.engine.plan.aimd import AimdController, HostGate
from hydra_tui.engine.plan.ratelimit import TokenBucket

__all__ = ["EngineContext", "default_state_dir"]

log = logging.getLogger(__name__)

READ_BYTES = 1048576


def default_state_dir() -> Path:
    """Where the resume store lives (platformdirs user state dir for ``hydra-tui``)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("hydra-tui", appauthor=False))


class EngineContext:
    """Shared engine resources; use as ``async with EngineContext(...) as ctx``."""

    def __init__(
        self,
        options: DownloadOptions,
        *,
        max_connections: int = 64,
        state_dir: Path | None = None,
        resume: bool = True,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = options
        self.clock = clock
        self.rng = rng or random.Random()
        self.state_dir = state_dir or default_state_dir()
        self.store: ResumeStore | None = None
        if resume:
            self.store = _open_store(self.state_dir / "resume.sqlite3")
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hydra-io")
        #: final names this engine is downloading to (two URLs, one name: ``NAME.1.ext``)
        self.claimed_names = ClaimedNames()
        agent = options.user_agent or default_user_agent()
        #: what every request sends (httpx's defaults with ours on top); the raw reader
        #: reads it from here so that a plain-http run never has to build the client
        self.default_headers = httpx.Headers(
            {
                "Accept": "*/*",
                "Accept-Encoding": "identity",
                "Connection": "keep-alive",
                "User-Agent": agent,
            }
        )
        self._max_connections = max_connections
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._ssl: ssl.SSLContext | None = None
        self._gates: dict[str, HostGate] = {}
        #: keep-alive connections of the raw range reader; None when requests must go
        #: through httpx (an injected transport); URLs of a scheme the environment
        #: proxies go through httpx too
        self.raw_pool: RawPool | None = None
        if transport is None and not options.proxy and not options.log_requests:
            self.raw_pool = RawPool(
                options.connect_timeout, tls=self.ssl_context, proxied=_env_proxied()
            )
        #: ``--limit-rate-total``: every download's bucket takes from this one too
        self.total_bucket: TokenBucket | None = None
        if options.limit_rate_total:
            self.total_bucket = TokenBucket(options.limit_rate_total, clock=clock)
        _larger_reads()

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context of both HTTP paths, built on first use (loading the trust
        roots costs tens of ms that a plain-http download never needs)."""
        if self._ssl is None:
            self._ssl = client_context(verify=self.options.verify_tls, ca_file=self.options.ca_file)
        return self._ssl

    @property
    def client(self) -> httpx.AsyncClient:
        """The httpx client, built on first use: building it (transports, an SSL context)
        costs start-up time that a plain-http download on the raw reader never needs
        (bench/PROFILE.md, "Figures moved out of code comments")."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    @property
    def has_cookies(self) -> bool:
        """Has any answer set a cookie (so every request must go through httpx)?"""
        return self._client is not None and bool(self._client.cookies)

    def _make_client(self) -> httpx.AsyncClient:
        options = self.options
        return httpx.AsyncClient(
            http2=False,
            verify=self.ssl_context(),
            follow_redirects=True,
            max_redirects=10,
            trust_env=True,
            headers=self.default_headers,
            limits=httpx.Limits(
                max_connections=self._max_connections,
                max_keepalive_connections=self._max_connections,
                keepalive_expiry=30.0,
            ),
            timeout=httpx.Timeout(
                connect=options.connect_timeout,
                read=options.stall_timeout,
                write=options.stall_timeout,
                pool=None,
            ),
            transport=self._transport,
            proxy=options.proxy,
            event_hooks=_event_hooks(options.log_requests),
        )

    async def __aenter__(self) -> EngineContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self.raw_pool is not None:
            self.raw_pool.close()
        if self._client is not None:
            await self._client.aclose()
        self.executor.shutdown(wait=True)
        if self.store is not None:
            self.store.close()

    def proxy_for(self, url: str) -> str | None:
        """The proxy (password redacted) a request to ``url`` goes through, if any:
        ``--proxy``, else the environment's as httpx reads it (``trust_env``); None with
        an own transport."""
        if self._transport is not None:
            return None
        if self.options.proxy:  # --proxy: every request, whatever the environment says
            return redact_url(self.options.proxy)
        import urllib.request

        scheme, _, rest = url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        if urllib.request.proxy_bypass(host.split(":")[0] if "]" not in host else host):
            return None
        proxies = urllib.request.getproxies()
        proxy = proxies.get(scheme.lower()) or proxies.get("all")
        return None if not proxy else redact_url(proxy)

    def gate_for(self, url: str, options: DownloadOptions) -> HostGate:
        """The AIMD gate of ``url``'s host, shared by every download to that host."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        gate = self._gates.get(key)
        if gate is None:
            controller = AimdController(
                ceiling=options.threads,
                auto=options.auto_threads,
                clock=self.clock,
                rng=self.rng,
                backoff_base=options.backoff_base,
                backoff_max=options.backoff_max,
            )
            gate = HostGate(controller)
            self._gates[key] = gate
        return gate


def request_log_hooks() -> dict[str, list[Callable[..., Any]]]:
    """httpx hooks that log each request (with its Range) and each answer's status (``-v``)."""
    wire = logging.getLogger("hydra_tui.wire")

    async def on_request(request: httpx.Request) -> None:
        span = request.headers.get("range")
        wire.info("> %s %s%s", request.method, request.url, f" ({span})" if span else "")

    async def on_response(response: httpx.Response) -> None:
        span = response.headers.get("content-range")
        wire.info(
            "< %d %s %s%s", response.status_code, response.reason_phrase, response.url,
            f" ({span})" if span else "",
        )  # fmt: skip

    return {"request": [on_request], "response": [on_response]}


def _event_hooks(log_requests: bool) -> dict[str, list[Callable[..., Any]]]:
    """Every client's redirect and cookie rules, behind ``-v``'s request log if asked."""
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": []}
    if log_requests:
        for kind, fns in request_log_hooks().items():
            hooks[kind].extend(fns)
    hooks["request"].append(resend_cookie)
    hooks["response"].append(check_redirect)
    return hooks


def _open_store(path: Path) -> ResumeStore | None:
    """The resume store, or None (one warning) when its folder or file cannot be used: a
    read-only home must not stop a download, it only costs the ability to resume."""
    import sqlite3

    try:
        return ResumeStore(path)
    except (OSError, sqlite3.Error) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        log.warning("cannot use the resume store in %s (%s); downloads will not resume",
                    path.parent, why)  # fmt: skip
        return None


def _env_proxied() -> frozenset[str]:
    """The URL schemes the environment names a proxy for (httpx honours them; the lean
    reader does not speak to proxies). ``NO_PROXY`` is not weighed: a host it exempts
    merely takes the slower path."""
    import urllib.request

    proxies = urllib.request.getproxies()
    if proxies.get("all"):
        return frozenset({"http", "https"})
    return frozenset(s for s in ("http", "https") if proxies.get(s))


def _larger_reads() -> None:
    """Read up to 1 MiB per socket read instead of httpcore's 64 KiB.

    Per-read overhead (timeouts, events, buffers) dominates the CPU cost of a fast
    download, so fewer, larger reads mean more throughput (bench/PROFILE.md, "Figures
    moved out of code comments"). This only changes how much one read may return,
    never what the bytes are.
    """
    try:
        from httpcore._async.http11 import AsyncHTTP11Connection
    except ImportError:  # pragma: no cover - a future httpcore
        return
    if getattr(AsyncHTTP11Connection, "READ_NUM_BYTES", 0) < READ_BYTES:
        AsyncHTTP11Connection.READ_NUM_BYTES = READ_BYTES
