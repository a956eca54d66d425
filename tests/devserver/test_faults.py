"""Each fault does what it says, and is counted."""

from __future__ import annotations

import email.utils
import http.client
import socket
import time

import pytest

from hydra_tui.devserver import DevServer, Faults, synthetic_bytes
from hydra_tui.devserver.faults import RetryAfter
from tests.support.raw_http import DATA, connect, fetch, raw_exchange, split_response

SIZE = len(DATA)
BROKEN = (ConnectionResetError, http.client.IncompleteRead)


def _body_survives(srv: DevServer, target: str = "/f") -> bool:
    try:
        return fetch(srv, target).body == DATA
    except BROKEN:
        return False


def test_reset_first_resets_then_recovers(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(reset_first=2))
    assert [_body_survives(srv) for _ in range(3)] == [False, False, True]
    stats = srv.stats("f")
    assert stats.faults["reset_first"] == 2
    assert stats.completed_bodies == 1


def test_reset_is_a_tcp_rst() -> None:
    with DevServer() as srv:
        srv.add("f", bytes(4 << 20), Faults(reset=1.0))
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
            with pytest.raises(ConnectionResetError):
                while sock.recv(1 << 20):
                    pass


def test_reset_probability_repeats_with_the_seed() -> None:
    patterns = []
    for _ in range(2):
        with DevServer() as srv:
            srv.add("f", DATA, Faults(reset=0.5, seed=7))
            patterns.append([_body_survives(srv) for _ in range(12)])
    assert patterns[0] == patterns[1]
    assert 0 < sum(patterns[0]) < 12


def test_truncate_closes_cleanly_with_a_short_body(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(truncate=1.0))
    raw = raw_exchange(srv, b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")  # ends with FIN, no RST
    _, fields, body = split_response(raw)
    assert fields["content-length"] == str(SIZE)
    assert len(body) < SIZE
    assert body == DATA[: len(body)]
    with pytest.raises(http.client.IncompleteRead):
        fetch(srv, "/f")
    assert srv.stats("f").faults["truncate"] == 2


def test_stall_goes_silent_until_the_client_gives_up(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(stall=1.0))
    with pytest.raises(TimeoutError):
        fetch(srv, "/f", timeout=0.3)
    assert srv.stats("f").faults["stall"] == 1
    assert fetch(srv, "/f?stall=0").body == DATA


def test_status_first_with_retry_after_seconds(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(status_first=1, status_code=429, retry_after=2))
    first = fetch(srv, "/f")
    assert (first.status, first.headers["Retry-After"]) == (429, "2")
    assert fetch(srv, "/f").body == DATA
    assert srv.stats("f").statuses == {429: 1, 200: 1}


def test_status_after(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(status_after=1, status_code=429))
    statuses = [fetch(srv, "/f", {"Range": "bytes=0-9"}).status for _ in range(3)]
    assert statuses == [206, 429, 429]
    assert srv.stats("f").faults["status_after"] == 2


def test_status_rate_with_retry_after_date(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(status_rate=1.0, status_code=503, retry_after="date"))
    reply = fetch(srv, "/f")
    assert reply.status == 503
    when = email.utils.parsedate_to_datetime(reply.headers["Retry-After"]).timestamp()
    assert time.time() <= when <= time.time() + 3
    assert srv.stats("f").faults["status_rate"] == 1


def test_status_rate_is_a_seeded_fraction(srv: DevServer) -> None:
    srv.add("f", b"x", Faults(status_rate=0.3, seed=1))
    statuses = [fetch(srv, "/f").status for _ in range(40)]
    assert 4 <= statuses.count(503) <= 20


def test_max_bodies_refuses_above_the_limit(srv: DevServer) -> None:
    srv.add("f", bytes(1 << 20), Faults(rate=64 * 1024, max_bodies=1, retry_after=1))
    first = connect(srv)
    try:
        first.request("GET", "/f")
        assert first.getresponse().status == 200  # its body is now trickling out
        second = fetch(srv, "/f")
        assert (second.status, second.headers["Retry-After"]) == (503, "1")
        assert fetch(srv, "/f", method="HEAD").status == 200  # HEAD carries no body
    finally:
        first.close()
    stats = srv.stats("f")
    assert stats.faults["max_bodies"] == 1
    assert stats.max_concurrent_bodies == 1


@pytest.mark.parametrize(
    ("code", "retry_after", "header"),
    [(503, 2, "2"), (503, None, None), (429, 1, "1"), (503, "date", "date")],
    ids=["503-seconds", "503-bare", "429-seconds", "503-date"],
)
def test_max_bodies_refuses_with_each_server_model(
    srv: DevServer, code: int, retry_after: RetryAfter, header: str | None
) -> None:
    faults = Faults(rate=64 * 1024, max_bodies=2, status_code=code, retry_after=retry_after)
    srv.add("f", bytes(1 << 20), faults)
    held = [connect(srv), connect(srv)]
    try:
        for conn in held:
            conn.request("GET", "/f")
            assert conn.getresponse().status == 200
        third = fetch(srv, "/f")
        assert third.status == code
        sent = third.headers.get("Retry-After")
        if header == "date":
            assert sent is not None and sent.endswith(" GMT")
            when = email.utils.parsedate_to_datetime(sent).timestamp()
            assert 0 < when - time.time() <= 2.0
        else:
            assert sent == header
    finally:
        for conn in held:
            conn.close()
    assert srv.stats("f").max_concurrent_bodies == 2


def test_ignore_range(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(ignore_range=True))
    reply = fetch(srv, "/f", {"Range": "bytes=0-9"})
    assert (reply.status, reply.body) == (200, DATA)
    assert "Accept-Ranges" not in reply.headers
    assert srv.stats("f").faults["ignore_range"] == 1


def test_no_length_is_chunked_and_full(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(no_length=True))
    reply = fetch(srv, "/f", {"Range": "bytes=0-9"})
    assert (reply.status, reply.body) == (200, DATA)
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in reply.headers
    assert "Accept-Ranges" not in reply.headers


def test_no_accept_ranges_still_honours_range(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(no_accept_ranges=True))
    reply = fetch(srv, "/f", {"Range": "bytes=0-9"})
    assert (reply.status, reply.body) == (206, DATA[:10])
    assert "Accept-Ranges" not in reply.headers


def test_lie_shift(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(lie="shift"))
    reply = fetch(srv, "/f", {"Range": "bytes=100-199"})
    assert reply.headers["Content-Range"] == f"bytes 100-199/{SIZE}"
    assert reply.body == DATA[101:201]
    tail = fetch(srv, "/f", {"Range": "bytes=-10"})
    assert tail.body == DATA[-9:] + b"\0"
    assert srv.stats("f").faults["lie"] == 2


def test_lie_flip_after_an_honest_first_request(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(lie="flip", lie_after=1))
    honest = fetch(srv, "/f", {"Range": "bytes=0-99"})
    assert honest.body == DATA[:100]
    reply = fetch(srv, "/f", {"Range": "bytes=100-199"})
    assert reply.headers["Content-Range"] == f"bytes 100-199/{SIZE}"
    assert reply.body == bytes(b ^ 0x01 for b in DATA[100:200])
    assert srv.stats("f").faults["lie"] == 1


def test_lie_total(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(lie="total"))
    reply = fetch(srv, "/f", {"Range": "bytes=100-199"})
    assert reply.headers["Content-Range"] == f"bytes 100-199/{SIZE + 1}"
    assert reply.body == DATA[100:200]


def test_lie_short_is_legal_and_honest(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(lie="short"))
    reply = fetch(srv, "/f", {"Range": "bytes=100-199"})
    assert reply.status == 206
    assert reply.headers["Content-Range"] == f"bytes 100-149/{SIZE}"
    assert reply.headers["Content-Length"] == "50"
    assert reply.body == DATA[100:150]


def test_lie_long_sends_more_than_promised(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(lie="long"))
    raw = raw_exchange(srv, b"GET /f HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n\r\n")
    _, fields, body = split_response(raw)
    assert fields["content-length"] == "100"
    assert fields["connection"] == "close"
    assert len(body) > 100
    assert body[:100] == DATA[100:200]


def test_lie_after_and_lie_rate(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(lie="total", lie_after=1))
    ranges = [fetch(srv, "/f", {"Range": "bytes=0-9"}).headers["Content-Range"] for _ in range(2)]
    assert ranges == [f"bytes 0-9/{SIZE}", f"bytes 0-9/{SIZE + 1}"]
    srv.add("g", DATA, Faults(lie="total", lie_rate=0.0))
    assert fetch(srv, "/g", {"Range": "bytes=0-9"}).headers["Content-Range"].endswith(f"/{SIZE}")


def test_lies_leave_full_responses_alone(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(lie="shift"))
    assert fetch(srv, "/f").body == DATA


def test_range_200_after(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(range_200_after=1))
    statuses = [fetch(srv, "/f", {"Range": "bytes=0-9"}).status for _ in range(3)]
    assert statuses == [206, 200, 200]
    assert srv.stats("f").faults["range_200_after"] == 2


def test_change_after_switches_to_a_second_version(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(change_after=1, seed=4))
    first = fetch(srv, "/f")
    second = fetch(srv, "/f")
    assert first.body == DATA
    assert second.body != DATA and len(second.body) == SIZE
    assert second.body == srv.content("f")
    assert second.headers["ETag"] != first.headers["ETag"]
    assert fetch(srv, "/f").headers["ETag"] == second.headers["ETag"]  # it stays changed
    stale = fetch(srv, "/f", {"Range": "bytes=0-9", "If-Range": first.headers["ETag"]})
    assert (stale.status, stale.body) == (200, second.body)
    assert srv.stats("f").faults["change_after"] == 1


def test_change_after_with_a_new_size(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(change_after=0, change_size=1234, seed=9))
    reply = fetch(srv, "/f")
    assert len(reply.body) == 1234
    assert reply.body == synthetic_bytes(9 + 1_000_003, 1234)


def test_redirect_to_another_host(srv: DevServer) -> None:
    target = srv.alt_url("data.bin")
    assert "//localhost:" in target
    srv.add("r", b"", Faults(redirect_to=target))
    reply = fetch(srv, "/r")
    assert (reply.status, reply.headers["Location"]) == (302, target)
    assert srv.stats("r").faults["redirect_to"] == 1


def test_html_200_and_fixed_status(srv: DevServer) -> None:
    srv.add("h", DATA, Faults(html_200=True))
    html = fetch(srv, "/h", {"Range": "bytes=0-9"})
    assert html.status == 200
    assert html.headers["Content-Type"].startswith("text/html")
    assert html.body.startswith(b"<!DOCTYPE html>")
    srv.add("gone", DATA, Faults(status=410))
    assert fetch(srv, "/gone").status == 410


def test_latency_delays_the_headers(srv: DevServer) -> None:
    srv.add("f", b"x", Faults(latency=0.2))
    start = time.monotonic()
    assert fetch(srv, "/f").status == 200
    assert time.monotonic() - start >= 0.19


def test_slow_every_throttles_bodies_1_and_1_plus_n(srv: DevServer) -> None:
    srv.add("f", bytes(64 * 1024), Faults(slow_every=2, slow_rate=256 * 1024))
    durations = []
    for _ in range(3):
        start = time.monotonic()
        fetch(srv, "/f")
        durations.append(time.monotonic() - start)
    assert durations[0] > 0.2 and durations[2] > 0.2
    assert durations[1] < 0.1
    assert srv.stats("f").faults["slow"] == 2


def test_query_parameters_override_faults(srv: DevServer) -> None:
    assert fetch(srv, "/data.bin?status=404").status == 404
    assert fetch(srv, "/data.bin?ignore_range=1", {"Range": "bytes=0-0"}).status == 200
    short = fetch(srv, srv.url("data.bin", lie="short"), {"Range": "bytes=0-9"})
    assert short.headers["Content-Range"] == f"bytes 0-4/{SIZE}"
    with pytest.raises(BROKEN):
        fetch(srv, "/data.bin?reset_first=1&seed=3")
    assert fetch(srv, "/data.bin").body == DATA  # the resource's own faults are untouched
    assert fetch(srv, "/data.bin?unknown=1").status == 200


def test_bad_query_values_are_400(srv: DevServer) -> None:
    for query in ("rate=fast", "reset=2", "lie=sometimes", "status_code=9000"):
        reply = fetch(srv, f"/data.bin?{query}")
        assert reply.status == 400, query


def test_slow_after_throttles_bodies_after_the_first_n(srv: DevServer) -> None:
    srv.add("f", bytes(64 * 1024), Faults(slow_after=1, slow_rate=256 * 1024))
    durations = []
    for _ in range(2):
        start = time.monotonic()
        fetch(srv, "/f")
        durations.append(time.monotonic() - start)
    assert durations[0] < 0.1
    assert durations[1] > 0.2
    assert srv.stats("f").faults["slow_after"] == 1


def test_slow_connection_throttles_every_body_of_the_nth_connection(srv: DevServer) -> None:
    body = bytes(range(256)) * 16
    srv.add("f", body, Faults(slow_connection=2, slow_rate=1024 * 1024))
    assert fetch(srv, "/f").body == body  # connection 1
    assert srv.stats("f").faults["slow_connection"] == 0
    conn = connect(srv, 5.0)  # connection 2: every body it carries is slow
    try:
        for _ in range(2):
            conn.request("GET", "/f")
            assert conn.getresponse().read() == body
    finally:
        conn.close()
    assert srv.stats("f").faults["slow_connection"] == 2
    assert fetch(srv, "/f").body == body  # connection 3: fast again
    assert fetch(srv, "/f?slow_connection=1").body == body  # its own count starts at 1
    stats = srv.stats("f")
    assert stats.faults["slow_connection"] == 3 and stats.bodies == 5


def test_content_type_labels_the_bytes(srv: DevServer) -> None:
    # busybox httpd's manner: every file is "text/html", and it still honours Range
    srv.add("fw.bin", DATA, Faults(content_type="text/html"))
    got = fetch(srv, "/fw.bin", {"Range": "bytes=0-9"})
    assert got.status == 206
    assert got.headers["Content-Type"] == "text/html"
    assert got.body == DATA[:10]


def test_no_validators(srv: DevServer) -> None:
    srv.add("f", DATA, Faults(no_validators=True))
    got = fetch(srv, "/f", {"Range": "bytes=0-9"})
    assert got.status == 206
    assert "ETag" not in got.headers and "Last-Modified" not in got.headers
