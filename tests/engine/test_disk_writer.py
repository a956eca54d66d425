"""One writer thread per file: the ranges of a file are written by one thread, never by
the shared I/O pool's several (which spin on the file's inode lock), and the thread is
gone once the file is closed."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

from hydra_tui.cli.disk_run import run_disk
from hydra_tui.cli.progress import Progress
from hydra_tui.devserver import DevServer
from hydra_tui.engine.options import DownloadOptions
from tests.support.helpers import file_sha256, payload, run, sha256


def test_each_file_is_written_by_one_thread_of_its_own(
    server: DevServer, out_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"w{i}.bin": payload(6 * 1024 * 1024 + i, seed=40 + i) for i in range(2)}
    urls = [server.add(name, data) for name, data in files.items()]
    writers: dict[int, set[str]] = {}  # by inode: direct writes use a descriptor of their own
    real_pwritev, real_pwrite = os.pwritev, os.pwrite

    def pwritev(fd: int, buffers: list[memoryview], offset: int, /) -> int:
        writers.setdefault(os.fstat(fd).st_ino, set()).add(threading.current_thread().name)
        return real_pwritev(fd, buffers, offset)

    def pwrite(fd: int, data: memoryview, offset: int, /) -> int:
        writers.setdefault(os.fstat(fd).st_ino, set()).add(threading.current_thread().name)
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwritev", pwritev)
    monkeypatch.setattr(os, "pwrite", pwrite)
    opts = DownloadOptions(output_dir=out_dir, threads=8, chunk_size=512 * 1024)
    err = io.StringIO()
    status = run(
        run_disk(urls, opts, jobs=2, progress=Progress(), err=err, state_dir=tmp_path / "s")
    )
    assert status == 0, err.getvalue()
    for name, data in files.items():
        assert file_sha256(out_dir / name) == sha256(data), name
    ranged = [names for names in writers.values() if any("hydra-write" in n for n in names)]
    assert len(ranged) == 2, writers  # both files were written at offsets, each by ...
    for names in ranged:
        # ... one thread, not the pool's several (the probe's head is written inline,
        # on the event loop's thread, before any range)
        assert len(names - {"MainThread"}) == 1, names
    assert not [t for t in threading.enumerate() if t.name.startswith("hydra-write")]
