"""Writing a decided response: the head, then the body paced, cut, stalled or sendfile'd.

A body goes out with ``loop.sendfile`` (zero-copy) when it is a file, the socket is plain
TCP and nothing needs to touch the bytes; otherwise in slices, each waiting for its turn
on the connection's pacer and the resource's shared link.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

from hydra_tui.devserver.http import Request, http_date, response_head
from hydra_tui.devserver.plan import BodyPlan, Plan
from hydra_tui.devserver.resources import Resource
from hydra_tui.devserver.throttle import Pacer, slice_size

__all__ = ["SERVER", "send_response"]

SERVER = "hydra-devserver"


async def send_response(
    plan: Plan,
    request: Request,
    resource: Resource | None,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    sendfile_ok: bool,
) -> bool:
    """Write ``plan``; return whether the connection can serve another request."""
    keep_alive = request.keep_alive and not plan.close
    fields = [*plan.fields, ("Date", http_date(time.time())), ("Server", SERVER)]
    if not keep_alive:
        fields.append(("Connection", "close"))
    elif request.version == "HTTP/1.0":
        fields.append(("Connection", "keep-alive"))
    if plan.latency:
        await asyncio.sleep(plan.latency)
    writer.write(response_head(plan.status, fields))
    if request.method == "HEAD" or plan.body is None or resource is None:
        if request.method != "HEAD":
            writer.write(plan.page)
        await writer.drain()
        return keep_alive
    finished = await _send_body(plan.body, resource, reader, writer, sendfile_ok=sendfile_ok)
    return keep_alive and finished


async def _send_body(
    body: BodyPlan,
    resource: Resource,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    sendfile_ok: bool,
) -> bool:
    """Send the body or its fault; return whether it ended as HTTP says it should."""
    plain = not (body.abort or body.rate or body.link or body.pad or body.chunked or body.flip)
    if plain and sendfile_ok and body.content.path is not None and body.length > 0:
        with body.content.open_file() as file:
            loop = asyncio.get_running_loop()
            sent = await loop.sendfile(writer.transport, file, body.offset, body.length)
        resource.stats.bytes_sent += sent
        resource.stats.completed_bodies += sent == body.length
        return sent == body.length
    limit = body.abort_at if body.abort else body.total
    rates = [rate for rate in (body.rate, body.link.rate if body.link else 0) if rate]
    step = slice_size(min(rates, default=0))
    pacer = Pacer(body.rate) if body.rate else None
    sent = 0
    while sent < limit:
        n = min(step, limit - sent)
        if pacer is not None and (delay := pacer.delay(n)) > 0:
            await asyncio.sleep(delay)
        if body.link is not None and (delay := body.link.reserve(n)) > 0:
            await asyncio.sleep(delay)
        data = _body_bytes(body, sent, n)
        if body.chunked:
            writer.writelines((b"%x\r\n" % n, data, b"\r\n"))
        else:
            writer.write(data)
        resource.stats.bytes_sent += n
        sent += n
        await writer.drain()
    if body.abort == "reset":
        _reset(writer)
        return False
    if body.abort == "truncate":
        writer.close()  # FIN once the buffered bytes are out
        return False
    if body.abort == "stall":
        while await reader.read(64 * 1024):  # silent until the client hangs up
            pass
        return False
    if body.chunked:
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    resource.stats.completed_bodies += 1
    return True


def _body_bytes(body: BodyPlan, start: int, n: int) -> bytes | memoryview:
    """Body bytes ``start .. start+n``: content, then zero padding past ``body.length``."""
    real = max(0, min(n, body.length - start))
    data = body.content.read(body.offset + start, real) if real else b""
    if body.flip:
        data = bytes(data).translate(_FLIP)
    if real < n:
        return bytes(data) + bytes(n - real)
    return data


_FLIP = bytes(b ^ 0x01 for b in range(256))


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort with a TCP RST: SO_LINGER 0, then close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
