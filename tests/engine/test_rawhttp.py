"""The lean range reader (``engine/http/rawhttp.py``): its head parser, its request builder,
keep-alive reuse against the devserver, and the edges the devserver cannot produce
(a keep-alive connection closed under our feet, bytes past Content-Length, a chunked
206) from a tiny canned server on 127.0.0.1. Every download is checked by sha256."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hydra_tui import HydraClient
from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.disk import DownloadResult
from hydra_tui.engine.http.rawhttp import build_request, parse_head
from hydra_tui.errors import NetworkError
from tests.support.helpers import file_sha256, payload, run, sha256

MiB = 1024 * 1024


def fetch(url: str, out: Path, **kw: object) -> DownloadResult:
    opts: dict[str, object] = {"threads": 2, "retries": 8, "backoff_base": 0.01, "backoff_max": 0.1}
    opts.update(kw)

    async def go() -> DownloadResult:
        async with HydraClient(**opts) as client:  # type: ignore[arg-type]
            return await client.download(url, out)

    return run(go())


# -- pure parts ----------------------------------------------------------------------------
def test_parse_head_reads_status_and_headers() -> None:
    version, status, reason, headers = parse_head(
        b'HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/20\r\nX-Empty:\r\nETag:  "a" '
    )
    assert (version, status, reason) == ("HTTP/1.1", 206, "Partial Content")
    assert headers == [(b"Content-Range", b"bytes 0-9/20"), (b"X-Empty", b""), (b"ETag", b'"a"')]


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/2 200 OK",
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 2x0 OK",
        b"ICY 200 OK",
        b"HTTP/1.1 200 OK\r\nno colon here",
        b"HTTP/1.1 200 OK\r\n: empty name",
        b"HTTP/1.1 200 OK\r\nBad Name: x",
        b"HTTP/1.1 200 OK\r\n Folded: x",
    ],
)
def test_parse_head_refuses_malformed_heads(head: bytes) -> None:
    with pytest.raises(ValueError, match="bad"):
        parse_head(head)


@given(
    st.integers(100, 599),
    st.lists(
        st.tuples(
            st.from_regex(rb"\A[A-Za-z][A-Za-z0-9-]{0,20}\Z"),
            st.from_regex(rb"\A[!-~]([ !-~]{0,30}[!-~])?\Z"),
        ),
        max_size=8,
    ),
)
def test_parse_head_round_trips(status: int, headers: list[tuple[bytes, bytes]]) -> None:
    head = b"\r\n".join(
        [b"HTTP/1.1 %d Reason Phrase" % status, *(n + b": " + v for n, v in headers)]
    )
    assert parse_head(head) == ("HTTP/1.1", status, "Reason Phrase", headers)


def test_build_request_and_header_injection() -> None:
    url = httpx.URL("http://example.test:8080/a%20b/c.iso?x=1&y=%2F")
    request = build_request(url, [("User-Agent", "t"), ("Range", "bytes=0-9"), ("Host", "evil")])
    assert request == (
        b"GET /a%20b/c.iso?x=1&y=%2F HTTP/1.1\r\nHost: example.test:8080\r\n"
        b"User-Agent: t\r\nRange: bytes=0-9\r\n\r\n"
    )
    for bad in [("X-A", "1\r\nX-B: 2"), ("X-A\n", "1"), ("X:A", "1")]:
        with pytest.raises(NetworkError, match="split"):
            build_request(url, [bad])


# -- against the devserver ---------------------------------------------------------------------
def test_keep_alive_carries_many_ranges_on_few_connections(
    server: DevServer, out_dir: Path
) -> None:
    data = payload(12 * MiB + 7, seed=21)
    url = server.add("ka.bin", data, Faults(rate=64 * MiB))
    result = fetch(url, out_dir, threads=2, chunk_size=MiB)
    assert file_sha256(result.path) == sha256(data)
    stats = server.stats("ka.bin")
    assert stats.range_requests >= 12
    # the probe's connection, then the two workers' (a steal may cost one more)
    assert stats.connections <= 5, stats


@pytest.mark.parametrize("raw_http", [True, False], ids=["raw", "httpx"])
def test_rate_limit_holds_on_both_paths(server: DevServer, out_dir: Path, raw_http: bool) -> None:
    data = payload(3 * MiB, seed=22)
    url = server.add("rl.bin", data)
    loop_time: list[float] = []

    async def go() -> DownloadResult:
        async with HydraClient(threads=4, limit_rate=4 * MiB, raw_http=raw_http) as client:
            t0 = asyncio.get_running_loop().time()
            result = await client.download(url, out_dir)
            loop_time.append(asyncio.get_running_loop().time() - t0)
            return result

    result = run(go())
    assert file_sha256(result.path) == sha256(data)
    # 3 MiB at 4 MiB/s: the token bucket's burst allows some head start, never 3x
    assert loop_time[0] >= 0.4, loop_time


# -- a canned server for what the devserver does not do ----------------------------------------
Handler = Callable[[int, int, int], list[bytes]]


@contextlib.asynccontextmanager
async def canned_server(data: bytes, answer: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """Serve ``data`` with ranges; ``answer(conn_no, request_no, first)`` gives the raw
    bytes to send for a request (an empty list closes the connection instead)."""
    requests: list[int] = []
    conns = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal conns
        conns += 1
        conn_no, req_no = conns, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                req_no += 1
                rng = next(
                    line for line in head.split(b"\r\n") if line.lower().startswith(b"range:")
                )
                first_s, _, last_s = rng.split(b"=", 1)[1].partition(b"-")
                first, last = int(first_s), min(int(last_s), len(data) - 1)
                requests.append(conn_no)
                parts = answer(conn_no, req_no, first)
                if not parts:
                    return
                if parts == [b"DEFAULT"]:
                    body = data[first : last + 1]
                    parts = [
                        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\n"
                        b'Content-Length: %d\r\nETag: "v1"\r\n\r\n'
                        % (first, last, len(data), len(body)),
                        body,
                    ]
                for part in parts:
                    writer.write(part)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/canned.bin", requests
    finally:
        srv.close()
        await srv.wait_closed()


def test_keep_alive_closed_by_the_server_is_redialled(out_dir: Path) -> None:
    """A server that drops every connection after one answer, without saying so: each
    reused connection fails before a byte of its answer and is redialled, not retried."""
    data = payload(3 * MiB + 1, seed=23)

    def answer(conn_no: int, req_no: int, first: int) -> list[bytes]:
        return [b"DEFAULT"] if req_no == 1 else []

    async def go() -> DownloadResult:
        async with canned_server(data, answer) as (url, requests):
            async with HydraClient(threads=1, chunk_size=MiB, retries=0) as client:
                result = await client.download(url, out_dir)
            assert len(requests) >= 4  # the probe and three ranges at least
            return result

    result = run(go())
    assert file_sha256(result.path) == sha256(data)


def test_bytes_past_content_length_never_reach_the_file(out_dir: Path) -> None:
    """Every answer carries 5 bytes of garbage past its Content-Length on a keep-alive
    connection: the next answer on it is unreadable, so it is retried on a new one."""
    data = payload(2 * MiB + 3, seed=24)

    def answer(conn_no: int, req_no: int, first: int) -> list[bytes]:
        end = min(len(data), first + 512 * 1024)
        body = data[first:end]
        return [
            b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\n"
            b"Content-Length: %d\r\n\r\n" % (first, end - 1, len(data), len(body)),
            body + b"XXXXX",
        ]

    async def go() -> DownloadResult:
        async with (
            canned_server(data, answer) as (url, _),
            HydraClient(threads=1, chunk_size=512 * 1024, retries=20, backoff_base=0.001) as client,
        ):
            return await client.download(url, out_dir)

    result = run(go())
    assert file_sha256(result.path) == sha256(data)


def test_chunked_range_answers_go_back_to_httpx(out_dir: Path) -> None:
    """A 206 without Content-Length (chunked) is more HTTP than the raw reader speaks:
    the same request is asked again through httpx, which reads it."""
    data = payload(MiB + 11, seed=25)

    def answer(conn_no: int, req_no: int, first: int) -> list[bytes]:
        if first == 0:
            return [b"DEFAULT"]  # the probe
        body = data[first:]
        return [
            b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\n"
            b'Transfer-Encoding: chunked\r\nETag: "v1"\r\n\r\n' % (first, len(data) - 1, len(data)),
            b"%x\r\n" % len(body),
            body,
            b"\r\n0\r\n\r\n",
        ]

    async def go() -> DownloadResult:
        async with canned_server(data, answer) as (url, requests):
            async with HydraClient(threads=1, chunk_size=4 * MiB, retries=0) as client:
                result = await client.download(url, out_dir)
            assert len(requests) == 3  # probe, raw attempt, httpx
            return result

    result = run(go())
    assert file_sha256(result.path) == sha256(data)


def test_raw_blocks_of_a_download_stay_within_their_budget() -> None:
    from hydra_tui.engine.transfer import (
        FLUSH_BYTES,
        RAW_BLOCK_MIN,
        RAW_BLOCKS_BUDGET,
        raw_block_size,
    )

    assert raw_block_size(1) == raw_block_size(8) == FLUSH_BYTES
    for threads in (9, 16, 32):
        assert 2 * threads * raw_block_size(threads) <= RAW_BLOCKS_BUDGET
    assert raw_block_size(1024) == RAW_BLOCK_MIN
