"""Synthetic, generated and on-disk content: deterministic and served byte for byte."""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path

import pytest

from hydra_tui.devserver import (
    DevServer,
    Faults,
    synthetic_bytes,
    synthetic_chunk,
    synthetic_sha256,
)
from hydra_tui.devserver.demo import demo_resources, start_demo_server
from tests.support.raw_http import connect, fetch

MiB = 1 << 20


def test_synthetic_bytes_are_deterministic_and_distinct_per_mib() -> None:
    data = synthetic_bytes(3, 3 * MiB + 17)
    assert len(data) == 3 * MiB + 17
    assert data == synthetic_bytes(3, 3 * MiB + 17)
    assert data != synthetic_bytes(4, 3 * MiB + 17)
    blocks = {data[i : i + 4096] for i in range(0, 3 * MiB, MiB)}
    assert len(blocks) == 3
    assert synthetic_sha256(3, len(data)) == hashlib.sha256(data).hexdigest()


def test_synthetic_chunks_agree_with_the_whole() -> None:
    data = synthetic_bytes(11, 3 * MiB)
    rng = random.Random(5)
    for _ in range(50):
        offset = rng.randrange(len(data))
        length = rng.randrange(min(2 * MiB, len(data) - offset) + 1)
        assert synthetic_chunk(11, offset, length) == data[offset : offset + length]


def test_synthetic_resource_ranges(srv: DevServer) -> None:
    srv.add_synthetic("s.bin", 2 * MiB + 5, seed=8, faults=Faults(truncate=0.0))
    data = synthetic_bytes(8, 2 * MiB + 5)
    assert fetch(srv, "/s.bin").body == data
    assert fetch(srv, "/s.bin", {"Range": "bytes=1048570-1048600"}).body == data[1048570:1048601]


def test_generated_resource(srv: DevServer) -> None:
    def generate(offset: int, length: int) -> bytes:
        return bytes((offset + i) % 251 for i in range(length))

    srv.add_generated("g", 1000, generate)
    assert fetch(srv, "/g", {"Range": "bytes=500-509"}).body == generate(500, 10)


@pytest.mark.parametrize("query", ["", "?rate=1G", "?truncate=0&lie=shift"])
def test_file_resource_with_and_without_sendfile(
    srv: DevServer, tmp_path: Path, query: str
) -> None:
    data = random.Random(2).randbytes(3 * MiB + 3)
    path = tmp_path / "disk.bin"
    path.write_bytes(data)
    srv.add_file("disk.bin", path)
    assert fetch(srv, f"/disk.bin{query}").body == data
    reply = fetch(srv, f"/disk.bin{query}", {"Range": "bytes=1000-2099999"})
    shift = 1 if "shift" in query else 0
    assert reply.body == data[1000 + shift : 2100000 + shift]
    # the server thread books bytes once its send returns, which may be just after the
    # client has read them: wait (bounded) for the counter, then check it exactly
    expected = len(data) + 2099000
    deadline = time.monotonic() + 5
    while srv.stats("disk.bin").bytes_sent < expected and time.monotonic() < deadline:
        time.sleep(0.005)
    assert srv.stats("disk.bin").bytes_sent == expected


def test_demo_files_are_big_synthetic_and_troubled() -> None:
    demos = demo_resources()
    assert 3 <= len(demos) <= 5
    assert all(32 * MiB <= d.size <= 256 * MiB for d in demos)
    assert all(d.faults.rate for d in demos)
    faults = [d.faults for d in demos]
    assert any(f.status_rate and f.status_code == 429 for f in faults)
    assert any(f.reset for f in faults)
    assert any(f.slow_every for f in faults)
    with start_demo_server() as srv:
        assert srv.names() == [d.name for d in demos]
        first = demos[0]
        reply = fetch(
            srv,
            srv.url(first.name, rate=0, slow_every=0),
            {"Range": "bytes=0-99"},
        )
        assert reply.body == synthetic_bytes(first.seed, 100)


def test_file_bodies_keep_the_connection_alive(srv: DevServer, tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"0123456789")
    (tmp_path / "empty").write_bytes(b"")
    srv.add_file("a", tmp_path / "a")
    srv.add_file("empty", tmp_path / "empty")
    conn = connect(srv)
    try:
        for target, spec, expected in [
            ("/a", "bytes=2-4", b"234"),
            ("/empty", None, b""),
            ("/a", "bytes=-2", b"89"),
        ]:
            conn.request("GET", target, headers={"Range": spec} if spec else {})
            assert conn.getresponse().read() == expected
    finally:
        conn.close()
    assert srv.stats("a").connections == 1
