"""``--checksum-file``: a SHA256SUMS-style list (path or URL) verifies downloads on disk
and in stream mode; a mismatch exits 3, a missing line exits 2 before any byte is saved."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hydra_tui.cli.checksum_source import fetch_small
from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import UsageError
from tests.support.helpers import cli, file_sha256, payload, run, sha256

MiB = 1024 * 1024


def _sums(tmp_path: Path, text: str) -> str:
    path = tmp_path / "SHA256SUMS"
    path.write_text(text)
    return str(path)


def test_disk_download_verified_by_local_list(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    a, b = payload(3 * MiB + 5, seed=1), payload(1000, seed=2)  # ranged and one-probe files
    ua, ub = server.add("a.iso", a, Faults(reset=0.2, seed=3)), server.add("b.txt", b)
    sums = _sums(tmp_path, f"{sha256(a)} *a.iso\n{sha256(b)}  b.txt\n{'0' * 64}  other\n")
    proc = cli(ua, ub, "-o", str(out_dir), "--no-ui", "--checksum-file", sums, "-t", "4")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "a.iso") == sha256(a)
    assert file_sha256(out_dir / "b.txt") == sha256(b)


def test_mismatch_exits_3_and_keeps_part(server: DevServer, out_dir: Path, tmp_path: Path) -> None:
    data = payload(2 * MiB, seed=4)
    url = server.add("c.iso", data)
    sums = _sums(tmp_path, f"{sha256(b'other')}  c.iso\n")
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-q", "--checksum-file", sums)
    assert proc.returncode == 3
    assert b"sha256 mismatch" in proc.stderr
    assert not (out_dir / "c.iso").exists()
    assert file_sha256(out_dir / "c.iso.part") == sha256(data)  # nothing downloaded is lost


def test_missing_line_fails_before_downloading(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    url = server.add("d.iso", payload(2 * MiB, seed=5))
    sums = _sums(tmp_path, f"{'1' * 64}  e.iso\n")
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-q", "--checksum-file", sums)
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1 and b"has no line for d.iso" in proc.stderr
    assert list(out_dir.iterdir()) == []


def test_stream_with_list_from_url_bsd_md5(server: DevServer) -> None:
    data = payload(4 * MiB + 3, seed=6)
    url = server.add("s.tar", data, Faults(reset=0.2, seed=7))
    md5 = hashlib.md5(data).hexdigest()
    list_url = server.add("MD5SUMS", f"MD5 (s.tar) = {md5}\n".encode())
    good = cli("-s", url, "-q", "--checksum-file", list_url, "--chunk-size", "512K")
    assert good.returncode == 0, good.stderr
    assert sha256(good.stdout) == sha256(data)
    server.add("MD5SUMS", f"MD5 (s.tar) = {'0' * 32}\n".encode())
    bad = cli("-s", url, "-q", "--checksum-file", list_url)
    assert bad.returncode == 3 and b"md5 mismatch" in bad.stderr
    assert sha256(bad.stdout) == sha256(data)  # the bytes were right; the list said otherwise


def test_unreadable_or_malformed_list_is_one_line(server: DevServer, tmp_path: Path) -> None:
    url = server.add("f.bin", payload(100, seed=8))
    gone = cli("-s", url, "--checksum-file", str(tmp_path / "missing"))
    assert gone.returncode == 2 and gone.stdout == b""
    assert gone.stderr.startswith(b"hydra-tui: cannot read --checksum-file")
    bad = cli("-s", url, "--checksum-file", _sums(tmp_path, "not a checksum\n"))
    assert bad.returncode == 2 and bad.stdout == b""
    assert b"SHA256SUMS:1: not a checksum line" in bad.stderr
    missing = server.url("SHA256SUMS")
    lost = cli("-s", url, "--checksum-file", missing)
    assert lost.returncode == 1 and lost.stdout == b""
    assert lost.stderr == f"hydra-tui: --checksum-file {missing}: HTTP 404 Not Found\n".encode()


def test_verified_when_the_server_stops_honouring_ranges(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    # the prefix hashed while ranges arrived is thrown away when the file is rewritten
    # over one connection from byte 0
    data = payload(12 * MiB, seed=9)
    url = server.add("r.iso", data, Faults(range_200_after=6, link_rate=24 * MiB))
    sums = _sums(tmp_path, f"{sha256(data)}  r.iso\n")
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-q", "--checksum-file", sums,
               "-t", "4", "--chunk-size", "1M")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "r.iso") == sha256(data)


def test_a_list_over_the_limit_is_refused_and_not_fetched_to_its_end(server: DevServer) -> None:
    url = server.add("BIG.SUMS", payload(4 * 1024 * 1024, seed=10))
    with pytest.raises(UsageError) as caught:
        run(fetch_small(url, DownloadOptions(), 1000, what="--checksum-file"))
    assert str(caught.value) == f"--checksum-file {url} is over 1000 bytes"
    assert caught.value.exit_code == 2
    assert server.stats("BIG.SUMS").bytes_sent < 4 * 1024 * 1024
