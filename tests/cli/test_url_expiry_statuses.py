"""URLs that expire with another status than 403: services answer 401 or 410 to an
expired link (the devserver's ``Faults(expired_status=...)``), and the download renews
as for 403; and a signature good for a time (``Faults(signed_for=...)``) that runs out
while a throttled download goes on."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024


def _print_fresh_url(server: DevServer, name: str) -> str:
    """A --url-cmd that asks the devserver for a freshly signed URL and prints it."""
    code = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"
    return shlex.join([sys.executable, "-c", code, server.sign_url(name, text=True)])


@pytest.mark.parametrize("status", [401, 410])
def test_disk_download_renews_after_status(server: DevServer, out_dir: Path, status: int) -> None:
    data = payload(8 * MiB + 13, seed=status)
    server.add("signed.bin", data, Faults(signed_uses=6, expired_status=status))
    proc = cli(server.sign_url("signed.bin"), "--no-ui", "-o", str(out_dir), "-t", "4",
               "--chunk-size", "256K")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "signed.bin") == sha256(data)
    stats = server.stats("signed.bin")
    assert stats.statuses[status] >= 1 and stats.statuses[403] == 0
    assert stats.bytes_sent <= len(data) * 1.02 + 64 * 1024  # each renewal probes 1 byte


@pytest.mark.parametrize("status", [401, 410])
def test_stream_renews_with_url_cmd_after_status(server: DevServer, status: int) -> None:
    data = payload(6 * MiB + 1, seed=status + 1)
    server.add("s.tar", data, Faults(signed_uses=5, expired_status=status))
    first = cli("-s", server.sign_url("s.tar", text=True), "-q").stdout.decode().strip()
    proc = cli("-s", first, "-t", "4", "--chunk-size", "256K",
               "--url-cmd", _print_fresh_url(server, "s.tar"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)
    stats = server.stats("s.tar")
    assert stats.statuses[status] >= 1
    assert stats.bytes_sent <= len(data) * 1.02 + 64 * 1024


@pytest.mark.parametrize("status", [401, 410])
def test_single_connection_server_renews_after_status(
    server: DevServer, out_dir: Path, status: int
) -> None:
    """No Range: a drop, then the expired status on the retry; the fresh URL serves
    the whole file."""
    data = payload(3 * MiB + 5, seed=status + 2)
    faults = Faults(ignore_range=True, signed_uses=2, reset_first=2, seed=4, expired_status=status)
    server.add("whole.bin", data, faults)
    signed = cli("-s", server.sign_url("whole.bin", text=True), "-q").stdout.decode().strip()
    server.reset_stats()
    proc = cli(signed, "--no-ui", "-q", "-o", str(out_dir),
               "--url-cmd", _print_fresh_url(server, "whole.bin"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "whole.bin") == sha256(data)
    assert server.stats("whole.bin").statuses[status] >= 1


def test_without_a_way_to_renew_410_is_reported(server: DevServer, out_dir: Path) -> None:
    server.add("x.bin", payload(4 * MiB, seed=5), Faults(signed_uses=3, expired_status=410))
    signed = cli("-s", server.sign_url("x.bin", text=True), "-q").stdout.decode().strip()
    proc = cli(signed, "--no-ui", "-q", "-o", str(out_dir), "-t", "2", "--chunk-size", "256K")
    assert proc.returncode == 1
    assert b"410" in proc.stderr and proc.stderr.count(b"\n") == 1
    assert not (out_dir / "x.bin").exists()


def test_signatures_good_for_two_seconds_outlived_by_a_throttled_download(
    server: DevServer, out_dir: Path
) -> None:
    """Each signature lasts 2 s (ample for a renewal's redirect and probe on a busy
    machine); the link lets 1 MiB/s through, so the 6 MiB download takes 6 s or more and
    its requests after the first 2 s meet expired signatures: renewed through the
    redirecting entry URL, whatever the machine's speed. A body started in time runs to
    its end, so almost nothing is sent twice."""
    data = payload(6 * MiB + 3, seed=6)
    server.add("timed.bin", data, Faults(signed_for=2.0, link_rate=MiB))
    proc = cli(server.sign_url("timed.bin"), "--no-ui", "-q", "-o", str(out_dir), "-t", "4",
               "--chunk-size", "256K", timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "timed.bin") == sha256(data)
    stats = server.stats("timed.bin")
    assert stats.statuses[403] >= 1  # it did expire by time
    assert stats.bytes_sent <= len(data) * 1.02 + 64 * 1024
