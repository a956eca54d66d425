"""A loopback ``CONNECT`` proxy: proves which downloads go through a proxy.

The lean reader does not speak to proxies, so a URL behind one must go through httpx,
which tunnels TLS with ``CONNECT host:port`` and verifies the server's certificate end
to end. The proxy counts the tunnels it opened; it relays bytes only and never sees
them in clear. It refuses any target that is not on 127.0.0.1 or localhost.

::

    with TunnelProxy() as proxy:
        env["HTTPS_PROXY"] = proxy.url
        ...
        assert proxy.tunnels == [("127.0.0.1", port)] * n
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from types import TracebackType

__all__ = ["TunnelProxy"]

_LOOPBACK = ("127.0.0.1", "localhost")


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        line = self.rfile.readline(8192).decode("latin-1").split()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass  # the rest of the CONNECT head
        if len(line) != 3 or line[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = line[1].rpartition(":")
        if host not in _LOOPBACK or not port.isdigit():
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with self.server.lock:
            self.server.tunnels.append((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        upstream.settimeout(None)
        back = threading.Thread(target=_pump, args=(upstream, self.connection), daemon=True)
        back.start()
        _pump(self.connection, upstream)
        back.join()
        upstream.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    """Copy ``src`` to ``dst`` until either side ends, then end the other direction."""
    with contextlib.suppress(OSError):
        while chunk := src.recv(256 * 1024):
            dst.sendall(chunk)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.tunnels: list[tuple[str, int]] = []


class TunnelProxy:
    """A ``CONNECT`` proxy on 127.0.0.1 in a thread; use as a context manager."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def tunnels(self) -> list[tuple[str, int]]:
        """Every tunnel opened so far, as ``(host, port)``, oldest first."""
        with self._server.lock:
            return list(self._server.tunnels)

    def __enter__(self) -> TunnelProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
