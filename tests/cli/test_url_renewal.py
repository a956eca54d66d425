"""URLs that expire mid-download: the devserver's signed URLs (``Faults.signed_uses``)
answer 403 after a few requests (or 401 or 410, as other services do:
``Faults.expired_status``), or expire in time (``Faults.signed_for``); ``--url-cmd`` or
the redirecting entry URL gives a fresh one, and the file still arrives byte for byte."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.io.resume import ResumeRecord
from tests.support.cli_runs import kill_9_once
from tests.support.helpers import cli, file_sha256, payload, print_fresh_url, sha256
from tests.support.resume_store import stored_record

MiB = 1024 * 1024
#: what services answer to an expired link
EXPIRED = (403, 401, 410)


def _expired_only_with(stats_statuses: dict[int, int], status: int) -> bool:
    """The link expired, and answered ``status`` (never another expiry status)."""
    others = [s for s in EXPIRED if s != status]
    return stats_statuses[status] >= 1 and all(stats_statuses[s] == 0 for s in others)


@pytest.mark.parametrize("status", EXPIRED)
def test_disk_download_renews_through_the_redirecting_entry_url(
    server: DevServer, out_dir: Path, status: int
) -> None:
    data = payload(8 * MiB + 13, seed=1)
    server.add("signed.bin", data, Faults(signed_uses=6, expired_status=status))
    entry = server.sign_url("signed.bin")
    proc = cli(entry, "--no-ui", "-o", str(out_dir), "-t", "4", "--chunk-size", "256K")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "signed.bin") == sha256(data)
    stats = server.stats("signed.bin")
    assert _expired_only_with(stats.statuses, status)  # it did expire, more than once in fact
    assert stats.bytes_sent <= len(data) * 1.02 + 64 * 1024  # each renewal probes 1 byte


@pytest.mark.parametrize("status", EXPIRED)
def test_stream_renews_with_url_cmd(server: DevServer, status: int) -> None:
    data = payload(6 * MiB, seed=2)
    server.add("s.tar", data, Faults(signed_uses=5, expired_status=status))
    first = cli("-s", server.sign_url("s.tar", text=True), "-q").stdout.decode().strip()
    proc = cli("-s", first, "-t", "4", "--chunk-size", "256K",
               "--url-cmd", print_fresh_url(server, "s.tar"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)
    stats = server.stats("s.tar")
    assert _expired_only_with(stats.statuses, status)
    assert stats.bytes_sent <= len(data) * 1.02 + 64 * 1024


@pytest.mark.parametrize("status", [403, 410])
def test_without_a_way_to_renew_the_status_is_reported(
    server: DevServer, out_dir: Path, status: int
) -> None:
    data = payload(4 * MiB, seed=3)
    server.add("x.bin", data, Faults(signed_uses=3, expired_status=status))
    signed = cli("-s", server.sign_url("x.bin", text=True), "-q").stdout.decode().strip()
    proc = cli(signed, "--no-ui", "-q", "-o", str(out_dir), "-t", "2", "--chunk-size", "256K")
    assert proc.returncode == 1
    assert str(status).encode() in proc.stderr and proc.stderr.count(b"\n") == 1
    assert not (out_dir / "x.bin").exists()


def test_a_fresh_url_for_another_file_is_refused(server: DevServer) -> None:
    data = payload(4 * MiB, seed=4)
    server.add("a.bin", data, Faults(signed_uses=3))
    server.add("other.bin", payload(3 * MiB, seed=5))
    signed = cli("-s", server.sign_url("a.bin", text=True), "-q").stdout.decode().strip()
    other = shlex.join(["echo", server.url("other.bin")])
    proc = cli("-s", signed, "-t", "2", "--chunk-size", "256K", "--url-cmd", other, "-q")
    assert proc.returncode == 1
    assert b"serves another file" in proc.stderr
    assert data.startswith(proc.stdout)  # what was streamed is right, and it stopped


def test_failing_url_cmd_is_one_line(server: DevServer) -> None:
    server.add("f.bin", payload(3 * MiB, seed=6), Faults(signed_uses=3))
    signed = cli("-s", server.sign_url("f.bin", text=True), "-q").stdout.decode().strip()
    proc = cli("-s", signed, "-t", "2", "--chunk-size", "256K", "--url-cmd", "exit 7", "-q")
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith(b"--url-cmd failed with exit status 7")


def test_expired_before_the_start_probes_the_url_cmd_one(server: DevServer, out_dir: Path) -> None:
    data = payload(2 * MiB + 1, seed=7)
    server.add("late.bin", data, Faults(signed_uses=100))
    signed = cli("-s", server.sign_url("late.bin", text=True), "-q").stdout.decode().strip()
    server.add("late.bin", data, Faults(signed_uses=100))  # every signature so far is void
    proc = cli(signed, "--no-ui", "-q", "-o", str(out_dir),
               "--url-cmd", print_fresh_url(server, "late.bin"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "late.bin") == sha256(data)


def test_killed_then_resumed_the_next_day_with_url_cmd(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    data = payload(16 * MiB, seed=8)
    server.add("day.bin", data, Faults(signed_uses=1000, link_rate=4 * MiB))
    signed = cli("-s", server.sign_url("day.bin", text=True), "-q").stdout.decode().strip()
    args = [signed, "--no-ui", "-q", "-o", str(out_dir), "-t", "4", "--chunk-size", "256K",
            "--url-cmd", print_fresh_url(server, "day.bin")]  # fmt: skip
    part = (out_dir / "day.bin.part").resolve()
    kill_9_once(lambda: _ranges_saved(part) >= 3 * MiB, "a checkpoint", *args)
    saved = _ranges_saved(part)
    server.reset_stats()
    server.expire_signatures("day.bin")  # the next day: the URL given has expired
    again = cli(*args, timeout=120)
    assert again.returncode == 0, again.stderr
    assert file_sha256(out_dir / "day.bin") == sha256(data)
    assert server.stats("day.bin").bytes_sent <= len(data) - saved + MiB


def _ranges_saved(part: Path) -> int:
    record = stored_record(part)
    return 0 if record is None else sum(end - begin for begin, end in record.ranges)


def test_killed_then_resumed_without_url_cmd_uses_the_stored_one(
    server: DevServer, out_dir: Path
) -> None:
    """The resume store keeps the command: a rerun that forgot ``--url-cmd`` renews."""
    data = payload(16 * MiB, seed=9)
    server.add("kept.bin", data, Faults(signed_uses=1000, link_rate=4 * MiB))
    signed = cli("-s", server.sign_url("kept.bin", text=True), "-q").stdout.decode().strip()
    base = [signed, "--no-ui", "-o", str(out_dir), "-t", "4", "--chunk-size", "256K"]
    command = print_fresh_url(server, "kept.bin")
    part = (out_dir / "kept.bin.part").resolve()
    kill_9_once(
        lambda: _ranges_saved(part) >= 3 * MiB, "a checkpoint", *base, "-q", "--url-cmd", command
    )
    assert _record(part).url_cmd == command
    saved = _ranges_saved(part)
    server.reset_stats()
    server.expire_signatures("kept.bin")
    again = cli(*base, timeout=120)
    assert again.returncode == 0, again.stderr
    assert b"--url-cmd an earlier run recorded" in again.stderr
    assert file_sha256(out_dir / "kept.bin") == sha256(data)
    assert server.stats("kept.bin").bytes_sent <= len(data) - saved + MiB


@pytest.mark.parametrize("status", EXPIRED)
def test_single_connection_server_renews_and_starts_over(
    server: DevServer, out_dir: Path, status: int
) -> None:
    """No Range: a drop, then the expired status on the retry; the fresh URL serves the
    whole file."""
    data = payload(3 * MiB + 5, seed=10)
    faults = Faults(ignore_range=True, signed_uses=2, reset_first=2, seed=4, expired_status=status)
    server.add("whole.bin", data, faults)
    signed = cli("-s", server.sign_url("whole.bin", text=True), "-q").stdout.decode().strip()
    server.reset_stats()
    proc = cli(signed, "--no-ui", "-q", "-o", str(out_dir),
               "--url-cmd", print_fresh_url(server, "whole.bin"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "whole.bin") == sha256(data)
    assert server.stats("whole.bin").statuses[status] >= 1


def test_single_connection_stream_renews_and_skips_what_it_sent(server: DevServer) -> None:
    data = payload(3 * MiB + 5, seed=11)
    server.add("whole.tar", data, Faults(ignore_range=True, signed_uses=2, reset_first=2, seed=4))
    signed = cli("-s", server.sign_url("whole.tar", text=True), "-q").stdout.decode().strip()
    server.reset_stats()
    proc = cli("-s", signed, "--url-cmd", print_fresh_url(server, "whole.tar"))
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)
    assert server.stats("whole.tar").statuses[403] >= 1


def test_single_connection_stream_without_validators_refuses_to_splice(
    server: DevServer,
) -> None:
    data = payload(3 * MiB + 5, seed=12)
    faults = Faults(ignore_range=True, no_validators=True, signed_uses=2, reset_first=2, seed=4)
    server.add("bare.tar", data, faults)
    signed = cli("-s", server.sign_url("bare.tar", text=True), "-q").stdout.decode().strip()
    proc = cli("-s", signed, "--url-cmd", print_fresh_url(server, "bare.tar"))
    # the reset point is random: when the probe itself was cut, the URL expires before
    # a byte was written and the fresh URL rightly serves the whole stream
    if proc.returncode == 0:
        assert sha256(proc.stdout) == sha256(data)
    else:
        assert proc.stderr.count(b"\n") == 1, proc.stderr
        assert b"no validator" in proc.stderr
        assert data.startswith(proc.stdout)  # what was sent is a true prefix, never spliced


def _record(part: Path) -> ResumeRecord:
    record = stored_record(part)
    assert record is not None
    return record


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
