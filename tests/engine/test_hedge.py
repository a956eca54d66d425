"""The hedge: a crawling connection's remainder goes to a connection above the window.

The devserver's ``slow_connection`` makes one connection crawl for every body it
carries while new connections are fast: the remainder of its range must be fetched by
another connection (the request log shows it), while the others are still busy (more
bodies at once than ``threads``), and every byte must arrive once, in place.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.stream import stream_blocks
from tests.support.helpers import file_sha256, payload, run, sha256

MiB = 1024 * 1024
THREADS = 4
# 4 × 2 MiB/s with 2 MiB chunks: the healthy connections are busy for ~1 s per chunk,
# the crawler (16 KiB/s) would need two minutes for its chunk
CRAWL = Faults(rate=2 * MiB, slow_connection=2, slow_rate=16 * 1024)


def options(out: Path, raw_http: bool) -> DownloadOptions:
    return DownloadOptions(
        threads=THREADS,
        chunk_size=2 * MiB,
        buffer=16 * MiB,
        output_dir=out,
        raw_http=raw_http,
        retries=8,
        backoff_base=0.01,
        backoff_max=0.2,
    )


def _ranges(srv: DevServer, name: str) -> list[tuple[int, int, int]]:
    """(connection, first, last) of each range request for ``name``, in arrival order."""
    out = []
    for r in srv.requests:
        rng = r.headers.get("range")
        if r.path == f"/{name}" and rng:
            first, last = rng.removeprefix("bytes=").split("-")
            out.append((r.connection, int(first), int(last)))
    return out


def assert_crawler_was_hedged(srv: DevServer, name: str, hedges: int) -> None:
    ranges = _ranges(srv, name)
    conns = list(dict.fromkeys(c for c, _, _ in ranges))
    slow = conns[1]  # the second connection that asked is the crawler
    crawled = [(first, last) for c, first, last in ranges if c == slow]
    assert crawled, ranges
    first, last = crawled[0]
    # its range was finished by another connection: a request from inside it to its end
    assert any(c != slow and first <= f <= last and end == last for c, f, end in ranges), (
        crawled,
        ranges,
    )
    stats = srv.stats(name)
    assert stats.faults["slow_connection"] >= 1
    # the hedge ran while every other connection was still busy: above the window
    assert stats.max_concurrent_bodies > THREADS
    assert hedges >= 1


@pytest.mark.parametrize("raw_http", [True, False], ids=["raw", "httpx"])
def test_disk_hedges_a_crawling_connection(
    server: DevServer, out_dir: Path, raw_http: bool
) -> None:
    data = payload(16 * MiB + 5, seed=171)
    url = server.add("crawl.bin", data, CRAWL)

    async def go() -> tuple[Path, int, int]:
        opts = options(out_dir, raw_http)
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            result = await download_to_disk(dl)
            return result.path, dl.hedges, dl.received

    path, hedges, received = run(go())
    assert file_sha256(path) == sha256(data)
    assert received <= len(data)  # no byte counted twice
    assert_crawler_was_hedged(server, "crawl.bin", hedges)


def test_stream_hedges_a_crawling_connection(server: DevServer, out_dir: Path) -> None:
    data = payload(16 * MiB + 5, seed=172)
    url = server.add("crawl.bin", data, CRAWL)

    async def go() -> tuple[str, int, int, int]:
        opts = options(out_dir, True)
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            h = hashlib.sha256()
            n = 0
            async for block in stream_blocks(dl):
                for piece in block:
                    h.update(piece)
                    n += len(piece)
            return h.hexdigest(), n, dl.hedges, dl.received

    digest, n, hedges, received = run(go())
    assert (digest, n) == (sha256(data), len(data))
    assert received <= len(data)
    assert_crawler_was_hedged(server, "crawl.bin", hedges)


def test_a_refused_hedge_leaves_the_range_to_the_workers(server: DevServer, out_dir: Path) -> None:
    # the server takes no more bodies than the window: the hedge gets a 503 and gives
    # its range back to the workers; the bytes still all arrive, in place
    data = payload(12 * MiB + 3, seed=173)
    url = server.add("capped.bin", data, dataclasses.replace(CRAWL, max_bodies=THREADS))

    async def go() -> tuple[Path, int, int]:
        opts = options(out_dir, True)
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            result = await download_to_disk(dl)
            return result.path, dl.hedges, dl.received

    path, hedges, received = run(go())
    assert file_sha256(path) == sha256(data)
    assert received <= len(data)
    stats = server.stats("capped.bin")
    assert stats.max_concurrent_bodies <= THREADS
    assert stats.statuses[503] >= 1
    assert hedges == 1
