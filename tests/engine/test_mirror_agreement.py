"""``--mirror`` sources that disagree on Last-Modified, and push-back that stays on the
host that sent it: each mirror has its own AIMD window (``engine/mirrors/``), so a
mirror answering 503 does not shrink the first URL's window, which the engine
publishes (the jsonl ``window`` and ``progress`` lines)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024
#: 2023-11-14 22:13:20 UTC and a day later: two versions' dates, both long past
OLD, NEWER = 1_700_000_000, 1_700_086_400


@pytest.fixture
def hosts() -> Iterator[tuple[DevServer, DevServer, DevServer]]:
    with DevServer() as a, DevServer() as b, DevServer() as c:
        yield a, b, c


def _file(path: Path, data: bytes, mtime: int) -> Path:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def _events(stderr: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines()]


def test_mirror_with_another_last_modified_is_dropped(
    hosts: tuple[DevServer, DevServer, DevServer], out_dir: Path, tmp_path: Path
) -> None:
    a, b, c = hosts
    data = payload(6 * MiB + 5, seed=1)
    same, other = _file(tmp_path / "same", data, OLD), _file(tmp_path / "other", data, NEWER)
    ua = a.add_file("f.iso", same, Faults(rate=4 * MiB))
    ub = b.add_file("f.iso", other)  # the same bytes, but it says another version
    uc = c.add_file("f.iso", same, Faults(rate=4 * MiB))
    proc = cli(ua, "--mirror", ub, "--mirror", uc, "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    warned = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert len(warned) == 1, proc.stderr
    assert ub.encode() in warned[0] and b"Last-Modified" in warned[0]
    assert b.stats("f.iso").requests == 1  # its probe, nothing after it
    assert c.stats("f.iso").bytes_sent > MiB  # the agreeing mirror carried its share


def test_a_mirrors_push_back_leaves_the_first_urls_window_alone(
    hosts: tuple[DevServer, DevServer, DevServer], out_dir: Path
) -> None:
    """B serves one body at a time and answers 503 above that: B's window learns it,
    the first URL's (published) window stays at -t and A keeps four bodies going."""
    a, b, _ = hosts
    data = payload(12 * MiB, seed=2)
    ua = a.add("f.iso", data, Faults(rate=MiB))
    ub = b.add("f.iso", data, Faults(rate=MiB, max_bodies=1, status_code=503))
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "-t", "4",
               "--progress=jsonl")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert b.stats("f.iso").statuses[503] >= 1  # B did push back
    events = _events(proc.stderr)
    kinds = [e["kind"] for e in events if e["event"] == "window"]
    assert not {"503", "429", "limit", "retry-after"} & set(kinds), kinds
    progress = [e for e in events if e["event"] == "progress" and e["state"] == "downloading"]
    assert progress, proc.stderr
    assert {e["window"] for e in progress} == {4}, [e["window"] for e in progress]
    assert all(e["limit"] is None for e in progress)
    assert a.stats("f.iso").max_concurrent_bodies == 4
    (done,) = [e for e in events if e["event"] == "done"]
    first, second = done["mirrors"]
    assert first["dropped"] is None and second["dropped"] is None  # push-back is no lie
    assert second["received"] > 0


def test_the_first_urls_push_back_is_published_and_the_mirror_keeps_its_pace(
    hosts: tuple[DevServer, DevServer, DevServer], out_dir: Path
) -> None:
    """The converse, which shows the check above can fail: A's own 503s shrink the
    published window, while B, untouched, serves four bodies at once."""
    a, b, _ = hosts
    data = payload(12 * MiB, seed=3)
    ua = a.add("f.iso", data, Faults(rate=MiB, max_bodies=1, status_code=503))
    ub = b.add("f.iso", data, Faults(rate=MiB))
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "-t", "4",
               "--progress=jsonl")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    events = _events(proc.stderr)
    shrunk = [e for e in events if e["event"] == "window" and e["after"] < e["before"]]
    assert shrunk, [e for e in events if e["event"] == "window"]
    assert b.stats("f.iso").statuses[503] == 0
    assert b.stats("f.iso").max_concurrent_bodies == 4
    (done,) = [e for e in events if e["event"] == "done"]
    assert done["mirrors"][1]["received"] > done["mirrors"][0]["received"]
