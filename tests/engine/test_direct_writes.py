"""Whole pages written around the page cache (``engine/io/direct_io.py``): whatever the
offsets, lengths and pieces, the file holds exactly the bytes written; a refused or a
slow direct write sends the file back to the cache without losing a byte."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydra_tui.cli.disk_run import run_disk
from hydra_tui.cli.progress import Progress
from hydra_tui.devserver import DevServer
from hydra_tui.engine.io import direct_io
from hydra_tui.engine.io.direct_io import DirectWriter, aligned_block, slice_views
from hydra_tui.engine.io.partfile import OutputFolder, claim_part
from hydra_tui.engine.io.sinks import DiskSink
from hydra_tui.engine.options import DownloadOptions
from tests.support.helpers import file_sha256, payload, run, sha256

SIZE = 3 * 1024 * 1024 + 777
DATA = payload(SIZE, seed=71)
needs_direct = pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="no O_DIRECT here")


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def _write_all(
    folder: Path, writes: list[tuple[int, int, int]], executor: ThreadPoolExecutor
) -> DiskSink:
    """Write ``DATA[start:end]`` for each ``(start, end, cut)`` through a DiskSink, in
    two pieces split at ``cut`` (``cut == start``: one aligned block); return the
    (closed) sink."""
    pf = claim_part(OutputFolder(folder), "f.bin", None)
    assert pf is not None
    sink = DiskSink(pf, executor)

    async def go() -> None:
        for start, end, cut in writes:
            if cut == start:  # one block placed for its offset, as the range reader's
                block = aligned_block(end - start, start)
                block[:] = DATA[start:end]
                await sink.write(start, [block])
            else:
                await sink.write(start, [DATA[start:cut], bytearray(DATA[cut:end])])

    try:
        asyncio.run(go())
    finally:
        sink.close()
    return sink


def _bounds(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    """A cover of ``[0, SIZE)`` by ranges at random (often unaligned) places, shuffled."""
    cuts = sorted(set(draw(st.lists(st.integers(1, SIZE - 1), max_size=12))))
    edges = [0, *cuts, SIZE]
    spans = [
        (a, b, draw(st.one_of(st.just(a), st.integers(a, b)))) for a, b in itertools.pairwise(edges)
    ]
    return draw(st.permutations(spans))


@needs_direct
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_cover_of_the_file_writes_exactly_its_bytes(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory, executor: ThreadPoolExecutor
) -> None:
    folder = tmp_path_factory.mktemp("w")
    writes = data.draw(st.composite(_bounds)())
    sink = _write_all(folder, writes, executor)
    assert file_sha256(folder / "f.bin.part") == sha256(DATA)
    assert sink.direct_bytes % direct_io.ALIGN == 0


@given(size=st.integers(1, 3 * direct_io.ALIGN), phase=st.integers(0, 10**12))
def test_an_aligned_block_sits_at_its_phase(size: int, phase: int) -> None:
    block = aligned_block(size, phase)
    assert len(block) == size and not any(block)
    assert direct_io._address(block) % direct_io.ALIGN == phase % direct_io.ALIGN  # type: ignore[operator]


@needs_direct
def test_large_writes_go_around_the_cache(tmp_path: Path, executor: ThreadPoolExecutor) -> None:
    writes = [(0, SIZE // 2, 1000), (SIZE // 2, SIZE, SIZE // 2), (SIZE // 2, SIZE, SIZE - 9)]
    sink = _write_all(tmp_path, writes, executor)
    assert file_sha256(tmp_path / "f.bin.part") == sha256(DATA)
    # all but the unaligned edges went direct (this filesystem takes O_DIRECT)
    assert sink.direct_bytes > SIZE - 3 * direct_io.ALIGN


@needs_direct
def test_a_refused_direct_write_falls_back_to_the_cache(
    tmp_path: Path, executor: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pages of 1000 bytes: the kernel refuses such unaligned direct writes (EINVAL)
    monkeypatch.setattr(direct_io, "ALIGN", 1000)
    monkeypatch.setattr(direct_io, "MIN_DIRECT", 1000)
    writes = [(1, SIZE // 3, 2), (SIZE // 3, SIZE, SIZE // 2), (0, 1, 1)]
    sink = _write_all(tmp_path, writes, executor)
    assert file_sha256(tmp_path / "f.bin.part") == sha256(DATA)
    assert sink.direct_bytes == 0
    assert sink._direct.why == "a direct write was refused or cut short"


def test_a_descriptor_that_cannot_be_reopened_direct_is_written_cached() -> None:
    a, b = socket.socketpair()
    with a, b:
        writer = DirectWriter(a.fileno())
        view = memoryview(bytes(256 * 1024))
        assert writer.write([view], 0, len(view)) == (0, 0)
        assert not writer.enabled
        assert writer.why.startswith("the filesystem refuses O_DIRECT")


@needs_direct
def test_a_slow_device_goes_back_to_the_cache(
    tmp_path: Path, executor: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(direct_io, "MIN_RATE", 1e15)  # no device is this fast
    monkeypatch.setattr(direct_io, "JUDGE_BYTES", 1024 * 1024)
    step = 512 * 1024
    writes = [(s, min(s + step, SIZE), s) for s in range(0, SIZE, step)]
    sink = _write_all(tmp_path, writes, executor)
    assert file_sha256(tmp_path / "f.bin.part") == sha256(DATA)
    # the first MiB went direct, then the judgement sent the rest to the cache
    assert sink.direct_bytes == 1024 * 1024
    assert "MiB/s" in sink._direct.why


@needs_direct
def test_a_download_goes_around_the_cache_and_says_so(
    server: DevServer, out_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = payload(8 * 1024 * 1024 + 3, seed=72)
    url = server.add("d.bin", data)
    opts = DownloadOptions(output_dir=out_dir, threads=4, chunk_size=1024 * 1024)
    caplog.set_level("DEBUG", logger="hydra_tui")
    err = io.StringIO()
    status = run(run_disk([url], opts, jobs=1, progress=Progress(), err=err, state_dir=tmp_path))
    assert status == 0, err.getvalue()
    assert file_sha256(out_dir / "d.bin") == sha256(data)
    said = [r.getMessage() for r in caplog.records if "around the page cache" in r.getMessage()]
    # the probe's first bytes are written inline (cached); every range after it direct
    assert said and said[0].endswith("7.8 MiB of 7.8 MiB written around the page cache"), said


@given(
    sizes=st.lists(st.integers(0, 50), max_size=6),
    skip=st.integers(0, 300),
    n=st.integers(0, 300),
)
def test_slice_views_is_a_slice_of_the_concatenation(sizes: list[int], skip: int, n: int) -> None:
    blob = bytes(range(256)) * 2
    views, at = [], 0
    for size in sizes:
        views.append(memoryview(blob[at : at + size]))
        at += size
    whole = b"".join(views)
    assert b"".join(slice_views(views, skip, n)) == whole[skip : skip + n]
