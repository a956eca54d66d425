"""Small real-socket HTTP helpers for the devserver tests (no mocks: loopback only)."""

from __future__ import annotations

import http.client
import random
import socket
from dataclasses import dataclass
from email.message import Message

from hydra_tui.devserver import DevServer

DATA = random.Random(1).randbytes(100_000)


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes


def fetch(
    srv: DevServer,
    target: str = "/data.bin",
    headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    timeout: float = 5.0,
) -> Reply:
    """One request on a fresh connection; the whole body read. ``target`` may be a full URL."""
    if target.startswith(srv.base_url):
        target = target.removeprefix(srv.base_url)
    conn = connect(srv, timeout)
    try:
        conn.request(method, target, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def connect(srv: DevServer, timeout: float = 5.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)


def raw_exchange(srv: DevServer, request: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split_response(raw: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """Status line, lower-cased header fields and everything after the head."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return lines[0].encode(), fields, rest
