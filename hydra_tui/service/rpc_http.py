"""aria2's JSON-RPC over HTTP: ``POST /jsonrpc`` on 127.0.0.1 (every interface only with
``--rpc-listen-all``), served by the service's own event loop with the standard library.

Defensive by construction: a request head over 16 KiB or a body over 2 MiB is refused
(413, with a JSON-RPC error), a client gets 30 s to send its request, and anything that
is not a well-formed JSON-RPC call is answered with a JSON-RPC error (parse error
-32700, invalid request -32600, no such method -32601, invalid params -32602), never a
crash. Answers carry ``Access-Control-Allow-Origin: *`` as aria2's do, for web UIs such
as AriaNg: the secret, not the origin, is what keeps other pages out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from typing import TYPE_CHECKING, Any

from hydra_tui.errors import HydraError, RpcRefused
from hydra_tui.service import paths
from hydra_tui.service.aria2 import Aria2Rpc
from hydra_tui.service.websocket import Notifier, serve_websocket

if TYPE_CHECKING:
    from hydra_tui.engine.backends.manager import DownloadManager

__all__ = ["MAX_BODY", "MAX_HEAD", "PORT_FILE", "answer_body", "serve_rpc"]

log = logging.getLogger(__name__)
MAX_HEAD = 16 * 1024
MAX_BODY = 2 * 1024 * 1024
#: seconds a client has to send a whole request
_READ_TIMEOUT = 30.0
#: most bytes of a refused body read (and dropped) so that the client sees the answer
_MAX_DISCARD = 64 * 1024 * 1024
#: the file in the runtime folder that says which port the RPC took (``--rpc-listen-port 0``)
PORT_FILE = "rpc.port"
_REASONS = {200: "OK", 204: "No Content", 404: "Not Found", 405: "Method Not Allowed",
            400: "Bad Request", 411: "Length Required", 413: "Payload Too Large"}  # fmt: skip


async def serve_rpc(manager: DownloadManager, *, host: str, port: int, secret: str | None) -> None:
    """Serve until cancelled; ``HydraError`` if the port cannot be had."""
    rpc = Aria2Rpc(manager, secret=secret)
    notifier = Notifier(manager)
    try:
        server = await asyncio.start_server(
            functools.partial(_connection, rpc, notifier), host, port, limit=MAX_HEAD
        )
    except OSError as exc:
        raise HydraError(f"cannot serve the RPC on {host}:{port}: {exc.strerror}") from exc
    bound = server.sockets[0].getsockname()[1]
    port_file = paths.runtime_dir() / PORT_FILE
    port_file.write_text(f"{bound}\n", encoding="ascii")
    log.info("aria2 JSON-RPC on http://%s:%d/jsonrpc", host, bound)
    notifying = asyncio.create_task(notifier.run())
    try:
        async with server:
            await server.serve_forever()
    finally:
        notifying.cancel()
        with contextlib.suppress(OSError):
            port_file.unlink()


def _error(code: int, message: str, id: object = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}


def _one(rpc: Aria2Rpc, request: object) -> dict[str, Any]:
    if not isinstance(request, dict):
        return _error(-32600, "Invalid Request")
    id = request.get("id")
    method, params = request.get("method"), request.get("params", [])
    if not isinstance(method, str) or not isinstance(params, list):
        return _error(-32600, "Invalid Request", id)
    try:
        return {"jsonrpc": "2.0", "id": id, "result": rpc.call(method, params)}
    except RpcRefused as exc:
        return _error(exc.rpc_code, str(exc), id)
    except Exception:  # a bug in one call must not take the service down
        log.exception("RPC %s failed", method)
        return _error(-32603, "Internal error", id)


def answer_body(rpc: Aria2Rpc, body: bytes) -> bytes:
    """The JSON answer to one POSTed body (a call, or a batch of calls)."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return json.dumps(_error(-32700, "Parse error")).encode()
    if isinstance(request, list):
        if not request:
            return json.dumps(_error(-32600, "Invalid Request")).encode()
        return json.dumps([_one(rpc, r) for r in request]).encode()
    return json.dumps(_one(rpc, request)).encode()


async def _connection(
    rpc: Aria2Rpc,
    notifier: Notifier,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    try:
        while await _exchange(rpc, notifier, reader, writer):
            pass
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _exchange(
    rpc: Aria2Rpc,
    notifier: Notifier,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> bool:
    """Read one request and answer it; whether the connection may carry another."""
    async with asyncio.timeout(_READ_TIMEOUT):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            await _send(writer, 413, _error(-32600, "request head too large"))
            return False
        except asyncio.IncompleteReadError:
            return False
        request_line, *lines = head.decode("latin-1").split("\r\n")
        parts = request_line.split(" ")
        headers = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if len(parts) != 3:
            await _send(writer, 400, _error(-32600, "not an HTTP request"))
            return False
        verb, target = parts[0], parts[1].split("?")[0]
        if target != "/jsonrpc":
            await _send(writer, 404, _error(-32600, "the RPC is at /jsonrpc"))
            return False
        if verb == "OPTIONS":  # a browser's CORS preflight
            await _send(writer, 204, None)
            return True
        body: bytes | None = b""
        key = headers.get("sec-websocket-key", "")
        upgrade = verb == "GET" and headers.get("upgrade", "").lower() == "websocket" and key
        if not upgrade:
            body = await _read_body(verb, headers, reader, writer)
            if body is None:
                return False
    if upgrade:  # outside the request's time limit: the socket stays open
        await serve_websocket(
            reader,
            writer,
            key,
            answer=functools.partial(answer_body, rpc),
            notifier=notifier,
            max_frame=MAX_BODY,
        )
        return False
    await _send(writer, 200, answer_body(rpc, body or b""))
    return headers.get("connection", "").lower() != "close"


async def _read_body(
    verb: str, headers: dict[str, str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bytes | None:
    """A POST's body, or ``None`` once the refusal is sent."""
    if verb != "POST":
        await _send(writer, 405, _error(-32600, "POST a JSON-RPC request to /jsonrpc"))
        return None
    length_text = headers.get("content-length")
    if length_text is None or not length_text.isdigit():
        await _send(writer, 411, _error(-32600, "a Content-Length is required"))
        return None
    length = int(length_text)
    if length > MAX_BODY:
        await _send(writer, 413, _error(-32600, f"request larger than {MAX_BODY} bytes"))
        await _discard(reader, min(length, _MAX_DISCARD))  # no reset under the answer
        return None
    return await reader.readexactly(length)


async def _discard(reader: asyncio.StreamReader, length: int) -> None:
    while length > 0:
        part = await reader.read(min(length, 65536))
        if not part:
            return
        length -= len(part)


async def _send(
    writer: asyncio.StreamWriter, status: int, body: bytes | dict[str, Any] | None
) -> None:
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "Content-Type: application/json-rpc\r\n"
        f"Content-Length: {len(data)}\r\n"
        "Access-Control-Allow-Origin: *\r\n"
        "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
        "Access-Control-Allow-Headers: Content-Type\r\n"
        "\r\n"
    )
    writer.write(head.encode("latin-1") + data)
    await writer.drain()
