"""HTTPS with a throwaway CA from trustme: same semantics, faults included."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator

import pytest
import trustme

from hydra_tui.devserver import DevServer, Faults
from tests.support.raw_http import DATA


@pytest.fixture
def tls() -> Iterator[tuple[DevServer, ssl.SSLContext]]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    with DevServer(ssl_context=server_context) as srv:
        srv.add("data.bin", DATA)
        yield srv, client_context


def _get(
    srv: DevServer, context: ssl.SSLContext, host: str, target: str, headers: dict[str, str]
) -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection(host, srv.port, context=context, timeout=5)
    try:
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_https_range_on_both_hosts(tls: tuple[DevServer, ssl.SSLContext]) -> None:
    srv, context = tls
    assert srv.url("data.bin").startswith("https://127.0.0.1:")
    assert srv.alt_url("data.bin").startswith("https://localhost:")
    assert _get(srv, context, "127.0.0.1", "/data.bin", {"Range": "bytes=5-9"}) == (206, DATA[5:10])
    assert _get(srv, context, "localhost", "/data.bin", {}) == (200, DATA)


def test_https_throttle_and_reset(tls: tuple[DevServer, ssl.SSLContext]) -> None:
    srv, context = tls
    srv.add("f", DATA, Faults(rate=4 << 20, reset_first=1))
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead, ssl.SSLError)):
        _get(srv, context, "127.0.0.1", "/f", {})
    assert _get(srv, context, "127.0.0.1", "/f", {}) == (200, DATA)


def test_plain_http_client_on_https_port_is_harmless(tls: tuple[DevServer, ssl.SSLContext]) -> None:
    srv, context = tls
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        conn.request("GET", "/data.bin")
        conn.getresponse().read()
    conn.close()
    assert _get(srv, context, "127.0.0.1", "/data.bin", {}) == (200, DATA)
