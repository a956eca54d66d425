"""Stream mode through the Python API: in-order bytes, bounded memory, faults."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from hydra_tui import HydraClient
from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.download import Download
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.stream import stream_blocks
from hydra_tui.errors import ChecksumMismatch, RemoteChangedError
from tests.support.helpers import payload, run, sha256

MiB = 1024 * 1024
FAST = {"retries": 10, "backoff_base": 0.01, "backoff_max": 0.2}


async def stream_digest(urls: list[str], **kw: object) -> list[tuple[str, str, int]]:
    out = []
    async with HydraClient(**{**FAST, **kw}) as client:  # type: ignore[arg-type]
        async for name, chunks in client.stream(urls):
            h = hashlib.sha256()
            n = 0
            async for chunk in chunks:
                h.update(chunk)
                n += len(chunk)
            out.append((name, h.hexdigest(), n))
    return out


@pytest.mark.parametrize(
    "faults",
    [
        Faults(),
        Faults(reset=0.25, seed=1),
        Faults(status_rate=0.33, status_code=429, retry_after=0, seed=2),
        Faults(slow_every=4, slow_rate=128 * 1024, seed=3),
        Faults(truncate=0.2, seed=4),
        Faults(ignore_range=True),
        Faults(no_length=True),
        Faults(range_200_after=4),
    ],
    ids=[
        "clean",
        "resets",
        "429s",
        "slow-conn",
        "truncate",
        "ignore-range",
        "chunked",
        "range-200-later",
    ],
)
def test_stream_bytes_identical(server: DevServer, faults: Faults) -> None:
    data = payload(12 * MiB + 11, seed=faults.seed + 100)
    url = server.add("s.bin", data, faults)
    [(name, digest, n)] = run(stream_digest([url], threads=8, buffer="8MiB", chunk_size=512 * 1024))
    assert name == "s.bin"
    assert n == len(data)
    assert digest == sha256(data)


def test_several_urls_in_order(server: DevServer) -> None:
    a, b = payload(3 * MiB, seed=5), payload(2 * MiB + 1, seed=6)
    ua, ub = server.add("a.bin", a), server.add("b.bin", b)
    got = run(stream_digest([ua, ub], threads=4))
    assert [(g[0], g[1]) for g in got] == [("a.bin", sha256(a)), ("b.bin", sha256(b))]


def test_memory_window_is_never_exceeded_with_a_slow_reader(server: DevServer) -> None:
    data = payload(24 * MiB, seed=7)
    url = server.add("w.bin", data)
    buffer = 4 * MiB

    async def go() -> tuple[str, int]:
        opts = DownloadOptions(threads=8, buffer=buffer, chunk_size=256 * 1024, **FAST)  # type: ignore[arg-type]
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            h = hashlib.sha256()
            peak = 0
            async for block in stream_blocks(dl):
                for piece in block:
                    h.update(piece)
                assert dl.planner is not None
                # everything requested lies within [consumed, consumed + buffer)
                for a in dl.planner.active:
                    assert a.end <= dl.planner.done.prefix_end(0) + buffer + 1
                await asyncio.sleep(0)  # a slow reader: yield to the downloaders
                peak = max(peak, _held(dl))
            return h.hexdigest(), peak

    digest, peak = run(go())
    assert digest == sha256(data)
    assert peak <= buffer


def _held(dl: Download) -> int:
    transfer = dl.transfer
    if transfer is None:
        return 0
    sink = transfer.sink
    return getattr(getattr(sink, "reorderer", None), "held", 0)


def test_change_mid_stream_is_an_error_not_a_splice(server: DevServer) -> None:
    data = payload(6 * MiB, seed=8)
    url = server.add("c.bin", data, Faults(change_after=3))
    received = bytearray()

    async def go() -> None:
        async with HydraClient(threads=4, chunk_size=512 * 1024, **FAST) as client:  # type: ignore[arg-type]
            async for _name, chunks in client.stream([url]):
                async for chunk in chunks:
                    received.extend(chunk)

    with pytest.raises(RemoteChangedError):
        run(go())
    # what was delivered is a true prefix of the first version, never mixed
    assert bytes(received) == data[: len(received)]


def test_stream_checksum_mismatch(server: DevServer) -> None:
    url = server.add("k.bin", payload(MiB, seed=9))

    async def go() -> None:
        async with HydraClient(threads=2, **FAST) as client:  # type: ignore[arg-type]
            async for _name, chunks in client.stream([url], sha256="0" * 64):
                async for _ in chunks:
                    pass

    with pytest.raises(ChecksumMismatch):
        run(go())


def test_breaking_out_closes_connections(server: DevServer) -> None:
    data = payload(16 * MiB, seed=10)
    url = server.add("b.bin", data, Faults(rate=4 * MiB))

    async def go() -> bytes:
        got = b""
        async with HydraClient(threads=8, **FAST) as client:  # type: ignore[arg-type]
            async for _name, chunks in client.stream([url]):
                async for chunk in chunks:
                    got += chunk
                    if len(got) > 100_000:
                        break
                break
        return got

    got = run(go())
    assert data.startswith(got)
    # the client closed every socket it opened: the server sees none left
    deadline = 200
    while server.open_connections and deadline:
        import time

        time.sleep(0.01)  # waiting for the server thread to notice closed sockets
        deadline -= 1
    assert server.open_connections == 0


def test_two_clients_in_one_process(server: DevServer) -> None:
    a, b = payload(4 * MiB, seed=11), payload(4 * MiB, seed=12)
    ua, ub = server.add("a.bin", a), server.add("b.bin", b)

    async def go() -> list[list[tuple[str, str, int]]]:
        return list(
            await asyncio.gather(stream_digest([ua], threads=4), stream_digest([ub], threads=4))
        )

    ra, rb = run(go())
    assert ra[0][1] == sha256(a)
    assert rb[0][1] == sha256(b)


def test_one_slow_connection_does_not_drag_the_stream(server: DevServer) -> None:
    # 8 × 4 MiB/s; every 7th body crawls at 256 KiB/s: alone, one 2 MiB chunk on that
    # connection would take 8 s; the stream must not wait behind it
    data = payload(32 * MiB, seed=13)
    url = server.add("hol.bin", data, Faults(rate=4 * MiB, slow_every=7, slow_rate=256 * 1024))

    async def go() -> tuple[str, float, int]:
        opts = DownloadOptions(threads=8, buffer=16 * MiB, chunk_size=2 * MiB, **FAST)  # type: ignore[arg-type]
        async with EngineContext(opts, resume=False) as ctx:
            dl = Download(ctx, url, opts)
            h = hashlib.sha256()
            t0 = ctx.clock()
            async for block in stream_blocks(dl):
                for piece in block:
                    h.update(piece)
            return h.hexdigest(), ctx.clock() - t0, server.stats("hol.bin").bodies

    digest, elapsed, bodies = run(go())
    assert digest == sha256(data)
    assert bodies >= 8  # slow bodies really happened (every 7th)
    assert elapsed < 5.0, f"stream took {elapsed:.1f}s"
