"""Files that fit in the probe's answer: the lean probe reader, no resume store, and a
group commit that fdatasyncs before it publishes. Every file is checked by sha256."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sqlite3
from pathlib import Path

import pytest

from hydra_tui.cli.disk_run import run_disk
from hydra_tui.cli.progress import Progress
from hydra_tui.devserver import DevServer
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.http.probe import PROBE_BYTES
from hydra_tui.engine.io.commit import GroupCommit, Staged
from hydra_tui.engine.io.partfile import OutputFolder, PartFile, claim_part
from hydra_tui.engine.io.sinks import DiskSink
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.plan.ranges import RangeSet
from hydra_tui.errors import ChecksumMismatch, LocalIOError
from tests.support.helpers import file_sha256, payload, run, sha256

SIZES = [0, 1, 1000, 65536, PROBE_BYTES - 1, PROBE_BYTES]


def _options(out: Path, **kw: object) -> DownloadOptions:
    base: dict[str, object] = {"output_dir": out, "threads": 1, "retries": 2}
    base.update(kw)
    return DownloadOptions(**base)  # type: ignore[arg-type]


def _store_rows(state: Path) -> int:
    with sqlite3.connect(state / "resume.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM downloads").fetchone()[0])


def test_many_small_files_in_one_run(server: DevServer, out_dir: Path, tmp_path: Path) -> None:
    files = {f"s{i:03d}.bin": payload(SIZES[i % len(SIZES)] + i, seed=i) for i in range(96)}
    urls = [server.add(name, data) for name, data in files.items()]
    state = tmp_path / "state"
    err = io.StringIO()
    status = run(
        run_disk(urls, _options(out_dir), jobs=8, progress=Progress(), err=err, state_dir=state)
    )
    assert status == 0, err.getvalue()
    for name, data in files.items():
        assert file_sha256(out_dir / name) == sha256(data), name
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(files)  # no .part left
    assert _store_rows(state) == 0  # nothing was ever resumable: the store was not used
    # the probes ran on kept-alive connections, not one per file
    connections = {r.connection for r in server.requests}
    assert len(connections) <= 8 + 2


def test_small_file_checksum_mismatch_keeps_the_part(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    data = payload(5000, seed=31)
    url = server.add("sum.bin", data)

    async def go(digest: str) -> None:
        opts = _options(out_dir, sha256=digest)
        async with EngineContext(opts, state_dir=tmp_path / "state") as ctx:
            await download_to_disk(Download(ctx, url, opts))

    with pytest.raises(ChecksumMismatch):
        run(go("0" * 64))
    assert not (out_dir / "sum.bin").exists()
    assert file_sha256(out_dir / "sum.bin.part") == sha256(data)
    run(go(sha256(data)))
    assert file_sha256(out_dir / "sum.bin") == sha256(data)
    assert not (out_dir / "sum.bin.part").exists()


def test_a_stale_record_of_a_small_file_is_forgotten(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    data = payload(3000, seed=32)
    url = server.add("old.bin", data)
    part = out_dir / "old.bin.part"
    left = _claim(out_dir, "old.bin")  # what an interrupted run left: marked as ours
    os.write(left.fd, b"x" * 10)
    identity = left.identity
    left.close()
    state = tmp_path / "state"

    async def go() -> None:
        opts = _options(out_dir)
        async with EngineContext(opts, state_dir=state) as ctx:
            assert ctx.store is not None
            ctx.store.save(
                part, url=url, size=3000, etag='"old"', last_modified=None,
                durable=RangeSet([(0, 10)]), identity=identity,
            )  # fmt: skip
            await download_to_disk(Download(ctx, url, opts))

    run(go())
    assert file_sha256(out_dir / "old.bin") == sha256(data)
    assert not part.exists()
    assert _store_rows(state) == 0


def _claim(folder: Path, name: str) -> PartFile:
    pf = claim_part(OutputFolder(folder), name, None)
    assert pf is not None
    return pf


def _stage(folder: Path, name: str, data: bytes, executor: object) -> Staged:
    pf = _claim(folder, name)
    sink = DiskSink(pf, executor)  # type: ignore[arg-type]
    sink.write_now(0, [data])
    return Staged(sink, pf.path, pf.final)


def test_group_commit_syncs_every_file_before_publishing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    synced: dict[int, bool] = {}
    real_fdatasync = os.fdatasync

    def fdatasync(fd: int) -> None:
        real_fdatasync(fd)
        synced[fd] = True

    def link(src: str, dst: str, **kw: object) -> None:
        fd = names[Path(dst).name]
        assert synced.get(fd), f"{dst} published before its fdatasync"
        real_link(src, dst, **kw)  # type: ignore[arg-type]

    real_link = os.link
    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(os, "link", link)
    blobs = {f"f{i}": payload(1000 + i, seed=i) for i in range(40)}
    names: dict[str, int] = {}

    async def go() -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            gc = GroupCommit(pool)
            staged = []
            for name, data in blobs.items():
                s = _stage(tmp_path, name, data, pool)
                names[name] = s.sink.fd
                staged.append(s)
            await asyncio.gather(*(gc.commit(s) for s in staged))

    run(go())
    for name, data in blobs.items():
        assert file_sha256(tmp_path / name) == sha256(data)
        assert not (tmp_path / f"{name}.part").exists()


def test_a_taken_final_name_fails_only_its_own_file(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    async def go() -> list[BaseException | None]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            gc = GroupCommit(pool)
            staged = [_stage(tmp_path, f"g{i}", payload(100, seed=i), pool) for i in range(3)]
            (tmp_path / "g1").write_bytes(b"precious")
            results = await asyncio.gather(*(gc.commit(s) for s in staged), return_exceptions=True)
            return list(results)  # type: ignore[arg-type]

    results = run(go())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], LocalIOError)
    assert (tmp_path / "g1").read_bytes() == b"precious"
    assert file_sha256(tmp_path / "g1.part") == sha256(payload(100, seed=1))
    assert file_sha256(tmp_path / "g0") == sha256(payload(100, seed=0))


async def _closing_server(
    body: bytes,
) -> tuple[asyncio.Server, list[int], list[asyncio.StreamWriter]]:
    """Answers the first request of each connection and keeps it open; a second
    request on it is read and the connection closed unanswered, as a server does whose
    keep-alive timeout ran out just as the request was sent."""
    served: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"\r\nrange: bytes=0-" in head.lower()
        served.append(1)
        writer.write(
            b"HTTP/1.1 206 Partial Content\r\n"
            + f"Content-Range: bytes 0-{len(body) - 1}/{len(body)}\r\n".encode()
            + f'Content-Length: {len(body)}\r\nETag: "e"\r\n\r\n'.encode()
            + body
        )
        await writer.drain()
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, served, writers


def test_a_keep_alive_connection_closed_by_the_server_is_redialled(
    out_dir: Path, tmp_path: Path
) -> None:
    body = payload(4000, seed=33)

    async def go() -> list[int]:
        server, served, writers = await _closing_server(body)
        port = server.sockets[0].getsockname()[1]
        retries = []
        opts = _options(out_dir, retries=0)
        async with server:
            async with EngineContext(opts, state_dir=tmp_path / "state") as ctx:
                for i in range(4):
                    dl = Download(ctx, f"http://127.0.0.1:{port}/k{i}.bin", opts)
                    await download_to_disk(dl)
                    retries.append(dl.retries)
            for writer in writers:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
        assert len(served) == 4
        return retries

    assert run(go()) == [0, 0, 0, 0]
    for i in range(4):
        assert file_sha256(out_dir / f"k{i}.bin") == sha256(body)


def test_a_commit_after_the_engine_closed_keeps_the_part(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    staged = _stage(tmp_path, "late", payload(100, seed=7), pool)
    pool.shutdown()

    async def go() -> None:
        await GroupCommit(pool).commit(staged)

    with pytest.raises(LocalIOError, match="kept"):
        run(go())
    assert staged.sink.closed
    assert not (tmp_path / "late").exists()
    assert file_sha256(tmp_path / "late.part") == sha256(payload(100, seed=7))
