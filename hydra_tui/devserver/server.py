"""``DevServer``: a loopback HTTP/1.1 server in a background thread with its own event loop.

Tests, the demo and the benchmarks drive it from ordinary threads. All its state lives on
the loop thread; the public methods run their work there and return copies, so no lock
is needed and a request never sees half an update.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import math
import os
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from hydra_tui.devserver.content import (
    BytesContent,
    Content,
    FileContent,
    GeneratedContent,
    Generator,
    synthetic_content,
)
from hydra_tui.devserver.faults import Faults
from hydra_tui.devserver.http import BadRequest, Headers, Request, read_request
from hydra_tui.devserver.plan import Plan, plan_page, plan_response
from hydra_tui.devserver.resources import RecordedRequest, Resource, ResourceStats
from hydra_tui.devserver.send import send_response

__all__ = ["DevServer"]

T = TypeVar("T")
_log = logging.getLogger(__name__)
#: recorded requests kept (oldest dropped first), so a long benchmark does not grow forever
MAX_RECORDED = 100_000
_STOP_TIMEOUT = 10.0
#: the Last-Modified of what this process serves (an hour back: never in the future)
_ADDED_AT = int(time.time()) - 3600
# the ways a client can go away mid-response; the server shrugs and closes the socket
_GONE = (ConnectionError, asyncio.IncompleteReadError, BadRequest, ssl.SSLError, OSError)


class DevServer:
    """A loopback HTTP/1.1 server whose resources throttle and misbehave on request.

    ``with DevServer() as srv: url = srv.add("data.bin", data, Faults(rate=4 << 20))``
    """

    def __init__(
        self, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.ssl_context = ssl_context
        self.host = host
        self._port = port
        self._resources: dict[str, Resource] = {}
        self._requests: deque[RecordedRequest] = deque(maxlen=MAX_RECORDED)
        self._connection_ids = itertools.count(1)
        self._open: dict[int, tuple[asyncio.Task[None], asyncio.StreamWriter]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._errors: list[Exception] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> DevServer:
        """Start serving in a background thread; return once the port is listening."""
        if self._thread is not None:
            raise RuntimeError("DevServer already started")
        self._thread = threading.Thread(target=self._run, name="hydra-devserver", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error
        return self

    @property
    def errors(self) -> list[Exception]:
        """Exceptions that escaped request handling: bugs in the server, never client faults."""
        return list(self._errors)

    def stop(self) -> None:
        """Close every connection (stalled ones too) and the listener; join the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(stopping.set)
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError("DevServer thread did not stop")

    def __enter__(self) -> DevServer:
        """Start unless already started (``with start_demo_server() as srv`` works too)."""
        return self if self._thread is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop; then, if the block went well, fail loudly on any server bug seen meanwhile."""
        self.stop()
        if exc is None and self._errors:
            raise RuntimeError(f"DevServer failed while serving: {self._errors[0]!r}")

    @property
    def port(self) -> int:
        """The listening port (chosen by the system when 0 was asked for)."""
        if not self._started.is_set() or self._start_error is not None:
            raise RuntimeError("DevServer is not running")
        return self._port

    @property
    def scheme(self) -> str:
        """``https`` with an SSL context, else ``http``."""
        return "https" if self.ssl_context is not None else "http"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"{self.scheme}://{_url_host(self.host)}:{self.port}"

    def url(self, name: str, **query: object) -> str:
        """URL of ``name``; keyword arguments become fault overrides in the query."""
        return f"{self.base_url}/{quote(name)}{_query(query)}"

    def sign_url(self, name: str, *, text: bool = False) -> str:
        """The entry URL of a ``signed_uses`` resource: it redirects to a freshly signed
        URL (``text``: answers with that URL as text)."""
        return f"{self.base_url}/sign/{quote(name)}" + ("?text=1" if text else "")

    def expire_signatures(self, name: str) -> None:
        """Every signature issued so far for ``name`` stops working (as by time)."""

        def expire() -> None:  # on the server's thread, like every change
            self._resource(name).signatures.clear()

        self._call(expire)

    def alt_url(self, name: str, **query: object) -> str:
        """The same resource under host ``localhost``: another host, for cross-host redirects."""
        return f"{self.scheme}://localhost:{self.port}/{quote(name)}{_query(query)}"

    # -- resources ---------------------------------------------------------------------------

    def add(self, name: str, data: bytes, faults: Faults | None = None) -> str:
        """Serve ``data`` from memory as ``name``; return its URL."""
        return self._add(name, BytesContent(data), faults)

    def add_file(
        self, name: str, path: str | os.PathLike[str], faults: Faults | None = None
    ) -> str:
        """Serve a file from disk (with sendfile when no fault needs its bytes); return its URL."""
        return self._add(name, FileContent(path), faults)

    def add_synthetic(
        self,
        name: str,
        size: int,
        seed: int = 0,
        faults: Faults | None = None,
        *,
        last_modified: int | None = None,
    ) -> str:
        """Serve ``synthetic_bytes(seed, size)``, generated on the fly; return its URL.

        ``last_modified`` (Unix seconds) fixes the Last-Modified date, so that a server
        started again serves the very same version (the demo resumes across runs).
        """
        return self._add(name, synthetic_content(seed, size), faults, last_modified)

    def add_generated(
        self,
        name: str,
        size: int,
        generate: Generator,
        faults: Faults | None = None,
        *,
        identity: bytes | None = None,
    ) -> str:
        """Serve bytes made by a deterministic ``generate(offset, length)``; return its URL.

        ``identity`` feeds the ETag: give equal identities only to equal contents.
        """
        ident = identity if identity is not None else f"generated:{name}:{size}".encode()
        return self._add(name, GeneratedContent(size, generate, ident), faults)

    def _add(
        self, name: str, content: Content, faults: Faults | None, fixed: int | None = None
    ) -> str:
        try:
            url = self.url(name)  # fails before anything is added if the server is not running
        except RuntimeError:
            content.close()
            raise
        # one date for every resource this process adds: two servers given the same
        # bytes agree on Last-Modified (mirrors), whichever second each was added in
        last_modified = _ADDED_AT
        if isinstance(content, FileContent):
            last_modified = min(content.mtime, last_modified)
        if fixed is not None:
            last_modified = fixed

        def add() -> None:
            old = self._resources.pop(name, None)
            date = last_modified
            if old is not None:
                old.close()
                if fixed is None:  # a name added again is a newer version
                    date = max(date, old.version.last_modified + 1)
            self._resources[name] = Resource(name, content, faults or Faults(), date)

        self._call(add)
        return url

    def set_content(self, name: str, data: bytes) -> None:
        """New bytes for ``name`` with a new ETag and a later Last-Modified."""
        content = BytesContent(data)
        self._call(lambda: self._resource(name).replace(content))

    def set_faults(self, name: str, faults: Faults) -> None:
        """New faults for ``name``; its fault schedule starts again (request 1, body 1)."""
        self._call(lambda: self._resource(name).set_faults(faults))

    def remove(self, name: str) -> None:
        """Stop serving ``name`` (later requests get 404)."""
        self._call(lambda: self._resources.pop(name).close())

    def names(self) -> list[str]:
        """Names served, in the order they were added."""
        return self._call(lambda: list(self._resources))

    def content(self, name: str) -> bytes:
        """The current bytes of ``name`` (after ``set_content`` or a ``change_after`` switch)."""
        return self._call(lambda: self._resource(name).version.content).all_bytes()

    def etag(self, name: str) -> str:
        """The current strong ETag of ``name``, quotes included."""
        return self._call(lambda: self._resource(name).version.etag)

    def stats(self, name: str) -> ResourceStats:
        """A snapshot of what happened to ``name``."""
        return self._call(lambda: self._resource(name).snapshot())

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, oldest first (unknown names and bad queries included)."""
        return self._call(lambda: list(self._requests))

    @property
    def open_connections(self) -> int:
        """Connections currently open."""
        return self._call(lambda: len(self._open))

    def reset_stats(self) -> None:
        """Forget recorded requests and zero every resource's statistics."""

        def reset() -> None:
            self._requests.clear()
            for resource in self._resources.values():
                resource.reset_stats()

        self._call(reset)

    def _resource(self, name: str) -> Resource:
        try:
            return self._resources[name]
        except KeyError:
            raise KeyError(f"no resource named {name!r}") from None

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the loop thread (or here when the loop is not running) and return."""
        loop = self._loop
        if loop is None or not loop.is_running() or threading.current_thread() is self._thread:
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the calling thread, which re-raises it
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(_STOP_TIMEOUT)

    # -- the loop thread ---------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), which re-raises it
            self._start_error = exc
            self._started.set()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            for resource in self._resources.values():
                resource.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(
            self._connection, self.host, self._port, ssl=self.ssl_context, backlog=1024
        )
        self._port = server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            open_now = list(self._open.values())
            for task, writer in open_now:
                writer.transport.abort()
                task.cancel()
            await asyncio.gather(*(task for task, _ in open_now), return_exceptions=True)
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve requests on one connection until either side closes it."""
        connection = next(self._connection_ids)
        task = asyncio.current_task()
        assert task is not None
        self._open[connection] = (task, writer)
        try:
            while True:
                try:
                    request = await read_request(reader)
                except BadRequest as exc:
                    bad = Request("GET", "", "", "", "HTTP/1.1", Headers())
                    plan = plan_page(400, f"{exc}\n")
                    plan.close = True
                    await send_response(plan, bad, None, reader, writer, sendfile_ok=False)
                    break
                if request is None or not await self._respond(connection, request, reader, writer):
                    break
        except _GONE:
            pass  # the client hung up or broke the protocol: nothing to answer
        except Exception as exc:  # a bug in the server: kept for ``errors`` and logged
            self._errors.append(exc)
            _log.exception("devserver connection %d failed", connection)
        except asyncio.CancelledError:
            # stop() cancels us; ending normally spares 3.11's stream callback a traceback
            if self._stopping is None or not self._stopping.is_set():
                raise
        finally:
            del self._open[connection]
            writer.close()

    async def _respond(
        self,
        connection: int,
        request: Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request; return whether the connection lives on."""
        received = time.monotonic()
        resource = self._resources.get(request.path.removeprefix("/"))
        plan: Plan
        signer = self._resources.get(request.path.removeprefix("/sign/"))
        if resource is None and request.path.startswith("/sign/") and signer is not None:
            resource, plan = None, _sign(signer, request.query, self.base_url)
        elif request.method not in ("GET", "HEAD"):
            plan = plan_page(405, "only GET and HEAD\n", [("Allow", "GET, HEAD")])
            plan.close = True
        elif resource is None:
            plan = plan_page(404, f"no such resource: {request.path}\n")
        else:
            try:
                faults = resource.faults.with_query(request.query)
            except ValueError as exc:
                plan = plan_page(400, f"{exc}\n")
            else:
                plan = plan_response(resource, request, faults, connection)
        self._requests.append(
            RecordedRequest(
                request.method,
                request.target,
                request.path,
                request.query,
                request.headers,
                received,
                connection,
                plan.status,
            )
        )
        try:
            return await send_response(
                plan,
                request,
                resource,
                reader,
                writer,
                sendfile_ok=self.ssl_context is None,
            )
        finally:
            if plan.claimed and resource is not None:
                resource.end_body()


def _sign(resource: Resource, query: str, base: str) -> Plan:
    """Issue a signature for ``resource`` (``Faults.signed_uses``): a redirect to the
    signed URL, or (``?text=1``) that URL as a line of text, for a ``--url-cmd``."""
    faults = resource.faults
    if not (faults.signed_uses or faults.signed_for):
        return plan_page(404, f"{resource.name} needs no signature\n")
    sig = secrets.token_hex(8)
    until = time.monotonic() + faults.signed_for if faults.signed_for else math.inf
    resource.signatures[sig] = (faults.signed_uses or -1, until)
    target = f"{base}/{quote(resource.name)}?sig={sig}"
    if "text" in dict(parse_qsl(query)):
        return plan_page(200, f"{target}\n")
    return plan_page(302, f"See {target}\n", [("Location", target)])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _query(query: dict[str, object]) -> str:
    if not query:
        return ""
    pairs = [(k, int(v) if isinstance(v, bool) else v) for k, v in query.items()]
    return "?" + urlencode(pairs)
