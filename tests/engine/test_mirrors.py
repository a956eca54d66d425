"""``--mirror``: several loopback servers (several hosts) serve one file; mirrors that
disagree, lie, die or crawl are dropped or outrun, and the file is right to the byte."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.devserver.content import synthetic_bytes
from hydra_tui.engine.http.renew import MAX_FRUITLESS
from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024


@pytest.fixture
def hosts() -> Iterator[tuple[DevServer, DevServer, DevServer]]:
    with DevServer() as a, DevServer() as b, DevServer() as c:
        yield a, b, c


def _body_bytes(srv: DevServer, name: str) -> int:
    """Bytes of range bodies past the probe (256 KiB) a server sent."""
    return srv.stats(name).bytes_sent


def test_two_mirrors_share_the_work(hosts: tuple[DevServer, ...], out_dir: Path) -> None:
    a, b, c = hosts
    data = payload(12 * MiB + 7, seed=1)
    urls = [s.add("f.iso", data, Faults(rate=4 * MiB)) for s in (a, b, c)]
    proc = cli(urls[0], "--mirror", urls[1], "--mirror", urls[2], "-o", str(out_dir),
               "--no-ui", "-t", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    sent = [_body_bytes(s, "f.iso") for s in (a, b, c)]
    # each mirror carried a real share (not only its probe)
    assert all(n > 2 * MiB for n in sent), sent


def test_each_mirror_is_sampled_by_the_download_ticker(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    a, b, _ = hosts
    data = payload(4 * MiB, seed=9)
    ua, ub = (s.add("f.iso", data, Faults(rate=MiB)) for s in (a, b))
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "-t", "2",
               "--progress", "jsonl")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    events = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith(b"{")]
    done = next(e for e in events if e["event"] == "done")
    # the one sampling ticker of the download also measures each mirror (no ticker of
    # their own): both carried bytes, and both show a speed over the last seconds
    assert [m["received"] > MiB for m in done["mirrors"]] == [True, True], done["mirrors"]
    assert all(m["speed"] > 0 for m in done["mirrors"]), done["mirrors"]


def test_mirror_with_another_size_is_dropped(hosts: tuple[DevServer, ...], out_dir: Path) -> None:
    a, b, _ = hosts
    data = payload(6 * MiB, seed=2)
    ua = a.add("f.iso", data)
    ub = b.add("f.iso", data + b"x")
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    lines = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert len(lines) == 1 and b"size 6291457 differs from 6291456" in lines[0]
    assert b.stats("f.iso").requests == 1  # the probe, nothing after it


def test_mirror_serving_other_bytes_is_dropped_at_the_probe(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    a, b, _ = hosts
    data = payload(6 * MiB, seed=3)
    ua = a.add("f.iso", data, Faults(rate=8 * MiB))
    ub = b.add("f.iso", data, Faults(lie="flip"))  # every byte wrong, headers honest
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert b"first 16384 bytes differ" in proc.stderr
    assert b.stats("f.iso").requests == 1


def test_mirror_that_lies_later_is_caught_by_the_checksum(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    """Without piece hashes, a mirror lying after an honest probe cannot be caught at
    the piece: the whole-file digest catches it (exit 3, the .part kept)."""
    a, b, _ = hosts
    data = payload(6 * MiB, seed=4)
    ua = a.add("f.iso", data, Faults(rate=4 * MiB))
    ub = b.add("f.iso", data, Faults(lie="flip", lie_after=1))
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "-q", "-t", "2",
               "--sha256", sha256(data))  # fmt: skip
    assert proc.returncode == 3
    assert b"sha256 mismatch" in proc.stderr
    assert not (out_dir / "f.iso").exists()
    assert (out_dir / "f.iso.part").stat().st_size == len(data)


def test_mirror_answering_404_or_bad_ranges_is_dropped(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    a, b, c = hosts
    data = payload(8 * MiB, seed=5)
    ua = a.add("f.iso", data, Faults(rate=4 * MiB))
    ub = b.add("f.iso", data, Faults(range_200_after=1))  # whole file to a range
    uc = c.add("f.iso", data, Faults(lie="total", lie_after=1))  # wrong Content-Range
    proc = cli(ua, "--mirror", ub, "--mirror", uc, "--mirror", a.url("gone.iso"),
               "-o", str(out_dir), "--no-ui", "-t", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    dropped = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert any(b"gone.iso" in line and b"404" in line for line in dropped), dropped
    assert any(b"Content-Range" in line for line in dropped), dropped
    assert any(b"whole file" in line for line in dropped), dropped


def test_a_mirror_that_only_pushes_back_is_dropped_after_its_retries(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    a, b, _ = hosts
    data = payload(8 * MiB, seed=11)
    ua = a.add("f.iso", data, Faults(rate=4 * MiB))
    # b answers its probe, then 429 to every range, on one connection (not a cap)
    ub = b.add("f.iso", data, Faults(status_after=1, status_code=429))
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "-t", "1",
               "--retries", "2", "--progress", "jsonl")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    # the one retry rule: its push-back went to b's own window, and after --retries
    # tries in a row b was dropped (it does not knock for the rest of the download)
    events = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith(b"{")]
    warned = [e["message"] for e in events if e["event"] == "warning"]
    assert len(warned) == 1 and "dropped: HTTP 429" in warned[0], warned
    done = next(e for e in events if e["event"] == "done")
    assert done["mirrors"][1]["dropped"] == "HTTP 429 (server busy)", done["mirrors"]
    assert b.stats("f.iso").statuses[429] == 3, b.stats("f.iso").statuses


def test_mirror_that_dies_mid_download(hosts: tuple[DevServer, ...], out_dir: Path) -> None:
    a, b, _ = hosts
    data = payload(16 * MiB, seed=6)
    ua = a.add("f.iso", data, Faults(rate=2 * MiB))
    ub = b.add("f.iso", data, Faults(rate=2 * MiB))
    args = [sys.executable, "-m", "hydra_tui", ua, "--mirror", ub, "-o", str(out_dir),
            "--no-ui", "-t", "2", "--retries", "2", "--progress=jsonl"]  # fmt: skip
    died = False
    lines = []
    with subprocess.Popen(args, stderr=subprocess.PIPE, env=os.environ.copy()) as proc:
        assert proc.stderr is not None
        for raw in proc.stderr:  # a progress line each second: b dies once it served some
            lines.append(raw)
            if not died and b.stats("f.iso").bytes_sent > 3 * MiB:
                b.stop()
                died = True
        assert proc.wait(timeout=90) == 0, b"".join(lines)
    assert died
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    events = [json.loads(line) for line in lines]
    warned = [e["message"] for e in events if e["event"] == "warning"]
    assert any(ub in w and "dropped" in w for w in warned), warned
    (done,) = [e for e in events if e["event"] == "done"]
    first, second = done["mirrors"]
    assert (first["url"], second["url"]) == (ua, ub)
    assert first["dropped"] is None and second["dropped"] is not None
    assert first["received"] + second["received"] >= len(data)
    assert any("mirrors" in e for e in events if e["event"] == "progress")


def test_mirror_ten_times_slower_gets_less(hosts: tuple[DevServer, ...], out_dir: Path) -> None:
    a, b, c = hosts
    data = payload(16 * MiB, seed=7)
    ua = a.add("f.iso", data, Faults(rate=4 * MiB))
    ub = b.add("f.iso", data, Faults(rate=4 * MiB))
    uc = c.add("f.iso", data, Faults(rate=400 * 1024))
    proc = cli(ua, "--mirror", ub, "--mirror", uc, "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    fast = min(_body_bytes(a, "f.iso"), _body_bytes(b, "f.iso"))
    assert _body_bytes(c, "f.iso") < fast / 2  # ~1/10 of a fast one, with room for load


def test_mirror_needs_one_url_and_no_stream(server: DevServer) -> None:
    u = server.add("f.iso", b"x" * 10)
    proc = cli(u, u + "?b=1", "--mirror", u, "--no-ui")
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1 and b"--mirror" in proc.stderr
    proc = cli("-s", u, "--mirror", u)
    assert proc.returncode == 2 and b"not with -s" in proc.stderr


def test_python_api_takes_mirrors(hosts: tuple[DevServer, ...], out_dir: Path) -> None:
    from hydra_tui import HydraClient
    from tests.support.helpers import run

    a, b, _ = hosts
    data = payload(6 * MiB, seed=8)
    ua, ub = a.add("f.iso", data, Faults(rate=4 * MiB)), b.add("f.iso", data, Faults(rate=4 * MiB))

    async def go() -> str | None:
        async with HydraClient(threads=2) as client:
            result = await client.download(ua, out_dir, mirrors=[ub])
            return result.sha256

    assert run(go()) == sha256(data) == file_sha256(out_dir / "f.iso")
    assert b.stats("f.iso").bytes_sent > MiB  # the mirror carried part of it


def test_dead_first_url_falls_back_to_its_mirrors(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    """The URL's port is bound but never listens (refused at once): the download goes
    on from the mirrors, with one warning naming the dead URL."""
    import socket

    a, b, _ = hosts
    data = payload(6 * MiB + 3, seed=9)
    # 1 MiB/s a connection: the file takes seconds, so the second mirror's share does
    # not hang on how soon a loaded machine lets it start
    ua, ub = a.add("f.iso", data, Faults(rate=MiB)), b.add("f.iso", data, Faults(rate=MiB))
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{dead.getsockname()[1]}/f.iso"
        proc = cli(gone, "--mirror", ua, "--mirror", ub, "-o", str(out_dir), "--no-ui",
                   "-t", "2", "--retries", "1", "--progress=jsonl")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    warned = [e["message"] for e in events if e["event"] == "warning"]
    fell = [w for w in warned if gone in w and "dropped" in w]
    assert len(fell) == 1 and f"going on from its mirror {ua}" in fell[0], warned
    (done,) = [e for e in events if e["event"] == "done"]
    assert [m["url"] for m in done["mirrors"]] == [gone, ua, ub]
    assert done["mirrors"][0]["dropped"] is not None
    assert a.stats("f.iso").bytes_sent > MiB and b.stats("f.iso").bytes_sent > MiB


def test_every_source_dead_fails_with_the_first_urls_error(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    a, b, _ = hosts
    ua = a.add("f.iso", b"x" * 100_000, Faults(status=404))
    ub = b.add("f.iso", b"x" * 100_000, Faults(status=500))
    proc = cli(ua, "--mirror", ub, "-o", str(out_dir), "--no-ui", "--retries", "0")
    assert proc.returncode != 0
    assert b"404" in proc.stderr.splitlines()[-1], proc.stderr
    assert list(out_dir.iterdir()) == []


def test_fallback_skips_a_mirror_without_ranges(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    a, b, c = hosts
    data = payload(3 * MiB, seed=10)
    gone = a.add("f.iso", data, Faults(status=404))
    ub = b.add("f.iso", data, Faults(ignore_range=True))
    uc = c.add("f.iso", data, Faults(rate=8 * MiB))
    proc = cli(gone, "--mirror", ub, "--mirror", uc, "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert f"going on from its mirror {uc}".encode() in proc.stderr
    assert f"mirror {ub} dropped: it does not serve byte ranges".encode() in proc.stderr
    assert b.stats("f.iso").requests == 1


#: one Last-Modified for every server of a test (added a second apart, they would differ)
_DATE = 1_700_000_000


def _same(srv: DevServer, seed: int, size: int, faults: Faults) -> str:
    """Serve ``synthetic_bytes(seed, size)`` as ``f.iso`` with the shared date."""
    return srv.add_synthetic("f.iso", size, seed, faults, last_modified=_DATE)


def _signed(srv: DevServer, name: str) -> str:
    """A freshly signed URL of ``name`` (``Faults.signed_uses``), as a presigned link is."""
    with urllib.request.urlopen(srv.sign_url(name, text=True)) as resp:
        return resp.read().decode().strip()


def _url_cmd(srv: DevServer, name: str, marker: Path) -> str:
    """A --url-cmd that leaves ``marker`` behind and prints a freshly signed URL."""
    code = (
        "import pathlib, sys, urllib.request; pathlib.Path(sys.argv[1]).touch(); "
        "print(urllib.request.urlopen(sys.argv[2]).read().decode())"
    )
    return shlex.join([sys.executable, "-c", code, str(marker), srv.sign_url(name, text=True)])


def test_first_url_expiring_mid_run_is_renewed_by_url_cmd(
    hosts: tuple[DevServer, ...], out_dir: Path, tmp_path: Path
) -> None:
    """The first URL's signature runs out during a mirror run: ``--url-cmd`` renews it
    as in a single-source download, and all three sources keep serving."""
    a, b, c = hosts
    size = 12 * MiB + 5
    data = synthetic_bytes(21, size)
    _same(a, 21, size, Faults(rate=4 * MiB, signed_uses=4))
    ub = _same(b, 21, size, Faults(rate=4 * MiB))
    uc = _same(c, 21, size, Faults(rate=4 * MiB))
    marker = tmp_path / "ran"
    proc = cli(_signed(a, "f.iso"), "--mirror", ub, "--mirror", uc, "-o", str(out_dir),
               "--no-ui", "-t", "2", "--url-cmd", _url_cmd(a, "f.iso", marker))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert marker.exists()
    assert a.stats("f.iso").statuses[403] >= 1  # it did expire
    assert b"dropped" not in proc.stderr, proc.stderr
    sent = [_body_bytes(s, "f.iso") for s in (a, b, c)]
    assert all(n > 2 * MiB for n in sent), sent  # the renewed URL went on serving too
    assert sum(sent) <= len(data) * 1.1 + 3 * 16 * 1024, sent  # cut units were not refetched


def test_mirror_expired_from_the_start_never_runs_url_cmd(
    hosts: tuple[DevServer, ...], out_dir: Path, tmp_path: Path
) -> None:
    """``--url-cmd`` belongs to the first URL: a mirror answering 403 at its probe is
    dropped with one warning, and the command (which would print the first URL's fresh
    link) is not run for it."""
    a, b, c = hosts
    size = 6 * MiB + 1
    data = synthetic_bytes(22, size)
    ua = _same(a, 22, size, Faults(rate=4 * MiB))
    ub = _same(b, 22, size, Faults(rate=4 * MiB))
    uc = _same(c, 22, size, Faults(signed_uses=5))  # unsigned: 403 to every request
    marker = tmp_path / "ran"
    proc = cli(ua, "--mirror", ub, "--mirror", uc, "-o", str(out_dir), "--no-ui", "-t", "2",
               "--url-cmd", _url_cmd(a, "f.iso", marker))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert not marker.exists()
    dropped = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert len(dropped) == 1 and uc.encode() in dropped[0] and b"403" in dropped[0], dropped
    assert c.stats("f.iso").statuses[403] == 1  # its probe only


def test_mirror_expiring_mid_run_renews_through_its_redirect(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    """A mirror given as a redirecting entry URL renews by following it again; one given
    as a bare signed URL cannot be renewed: dropped with one warning, its units fetched
    from the others."""
    a, b, c = hosts
    size = 12 * MiB + 3
    data = synthetic_bytes(23, size)
    ua = _same(a, 23, size, Faults(rate=4 * MiB))
    _same(b, 23, size, Faults(rate=4 * MiB, signed_uses=3))
    _same(c, 23, size, Faults(rate=4 * MiB, signed_uses=3))
    uc = _signed(c, "f.iso")
    proc = cli(ua, "--mirror", b.sign_url("f.iso"), "--mirror", uc, "-o", str(out_dir),
               "--no-ui", "-t", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert b.stats("f.iso").statuses[403] >= 1 and c.stats("f.iso").statuses[403] >= 1
    dropped = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert len(dropped) == 1 and b"no way to renew it" in dropped[0], dropped
    assert _body_bytes(b, "f.iso") > 2 * MiB  # renewed, it went on serving


def test_first_url_whose_fresh_urls_never_deliver_is_dropped(
    hosts: tuple[DevServer, ...], out_dir: Path, tmp_path: Path
) -> None:
    """Fresh URLs that expire before delivering a byte: after ``MAX_FRUITLESS`` the first
    URL is dropped, judged by its own bytes (the mirrors' do not make it look fruitful),
    and the mirrors finish the file."""
    a, b, c = hosts
    size = 8 * MiB + 9
    data = synthetic_bytes(24, size)
    _same(a, 24, size, Faults(signed_uses=1))  # each signature: its probe, no more
    ub = _same(b, 24, size, Faults(rate=2 * MiB))
    uc = _same(c, 24, size, Faults(rate=2 * MiB))
    runs = tmp_path / "runs"
    code = (
        "import sys, urllib.request; open(sys.argv[1], 'a').write('run\\n'); "
        "print(urllib.request.urlopen(sys.argv[2]).read().decode())"
    )
    cmd = shlex.join([sys.executable, "-c", code, str(runs), a.sign_url("f.iso", text=True)])
    proc = cli(_signed(a, "f.iso"), "--mirror", ub, "--mirror", uc, "-o", str(out_dir),
               "--no-ui", "-t", "2", "--url-cmd", cmd)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    # (fewer only on a machine so loaded that the mirrors finished first; unbounded
    # without the fix: a renewal each time a mirror's bytes came in)
    assert 1 <= len(runs.read_text().splitlines()) <= MAX_FRUITLESS
    dropped = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert all(b"403" in line for line in dropped) and len(dropped) <= 1, dropped
