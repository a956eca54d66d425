"""The server's life: start, stop (promptly, stalled connections too), errors."""

from __future__ import annotations

import http.client
import socket
import time
from typing import Any

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.raw_http import DATA, fetch


def test_stop_closes_stalled_connections_promptly() -> None:
    srv = DevServer().start()
    srv.add("f", DATA, Faults(stall=1.0))
    srv.add("slow", DATA, Faults(rate=1024, latency=30))
    clients = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(2)]
    try:
        for sock, target in zip(clients, (b"/f", b"/slow"), strict=True):
            sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert clients[0].recv(12) == b"HTTP/1.1 200"  # headers out, then silence
        assert srv.open_connections >= 1
        start = time.monotonic()
        srv.stop()
        assert time.monotonic() - start < 2.0
        for sock in clients:
            try:
                while sock.recv(65536):
                    pass
            except ConnectionResetError:
                pass  # closed either way: EOF or RST
    finally:
        for sock in clients:
            sock.close()
        srv.stop()  # a second stop is harmless


def test_port_in_use_fails_start() -> None:
    with DevServer() as first:
        second = DevServer(port=first.port)
        with pytest.raises(OSError):
            second.start()


def test_unknown_resource_names_raise_key_error(srv: DevServer) -> None:
    with pytest.raises(KeyError):
        srv.stats("missing")


def test_remove_and_set_faults(srv: DevServer) -> None:
    srv.set_faults("data.bin", Faults(status_first=1))
    assert fetch(srv).status == 503
    srv.set_faults("data.bin", Faults(status_first=1))  # a fresh schedule: first again
    assert fetch(srv).status == 503
    assert fetch(srv).status == 200
    srv.remove("data.bin")
    assert fetch(srv).status == 404


def test_url_query_helpers(srv: DevServer) -> None:
    url = srv.url("data.bin", rate="4M", ignore_range=True)
    assert url == f"http://127.0.0.1:{srv.port}/data.bin?rate=4M&ignore_range=1"
    assert fetch(srv, url, {"Range": "bytes=0-0"}).status == 200


@pytest.mark.parametrize(
    "bad",
    [{"reset": 1.5}, {"rate": -1}, {"lie": "fib"}, {"status_code": 42}, {"retry_after": "soon"}],
)
def test_faults_validate_their_fields(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Faults(**bad)


def test_faults_parse_queries() -> None:
    assert Faults.from_query("rate=4M&slow_rate=64K&change_size=1G") == Faults(
        rate=4 << 20, slow_rate=64 << 10, change_size=1 << 30
    )
    assert Faults.from_query("retry_after=date&status=none&stall=0.5").retry_after == "date"


def test_generator_bugs_are_reported_not_hidden() -> None:
    def broken(offset: int, length: int) -> bytes:
        raise ValueError("generator bug")

    srv = DevServer().start()
    srv.add_generated("bad", 10, broken)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        fetch(srv, "/bad")
    srv.stop()
    assert [str(e) for e in srv.errors] == ["generator bug"]
    with pytest.raises(RuntimeError, match="generator bug"), srv:
        pass


def test_adding_needs_a_running_server() -> None:
    with pytest.raises(RuntimeError):
        DevServer().add("x", b"")
