"""The command line as a user runs it: real subprocesses against the loopback server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024


def test_no_ui_download(server: DevServer, out_dir: Path) -> None:
    data = payload(5 * MiB, seed=1)
    url = server.add("a.bin", data, Faults(reset=0.2, seed=1))
    proc = cli(url, "-t", "8", "-o", str(out_dir), "--no-ui", "--chunk-size", "512K")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "a.bin") == sha256(data)
    assert proc.stdout == b""
    assert b"done:" in proc.stderr


def test_every_progress_line_shows_the_speed(server: DevServer, out_dir: Path) -> None:
    data = payload(6 * MiB, seed=12)
    url = server.add("sp.bin", data, Faults(rate=MiB))
    proc = cli(url, "-t", "2", "-o", str(out_dir), "--no-ui")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "sp.bin") == sha256(data)
    # not a terminal: one plain line a second; the first one too has a speed, since the
    # meter starts with the transfer, not at its first tick
    lines = [line for line in proc.stderr.splitlines() if b"conns" in line]
    assert len(lines) >= 2, proc.stderr
    assert not [line for line in lines if b" 0 B/s " in line], lines


def test_quiet_prints_nothing_on_success(server: DevServer, out_dir: Path) -> None:
    data = payload(2 * MiB, seed=2)
    url = server.add("q.bin", data)
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-q")
    assert proc.returncode == 0
    assert proc.stdout == b"" and proc.stderr == b""
    assert file_sha256(out_dir / "q.bin") == sha256(data)


def test_partial_failure_reports_each_url_in_one_line(server: DevServer, out_dir: Path) -> None:
    good = payload(MiB, seed=3)
    ok = server.add("ok.bin", good)
    missing = server.url("missing.bin")
    proc = cli(ok, missing, "-o", str(out_dir), "--no-ui", "-q")
    assert proc.returncode == 4
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert "missing.bin" in lines[0] and "404" in lines[0]
    assert "Traceback" not in proc.stderr.decode()
    assert file_sha256(out_dir / "ok.bin") == sha256(good)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["ftp://example.org/x", "--no-ui"], 2, "URL"),
        (["-t", "0", "http://127.0.0.1:9/x", "--no-ui"], 2, "threads"),
        (["-t", "100000", "http://127.0.0.1:9/x", "--no-ui"], 2, "threads"),
        (["-b", "1", "-s", "http://127.0.0.1:9/x"], 2, "buffer"),
        (["--limit-rate", "-5M", "http://127.0.0.1:9/x", "--no-ui"], 2, "rate"),
        (["--preset", "nope", "http://127.0.0.1:9/x", "--no-ui"], 2, "preset"),
        (["http://127.0.0.1:9/x", "--no-ui", "--retries", "0"], 1, "refused"),
        (["http://no-such-host.invalid/x", "--no-ui", "--retries", "0"], 1, "resolve"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    args: list[str], code: int, needle: str, out_dir: Path
) -> None:
    proc = cli(*args, "-o", str(out_dir))
    err = proc.stderr.decode()
    assert proc.returncode == code, err
    assert needle.lower() in err.lower()
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert list(out_dir.iterdir()) == []


def test_checksum_mismatch_exit_3_keeps_part(server: DevServer, out_dir: Path) -> None:
    data = payload(MiB, seed=4)
    url = server.add("m.bin", data)
    proc = cli(url, "-o", str(out_dir), "--no-ui", "--md5", "0" * 32)
    assert proc.returncode == 3
    assert b"md5 mismatch" in proc.stderr
    assert file_sha256(out_dir / "m.bin.part") == sha256(data)
    assert not (out_dir / "m.bin").exists()


def _wait_for_bytes(path: Path, at_least: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size >= at_least:
            return
        time.sleep(0.02)  # polling a file another process writes
    raise AssertionError(f"{path} never reached {at_least} bytes")


def _wait_for_sent(server: DevServer, name: str, at_least: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.stats(name).bytes_sent >= at_least:
            return
        time.sleep(0.02)  # polling the server's counters while the client runs
    raise AssertionError(f"the server never sent {at_least} bytes of {name}")


def _start(url: str, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hydra_tui", url, "-o", str(out), "--no-ui", "-q", "-t", "4",
         "--chunk-size", "1M", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip


def test_kill_9_then_resume_is_byte_identical(server: DevServer, out_dir: Path) -> None:
    data = payload(40 * MiB, seed=5)
    url = server.add("k.bin", data, Faults(rate=2 * MiB))
    part = out_dir / "k.bin.part"
    for _ in range(3):
        proc = _start(url, out_dir)
        # past the first checkpoint (a second, or a MiB per connection committed)
        _wait_for_sent(server, "k.bin", server.stats("k.bin").bytes_sent + 10 * MiB)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    sent_before = server.stats("k.bin").bytes_sent
    proc = _start(url, out_dir)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert file_sha256(out_dir / "k.bin") == sha256(data)
    assert not part.exists()
    refetched = server.stats("k.bin").bytes_sent - sent_before
    assert refetched < len(data)  # the last run resumed rather than starting over


def test_sigterm_saves_state_and_exits_143(server: DevServer, out_dir: Path) -> None:
    data = payload(16 * MiB, seed=6)
    url = server.add("t.bin", data, Faults(rate=2 * MiB))
    proc = _start(url, out_dir)
    _wait_for_bytes(out_dir / "t.bin.part", 2 * MiB)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert b"Traceback" not in err
    assert b"resume" in err
    sent = server.stats("t.bin").bytes_sent
    proc = _start(url, out_dir)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert file_sha256(out_dir / "t.bin") == sha256(data)
    assert server.stats("t.bin").bytes_sent - sent < len(data) - MiB


def test_remote_changed_between_kill_and_resume_starts_over(
    server: DevServer, out_dir: Path
) -> None:
    old = payload(12 * MiB, seed=7)
    url = server.add("v.bin", old, Faults(rate=2 * MiB))
    proc = _start(url, out_dir)
    _wait_for_sent(server, "v.bin", 6 * MiB)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    new = payload(12 * MiB, seed=8)
    server.set_content("v.bin", new)
    proc = _start(url, out_dir)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert file_sha256(out_dir / "v.bin") == sha256(new)


def test_input_file_and_headers(server: DevServer, out_dir: Path, tmp_path: Path) -> None:
    files = {f"f{i}.bin": payload(100_000 + i, seed=i) for i in range(5)}
    urls = [server.add(name, data) for name, data in files.items()]
    listing = tmp_path / "list.txt"
    listing.write_text("# my files\n\n" + "\n".join(urls) + "\n")
    proc = cli(
        "-i",
        str(listing),
        "-o",
        str(out_dir),
        "--no-ui",
        "-q",
        "-H",
        "X-Token: abc",
        "-A",
        "probe/1",
    )
    assert proc.returncode == 0, proc.stderr
    for name, data in files.items():
        assert file_sha256(out_dir / name) == sha256(data)
    reqs = [r for r in server.requests if r.path.startswith("/f")]
    assert reqs and all(r.headers.get("x-token") == "abc" for r in reqs)
    assert all(r.headers.get("user-agent") == "probe/1" for r in reqs)


def test_two_processes_same_output_never_both_write(server: DevServer, out_dir: Path) -> None:
    data = payload(8 * MiB, seed=9)
    url = server.add("l.bin", data, Faults(rate=512 * 1024))
    first = _start(url, out_dir)
    _wait_for_bytes(out_dir / "l.bin.part", MiB)
    second = cli(url, "-o", str(out_dir), "--no-ui", "-q")
    assert second.returncode != 0
    assert b"another hydra-tui" in second.stderr
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert file_sha256(out_dir / "l.bin") == sha256(data)
    assert sorted(p.name for p in out_dir.iterdir()) == ["l.bin"]


def test_progress_jsonl_is_machine_readable(server: DevServer, out_dir: Path) -> None:
    import json

    data = payload(6 * MiB, seed=10)
    url = server.add(
        "j.bin", data, Faults(rate=3 * MiB, status_first=2, status_code=429, retry_after=0)
    )
    proc = cli(
        url, "-o", str(out_dir), "--no-ui", "--progress", "jsonl", "-t", "4", "--chunk-size", "1M"
    )
    assert proc.returncode == 0, proc.stderr
    records = [
        json.loads(line) for line in proc.stderr.decode().splitlines() if line.startswith("{")
    ]
    kinds = {r["event"] for r in records}
    assert {"start", "chunk", "progress", "done", "window"} <= kinds, kinds
    done = next(r for r in records if r["event"] == "done")
    assert done["size"] == len(data) and done["path"].endswith("j.bin")
    assert any(r["event"] == "window" and r["kind"] == "429" for r in records)
    chunks = [r for r in records if r["event"] == "chunk" and r["state"] == "done"]
    assert chunks and max(c["end"] for c in chunks) == len(data)
    assert all(isinstance(r["time"], float | int) and r["url"] == url for r in records)
    assert file_sha256(out_dir / "j.bin") == sha256(data)


def test_progress_jsonl_says_the_limit_learned(server: DevServer, out_dir: Path) -> None:
    import json

    data = payload(6 * MiB, seed=11)
    url = server.add("cap.bin", data, Faults(rate=2 * MiB, max_bodies=2, retry_after=1))
    proc = cli(url, "-o", str(out_dir), "--no-ui", "--progress", "jsonl", "-t", "16")
    assert proc.returncode == 0, proc.stderr
    records = [
        json.loads(line) for line in proc.stderr.decode().splitlines() if line.startswith("{")
    ]
    texts = [r["text"] for r in records if r["event"] == "window"]
    assert any(t.startswith("limit learned: 2") for t in texts), texts
    assert any("over the limit" in t for t in texts), texts
    assert [r["limit"] for r in records if r["event"] == "progress"][-1] == 2
    assert file_sha256(out_dir / "cap.bin") == sha256(data)
