"""A lean HTTP/1.1 reader for range bodies: the kernel writes straight into our blocks.

httpx is the engine's HTTP client (redirects, proxies, cookies, auth). For the bulk of
a download, its per-read layers (anyio stream, h11 buffer, events) cost more CPU than
the bytes themselves (``bench/PROFILE.md``, "The raw range reader, and what stands in
the way of stream → ``openssl``"). Here an ``asyncio.BufferedProtocol``
hands the socket (or the TLS layer) a slice of a 1 MiB ``bytearray``; a range body
arrives with one Python call per read and reaches the sink without being copied or
re-chunked. Everything that decides whether bytes are right (status, Content-Range,
length, validator) stays in ``transfer``, shared with the httpx path.

``https://`` is read here too, with the engine's one TLS context (``engine/http/tls.py``):
the same trust roots, host-name check and versions as httpx, and the same one-line
errors (``error_map.network_error``). A connection is kept alive across ranges, so a
download pays one handshake per connection; TLS session resumption is not used
(asyncio's transports do not expose the session of a finished connection).

Only ``GET`` with a body delimited by Content-Length is read here; anything else
(chunked bodies, redirects) raises ``Unsupported`` and the download goes back to httpx,
as does every URL behind a proxy or with credentials (``RawPool.origin`` says why).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import NamedTuple, cast

import httpx

from hydra_tui.engine.http.error_map import lost_error, network_error
from hydra_tui.errors import NetworkError, Stalled

__all__ = [
    "MAX_HEAD",
    "Block",
    "Origin",
    "RawConnection",
    "RawPool",
    "build_request",
    "ignore_bytes",
    "parse_head",
    "raw_key",
    "wait_until",
]

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
#: what a body is read into: a bytearray, or a view of one placed for direct writes
#: (``engine/io/direct_io.aligned_block``)
Block = bytearray | memoryview
_IDLE_PER_HOST = 64


class Origin(NamedTuple):
    """Where a connection goes: idle connections are shared per origin."""

    host: str
    port: int
    tls: bool


def ignore_bytes(n: int) -> None:
    """The default ``on_bytes``: nobody is counting."""
    pass


def parse_head(head: bytes) -> tuple[str, int, str, list[tuple[bytes, bytes]]]:
    """``(version, status, reason, headers)`` of a response head (without the blank line).

    Raises ``ValueError`` on anything malformed: a liar's head is a failed attempt.
    """
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise ValueError(f"bad status line {lines[0][:80]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or b" " in name:
            raise ValueError(f"bad header line {line[:80]!r}")
        headers.append((name, value.strip(b" \t")))
    return version.decode(), int(code), reason.decode("latin-1"), headers


class RawConnection(asyncio.BufferedProtocol):
    """One keep-alive connection; reads one response at a time into a caller's block."""

    def __init__(self, key: Origin) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.lost: BaseException | None = None
        self.reusable = False
        # head
        self._head = bytearray(MAX_HEAD)
        self._head_fill = 0
        self._head_view = memoryview(self._head)
        self.head_done = False
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = httpx.Headers()
        self.content_length: int | None = None
        self.chunked = False
        #: requests sent on this connection (more than one: it was reused)
        self.requests = 0
        #: bytes received since the current request was sent
        self.answered = 0
        # body: bytes [0, fill) of ``block`` are here; ``seen`` of them were taken
        self.block: Block = bytearray()
        self._view = memoryview(self.block)
        self.fill = 0
        self.seen = 0
        self.body_left = 0
        self.body_done = False
        self.excess = False
        self.received = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        #: told of body bytes as they arrive (the AIMD controller's rate must not see
        #: them in block-sized lumps)
        self.on_bytes: Callable[[int], None] = ignore_bytes

    # -- protocol callbacks --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # not a TCP socket
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_buffer(self, sizehint: int) -> memoryview:
        if not self.head_done:
            if self._head_fill < MAX_HEAD:
                return self._head_view[self._head_fill :]
            return memoryview(bytearray(4096))  # over-long head: fails in buffer_updated
        end = min(len(self.block), self.fill + self.body_left)
        if end > self.fill:
            return self._view[self.fill : end]
        # bytes beyond the body (or while the caller swaps blocks): never ours
        self.excess = True
        return memoryview(bytearray(4096))

    def buffer_updated(self, nbytes: int) -> None:
        self.received += nbytes
        self.answered += nbytes
        if not self.head_done:
            self._head_fill += nbytes
            self._parse_head()
            return
        if self.excess:
            self._stop_reading()
            self._wake()
            return
        self.fill += nbytes
        self.body_left -= nbytes
        self.on_bytes(nbytes)
        if self.body_left == 0:
            self.body_done = True
            self._stop_reading()  # anything more is not ours; it stays in the kernel
            self._wake()
        elif self.fill >= len(self.block):
            self._stop_reading()
            self._wake()

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost reports it

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self.lost is None:  # keep the first reason (a malformed head, say)
            self.lost = exc or ConnectionError("the server closed the connection")
        self._wake()

    # -- helpers -------------------------------------------------------------------------
    def _parse_head(self) -> None:
        data = self._head_view[: self._head_fill].tobytes()
        while True:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if self._head_fill >= MAX_HEAD:
                    self._fail(NetworkError("response head too long"))
                return
            try:
                version, status, reason, headers = parse_head(data[:end])
            except ValueError as exc:
                self._fail(NetworkError(f"malformed response: {exc}"))
                return
            data = data[end + 4 :]
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer; the real head follows
            break
        self.version, self.status, self.reason = version, status, reason
        self.headers = httpx.Headers(headers)
        self.head_done = True
        self._head_fill = 0
        length = self.headers.get("content-length")
        self.content_length = int(length) if length is not None and length.isdigit() else None
        chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.chunked = chunked
        self.body_left = 0 if chunked or self.content_length is None else self.content_length
        self.body_done = self.body_left == 0 and not chunked and self.content_length == 0
        # body bytes that came with the head
        if data:
            take = min(len(data), self.body_left, len(self.block))
            self._view[:take] = data[:take]
            self.fill = take
            self.body_left -= take
            if take < len(data):
                self.excess = True
            if self.body_left == 0:
                self.body_done = True
        if self.body_done or self.fill >= len(self.block):
            self._stop_reading()
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        self.lost = exc
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _stop_reading(self) -> None:
        if not self._paused and self.transport is not None and not self.closed:
            self._paused = True
            self.transport.pause_reading()

    def _start_reading(self) -> None:
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            self.transport.resume_reading()

    # -- the caller's side ---------------------------------------------------------------
    def send(self, request: bytes, block: Block) -> None:
        """Start one request; its body will be read into ``block``."""
        assert self.transport is not None
        self.requests += 1
        self.answered = 0
        self.head_done = False
        self._head_fill = 0
        self.status = 0
        self.excess = False
        self.reusable = False
        self.body_done = False
        self.new_block(block)
        self._start_reading()
        self.transport.write(request)

    def new_block(self, block: Block) -> None:
        """Read on into ``block`` (the previous one belongs to the caller now)."""
        self.block = block
        self._view = memoryview(block)
        self.fill = 0
        self.seen = 0
        if not self.body_done and self.lost is None:
            self._start_reading()

    def pause(self) -> None:
        self._stop_reading()

    def resume(self) -> None:
        if self.fill < len(self.block) and not self.body_done:
            self._start_reading()

    async def wait(self, timeout: float) -> None:
        """Until something happens (head, full block, end of body, loss) or ``timeout``."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        handle = loop.call_later(timeout, self._wake)
        try:
            await waiter
        finally:
            handle.cancel()
            self._waiter = None

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()

    def finish(self) -> bool:
        """After a fully read body: may this connection carry another request?"""
        keep = (
            self.body_done
            and not self.excess
            and self.lost is None
            and not self.closed
            and self.version == "HTTP/1.1"
            and "close" not in self.headers.get("connection", "").lower()
        )
        self.reusable = keep
        if keep:
            self._stop_reading()
        return keep


class RawPool:
    """Idle keep-alive connections by origin; dials new ones as needed.

    ``tls`` gives the engine's TLS context (built on the first ``https://`` dial);
    ``proxied`` are the URL schemes the environment sends through a proxy, which only
    httpx speaks to.
    """

    def __init__(
        self,
        connect_timeout: float,
        *,
        tls: Callable[[], ssl.SSLContext] | None = None,
        proxied: frozenset[str] = frozenset(),
    ) -> None:
        self.connect_timeout = connect_timeout
        self._tls = tls
        self.proxied = proxied
        self._idle: dict[Origin, list[RawConnection]] = {}
        self.dialed = 0
        #: origins whose answers needed httpx (a redirect, a body without a length):
        #: their later probes go straight to httpx instead of asking twice
        self.declined: set[Origin] = set()
        #: probe buffers to reuse (their bytes are copied out): no allocation and
        #: zero-fill per probe
        self.spare_blocks: list[bytearray] = []
        self._told: set[tuple[str, str]] = set()

    def origin(self, url: httpx.URL) -> Origin | None:
        """Where to dial for ``url`` on the lean reader, or ``None`` (logged once per
        origin and reason) when httpx must fetch it."""
        key = raw_key(url)
        why = ""
        if key is None:
            why = "not a plain http(s) URL without credentials"
        elif url.scheme in self.proxied:
            why = f"{url.scheme} goes through a proxy from the environment"
            key = None
        elif key.tls and self._tls is None:
            why = "no TLS context"
            key = None
        elif key in self.declined:
            return None  # told when it was declined
        if key is None:
            self.tell(f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}", why)
        return key

    def tell(self, where: str, why: str) -> None:
        """Log once per ``(where, why)`` that httpx fetches instead of the lean reader."""
        if (where, why) not in self._told:
            self._told.add((where, why))
            log.info("%s: httpx instead of the lean reader: %s", where, why)

    def take_idle(self, key: Origin) -> RawConnection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    async def dial(self, key: Origin) -> RawConnection:
        loop = asyncio.get_running_loop()
        host, port, tls = key
        context = self._tls() if tls and self._tls is not None else None
        timeout = self.connect_timeout
        try:
            # over TLS: ``timeout`` for the TCP connect, and as much for the handshake.
            # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` returns
            # the connection and drops a cancel that arrives as the connect completes, so
            # a cancelled range worker went on (and a stream whose reader hung up early
            # waited forever for its workers to end)
            async with asyncio.timeout(timeout if context is None else 2 * timeout):
                _, proto = await loop.create_connection(
                    lambda: RawConnection(key),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                    ssl_handshake_timeout=timeout if context is not None else None,
                )
        except OSError as exc:  # TimeoutError, ssl.SSLError, gaierror among them
            raise network_error(exc, host, tls=context is not None) from exc
        self.dialed += 1
        return proto

    async def open(
        self, key: Origin, request: bytes, block: Block, *, stall: float
    ) -> RawConnection:
        """Send ``request`` on an idle or a new connection; return it once the head of
        its answer is in (the body goes into ``block``). An idle connection the server
        closed as we sent is redialled once, silently: that is not a failed attempt."""
        conn = self.take_idle(key) or await self.dial(key)
        for attempt in range(2):
            if await _send(conn, request, block, stall):
                return conn
            conn.close()
            if attempt == 0 and conn.requests > 1 and conn.answered == 0:
                conn = await self.dial(key)
                continue
            break
        raise lost_error(conn.lost, head_done=conn.head_done)

    def give_back(self, conn: RawConnection) -> None:
        if conn.reusable and not conn.closed:
            idle = self._idle.setdefault(conn.key, [])
            if len(idle) < _IDLE_PER_HOST:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


def raw_key(url: httpx.URL) -> Origin | None:
    """The origin to dial for ``url`` if the raw reader may fetch it: http or https, no
    credentials in the URL, a valid host name; ``None`` sends it to httpx."""
    if url.scheme not in ("http", "https") or url.userinfo:
        return None
    try:
        url.host  # noqa: B018 - IDNA-decodes: a bad name is httpx's to report as bad URL
    except (UnicodeError, ValueError):
        return None
    host = url.raw_host.decode("ascii")  # punycode: what DNS is asked
    tls = url.scheme == "https"
    return Origin(host, url.port or (443 if tls else 80), tls) if host else None


def build_request(url: httpx.URL, headers: Iterable[tuple[str, str]]) -> bytes:
    """The bytes of ``GET url``; refuses header names or values that could split it."""
    lines = [b"GET " + url.raw_path + b" HTTP/1.1", b"Host: " + url.netloc]
    for name, value in headers:
        if name.lower() == "host":
            continue
        if any(c in name + value for c in "\r\n\0") or ":" in name:
            raise NetworkError(f"refusing a header that would split the request: {name!r}")
        lines.append(f"{name}: {value}".encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def _send(conn: RawConnection, request: bytes, block: Block, stall: float) -> bool:
    """Send and wait for the answer's head; False if the connection ended first."""
    try:
        conn.send(request, block)
        await wait_until(conn, lambda c: c.head_done, stall)
    except BaseException:
        conn.close()
        raise
    return conn.head_done


#: how often ``wait_until`` looks at a partly filled block when it reports progress
PROGRESS_TICK = 0.25


async def wait_until(
    conn: RawConnection,
    done: Callable[[RawConnection], bool],
    stall: float,
    progress: Callable[[RawConnection], None] | None = None,
) -> None:
    """Wait until ``done(conn)`` or the connection is lost; ``stall`` seconds without a
    byte is a ``NetworkError``. With ``progress``, look every ``PROGRESS_TICK`` seconds
    and call ``progress(conn)`` when bytes arrived (a block fills only at its end)."""
    loop = asyncio.get_running_loop()
    seen, since = conn.received, loop.time()
    while not done(conn) and conn.lost is None and not conn.closed:
        left = since + stall - loop.time()
        if left <= 0:
            raise Stalled("stalled: no data within the stall timeout")
        await conn.wait(left if progress is None else min(left, PROGRESS_TICK))
        if conn.received != seen:
            seen, since = conn.received, loop.time()
            if progress is not None:
                progress(conn)
