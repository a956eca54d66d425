"""Normal behaviour, which must be exactly right: the engine is judged against it."""

from __future__ import annotations

import email.utils
import socket

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.raw_http import DATA, connect, fetch, raw_exchange, split_response

SIZE = len(DATA)


def test_full_get_has_length_validators_and_ranges(srv: DevServer) -> None:
    reply = fetch(srv)
    assert reply.status == 200
    assert reply.body == DATA
    h = reply.headers
    assert h["Content-Length"] == str(SIZE)
    assert h["Accept-Ranges"] == "bytes"
    assert h["Content-Type"] == "application/octet-stream"
    assert h["ETag"].startswith('"') and h["ETag"].endswith('"') and len(h["ETag"]) > 10
    assert email.utils.parsedate_to_datetime(h["Last-Modified"]) is not None
    assert "Content-Range" not in h


@pytest.mark.parametrize(
    ("spec", "first", "last"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=99990-", 99990, SIZE - 1),
        ("bytes=0-", 0, SIZE - 1),
        ("bytes=-10", SIZE - 10, SIZE - 1),
        ("bytes=5-999999", 5, SIZE - 1),
        ("bytes=-200000", 0, SIZE - 1),
        ("Bytes = 7-9", 7, 9),
    ],
)
def test_single_range(srv: DevServer, spec: str, first: int, last: int) -> None:
    reply = fetch(srv, headers={"Range": spec})
    assert reply.status == 206
    assert reply.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert reply.headers["Content-Length"] == str(last - first + 1)
    assert reply.body == DATA[first : last + 1]
    assert srv.stats("data.bin").range_requests == 1


@pytest.mark.parametrize("spec", ["bytes=100000-", "bytes=100000-100005", "bytes=-0"])
def test_unsatisfiable_range_is_416(srv: DevServer, spec: str) -> None:
    reply = fetch(srv, headers={"Range": spec})
    assert reply.status == 416
    assert reply.headers["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize(
    "spec", ["bytes=5-1", "bytes=abc", "items=0-1", "bytes=0-1,5-6", "bytes=-", "bytes=1-2-3"]
)
def test_invalid_or_multiple_ranges_get_the_full_body(srv: DevServer, spec: str) -> None:
    reply = fetch(srv, headers={"Range": spec})
    assert reply.status == 200
    assert reply.body == DATA


def test_empty_resource(srv: DevServer) -> None:
    srv.add("empty", b"")
    assert fetch(srv, "/empty").body == b""
    assert fetch(srv, "/empty", {"Range": "bytes=0-"}).status == 416
    assert fetch(srv, "/empty", {"Range": "bytes=-5"}).status == 416


def test_head_has_get_headers_and_no_body_on_a_kept_connection(srv: DevServer) -> None:
    conn = connect(srv)
    try:
        conn.request("HEAD", "/data.bin", headers={"Range": "bytes=10-19"})
        head = conn.getresponse()
        assert head.read() == b""
        assert head.status == 206
        assert head.headers["Content-Length"] == "10"
        assert head.headers["Content-Range"] == f"bytes 10-19/{SIZE}"
        conn.request("GET", "/data.bin", headers={"Range": "bytes=10-19"})
        assert conn.getresponse().read() == DATA[10:20]
    finally:
        conn.close()
    stats = srv.stats("data.bin")
    assert (stats.requests, stats.head_requests, stats.connections) == (2, 1, 1)


def test_if_range_with_etag_and_date(srv: DevServer) -> None:
    headers = fetch(srv, method="HEAD").headers
    etag, date = headers["ETag"], headers["Last-Modified"]
    rng = {"Range": "bytes=0-9"}
    assert fetch(srv, headers={**rng, "If-Range": etag}).status == 206
    assert fetch(srv, headers={**rng, "If-Range": date}).status == 206
    mismatch = fetch(srv, headers={**rng, "If-Range": '"not-the-etag"'})
    assert (mismatch.status, mismatch.body) == (200, DATA)
    assert fetch(srv, headers={**rng, "If-Range": f"W/{etag}"}).status == 200
    old = email.utils.formatdate(0, usegmt=True)
    assert fetch(srv, headers={**rng, "If-Range": old}).status == 200
    assert srv.stats("data.bin").faults["if_range_mismatch"] == 3


def test_set_content_changes_bytes_etag_and_date(srv: DevServer) -> None:
    before = fetch(srv, method="HEAD").headers
    srv.set_content("data.bin", b"new bytes")
    after = fetch(srv)
    assert after.body == b"new bytes"
    assert after.headers["ETag"] != before["ETag"]
    assert after.headers["ETag"] == srv.etag("data.bin")
    old_date = email.utils.parsedate_to_datetime(before["Last-Modified"])
    assert email.utils.parsedate_to_datetime(after.headers["Last-Modified"]) > old_date
    stale = fetch(srv, headers={"Range": "bytes=0-2", "If-Range": before["ETag"]})
    assert (stale.status, stale.body) == (200, b"new bytes")
    srv.set_content("data.bin", b"new bytes")  # same bytes, still a new version
    assert srv.etag("data.bin") != after.headers["ETag"]


def test_pipelined_requests_are_answered_in_order(srv: DevServer) -> None:
    raw = raw_exchange(
        srv,
        b"GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4\r\n\r\n"
        b"GET /data.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=5-9\r\nConnection: close\r\n\r\n",
    )
    status, _, rest = split_response(raw)
    assert status == b"HTTP/1.1 206 Partial Content"
    assert rest[:5] == DATA[:5]
    status2, fields2, rest2 = split_response(rest[5:])
    assert status2 == b"HTTP/1.1 206 Partial Content"
    assert fields2["connection"] == "close"
    assert rest2 == DATA[5:10]
    assert srv.stats("data.bin").connections == 1


def test_http10_closes_unless_asked_to_keep_alive(srv: DevServer) -> None:
    raw = raw_exchange(srv, b"GET /data.bin HTTP/1.0\r\nRange: bytes=0-1\r\n\r\n")
    _, fields, body = split_response(raw)
    assert fields["connection"] == "close"
    assert body == DATA[:2]


def test_unknown_name_bad_method_and_garbage(srv: DevServer) -> None:
    assert fetch(srv, "/nope.bin").status == 404
    assert fetch(srv, "/").status == 404
    assert fetch(srv, method="POST").status == 405
    status, fields, _ = split_response(raw_exchange(srv, b"NOT HTTP AT ALL\r\n\r\n"))
    assert status.startswith(b"HTTP/1.1 400")
    assert fields["connection"] == "close"


def test_names_are_quoted_and_decoded(srv: DevServer) -> None:
    url = srv.add("dir/a file%.bin", b"abc")
    assert url.endswith("/dir/a%20file%25.bin")
    assert fetch(srv, "/dir/a%20file%25.bin").body == b"abc"


@pytest.mark.parametrize(
    "value",
    [
        'attachment; filename="../../etc/passwd"',
        "attachment; filename*=UTF-8''%E2%82%AC%20rates.txt",
    ],
)
def test_content_disposition_is_sent_verbatim(srv: DevServer, value: str) -> None:
    srv.add("cd.bin", b"x", Faults(content_disposition=value))
    assert fetch(srv, "/cd.bin").headers["Content-Disposition"] == value


def test_requests_are_recorded_with_case_insensitive_headers(srv: DevServer) -> None:
    fetch(srv, "/data.bin?rate=1G", {"X-Probe": "yes", "Range": "bytes=0-0"})
    (recorded,) = srv.requests
    assert (recorded.method, recorded.path, recorded.query) == ("GET", "/data.bin", "rate=1G")
    assert recorded.target == "/data.bin?rate=1G"
    assert recorded.status == 206
    assert recorded.headers["x-probe"] == recorded.headers["X-PROBE"] == "yes"
    assert "RANGE" in recorded.headers


def test_stats_count_and_reset(srv: DevServer) -> None:
    fetch(srv)
    fetch(srv, headers={"Range": "bytes=0-9"})
    fetch(srv, headers={"Range": "bytes=999999-"})
    stats = srv.stats("data.bin")
    assert stats.requests == 3
    assert stats.range_requests == 2
    assert stats.statuses == {200: 1, 206: 1, 416: 1}
    assert stats.bytes_sent == SIZE + 10
    assert (stats.bodies, stats.completed_bodies, stats.max_concurrent_bodies) == (2, 2, 1)
    srv.reset_stats()
    assert srv.stats("data.bin").requests == 0
    assert srv.requests == []


def test_client_hanging_up_mid_body_is_harmless(srv: DevServer) -> None:
    srv.add("big", bytes(8 << 20))
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
    assert fetch(srv).body == DATA
