"""Servers that cap connections per client (issue 18), on loopback with real sockets.

The devserver serves K bodies at once and refuses the rest with each server model: 503
with Retry-After in seconds or as an HTTP date, 503 alone, 429 with Retry-After. The
engine must learn K, stop knocking, and keep the K connections busy. Assertions are on
counts and events (refusals, learned limit, gate admissions), never on wall-clock speed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.devserver.faults import RetryAfter
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import WindowEvent
from tests.support.helpers import file_sha256, payload, run, sha256

MiB = 1024 * 1024
#: per-connection rate: K connections make K MiB/s (small: two cores, six helpers)
RATE = MiB
MODELS: dict[str, tuple[int, RetryAfter]] = {
    "503-seconds": (503, 1),
    "503-date": (503, "date"),
    "503-bare": (503, None),
    "429-seconds": (429, 1),
}


def options(out: Path, **kw: object) -> DownloadOptions:
    base: dict[str, object] = {"backoff_base": 0.05, "backoff_max": 0.5, "chunk_size": MiB // 2}
    return DownloadOptions(output_dir=out, **{**base, **kw})  # type: ignore[arg-type]


def download(urls: Sequence[str], out: Path, **kw: object) -> list[Download]:
    """Download ``urls`` one after another through one engine context (one process)."""
    opts = options(out, **kw)

    async def go() -> list[Download]:
        async with EngineContext(opts, state_dir=out / ".state") as ctx:
            done = []
            for url in urls:
                dl = Download(ctx, url, opts)
                await download_to_disk(dl)
                done.append(dl)
            return done

    return run(go())


def learned(events: Sequence[WindowEvent]) -> list[str]:
    return [e.detail for e in events if e.kind == "limit"]


def refusal_times(server: DevServer, path: str, code: int) -> list[float]:
    return [r.time for r in server.requests if r.path == path and r.status == code]


@pytest.mark.parametrize("k", [1, 2, 4, 8])
@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("threads", ["16", "auto"])
def test_learns_the_connection_limit(
    server: DevServer, out_dir: Path, model: str, k: int, threads: str
) -> None:
    code, retry_after = MODELS[model]
    auto = threads == "auto"
    # 2.5 s: -t auto's slow start must pass K in its first half second (doubling once
    # per second did not, at K = 8)
    data = payload(int(k * RATE * 2.5), seed=k)
    faults = Faults(rate=RATE, max_bodies=k, status_code=code, retry_after=retry_after)
    url = server.add("cap.bin", data, faults)
    (dl,) = download([url], out_dir, threads=16, auto_threads=auto)
    assert file_sha256(out_dir / "cap.bin") == sha256(data)
    snap = dl.snapshot()
    assert snap.limit == k, learned(snap.events)
    assert learned(snap.events)[-1].startswith(f"learned: {k}")
    # the climb at start-up (a refusal while most connections still connect) is told
    # once, when it held: the first limit the user sees is K
    assert learned(snap.events)[0] == f"learned: {k}", learned(snap.events)
    stats = server.stats("cap.bin")
    assert stats.max_concurrent_bodies == k
    # once learned, the limit holds: no knocking every second (the first probe is 10 s on)
    ctl = dl.gate.controller
    first = next(e for e in ctl.events if e.kind == "limit")
    after = [
        t for t in refusal_times(server, "/cap.bin", code) if t > ctl.started_at + first.t + 0.5
    ]
    assert len(after) <= 1, f"{len(after)} refusals after the limit was learned"
    # refusals over the limit are not failures: nothing near the retry budget
    assert stats.statuses[code] < 40


def test_a_second_download_starts_at_the_learned_limit(server: DevServer, out_dir: Path) -> None:
    data = payload(3 * MiB, seed=21)
    first = server.add("a.bin", data, Faults(rate=RATE, max_bodies=2, retry_after=1))
    second = server.add("b.bin", data, Faults(rate=RATE, max_bodies=2, retry_after=1))
    a, b = download([first, second], out_dir, threads=8)
    assert file_sha256(out_dir / "a.bin") == file_sha256(out_dir / "b.bin") == sha256(data)
    assert server.stats("a.bin").statuses[503] >= 1  # the first one learned it
    assert server.stats("b.bin").statuses[503] == 0  # the second never knocked
    assert a.gate is b.gate and b.snapshot().limit == 2


def test_two_downloads_share_the_limit_and_both_progress(server: DevServer, out_dir: Path) -> None:
    data = payload(4 * MiB, seed=22)
    url = server.add("s.bin", data, Faults(rate=RATE, max_bodies=4, retry_after=1))
    opts = options(out_dir, threads=8)

    async def go() -> list[Download]:
        async with EngineContext(opts, state_dir=out_dir / ".state") as ctx:
            dls = [
                Download(ctx, f"{url}?d={n}", dataclasses.replace(opts, filename=f"{n}.bin"))
                for n in (1, 2)
            ]
            await asyncio.gather(*(download_to_disk(d) for d in dls))
            return dls

    dls = run(go())
    for n in (1, 2):
        assert file_sha256(out_dir / f"{n}.bin") == sha256(data)
    assert server.stats("s.bin").max_concurrent_bodies == 4
    assert dls[0].gate is dls[1].gate and dls[0].gate.controller.limit == 4
    # slots kept between chunks never starve the other download: their bodies interleave
    spans = []
    for n in (1, 2):
        times = [r.time for r in server.requests if r.query == f"d={n}" and r.status == 206]
        spans.append((min(times), max(times)))
    assert max(s[0] for s in spans) < min(s[1] for s in spans), spans


def test_workers_keep_their_slot_between_chunks(server: DevServer, out_dir: Path) -> None:
    data = payload(16 * MiB, seed=23)
    url = server.add("k.bin", data, Faults(rate=4 * MiB))
    (dl,) = download([url], out_dir, threads=4, chunk_size=256 * 1024)
    assert file_sha256(out_dir / "k.bin") == sha256(data)
    ranges = [r for r in server.requests if r.path == "/k.bin" and r.status == 206]
    assert len(ranges) >= 64
    # the probe, four workers that each keep their slot chunk after chunk, and a few
    # trips at the end, when workers find nothing left and wait for a steal
    assert dl.gate.admitted < 16, f"{dl.gate.admitted} trips through the gate"
    assert len({r.connection for r in ranges}) <= 5
