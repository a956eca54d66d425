"""The service and its shell commands, as a user runs them: real processes, a real
loopback server, every result checked byte for byte."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.service import paths
from tests.support.helpers import file_sha256, payload, sha256
from tests.support.service import Daemon, hydra, ls, stop_background_service

MiB = 1024 * 1024


def test_add_starts_a_service_and_wait_reports_done(server: DevServer, out_dir: Path) -> None:
    a, b = payload(3 * MiB + 7, seed=1), payload(MiB // 3, seed=2)
    urls = [server.add("a.bin", a), server.add("b.bin", b)]
    added = hydra("add", "-o", "out", *urls, cwd=out_dir.parent)  # a relative folder
    ids = added.stdout.split()
    assert len(ids) == 2 and all(len(i) == 16 for i in ids)
    assert hydra("wait", ids[0][:6], ids[1]).returncode == 0  # a prefix will do
    assert file_sha256(out_dir / "a.bin") == sha256(a)
    assert file_sha256(out_dir / "b.bin") == sha256(b)
    rows = {r["id"]: r for r in ls()}
    assert [rows[i]["state"] for i in ids] == ["done", "done"]
    assert "done" in hydra("ls").stdout
    stop_background_service()


def test_one_service_per_user_on_a_private_socket() -> None:
    with Daemon() as first:
        sock = paths.socket_file()
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        second = hydra("daemon", check=False)
        assert second.returncode == 1
        assert second.stderr.strip().splitlines() == [
            f"hydra-tui: a hydra-tui service is already running (pid {first.proc.pid})"
        ]
        first.stop()
    assert not paths.socket_file().exists()


def test_commands_without_a_service_say_so_in_one_line() -> None:
    done = hydra("ls", check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("hydra-tui: no hydra-tui service is running")
    assert len(done.stderr.splitlines()) == 1


def test_pause_resume_rm_and_the_exit_status_of_wait(server: DevServer, out_dir: Path) -> None:
    slow = payload(2 * MiB + 3, seed=3)
    ok = payload(100_000, seed=4)
    slow_url = server.add("slow.bin", slow, Faults(rate=256 * 1024))
    with Daemon() as daemon:
        (slow_id,) = hydra("add", "-o", str(out_dir), "-t", "2", slow_url).stdout.split()
        assert hydra("pause", slow_id).returncode == 0
        assert {r["id"]: r["state"] for r in ls()}[slow_id] == "paused"
        bad_sum = "0" * 64
        (bad_id,) = hydra("add", "-o", str(out_dir), "--sha256", bad_sum,
                          server.add("ok.bin", ok)).stdout.split()  # fmt: skip
        (gone_id,) = hydra("add", "-o", str(out_dir), server.url("missing")).stdout.split()
        assert hydra("wait", bad_id, check=False).returncode == 3  # checksum mismatch
        missing = hydra("wait", gone_id, check=False)
        assert missing.returncode == 1 and "404" in missing.stderr
        server.set_faults("slow.bin", Faults())
        assert hydra("resume", "all").returncode == 0  # the paused one, and retries
        assert hydra("wait", slow_id).returncode == 0
        assert file_sha256(out_dir / "slow.bin") == sha256(slow)
        assert hydra("rm", gone_id).returncode == 0
        assert gone_id not in {r["id"] for r in ls()}
        unknown = hydra("pause", "ffffffffffff", check=False)
        assert unknown.returncode == 2 and "no download has the id" in unknown.stderr
        daemon.stop()


def test_kill_9_then_restart_resumes_every_download_byte_identical(
    server: DevServer, out_dir: Path
) -> None:
    files = {f"k{i}.bin": payload(4 * MiB + i, seed=10 + i) for i in range(2)}
    urls = [server.add(name, data, Faults(rate=512 * 1024)) for name, data in files.items()]
    with Daemon() as daemon:
        ids = hydra("add", "-o", str(out_dir), "-t", "2", *urls).stdout.split()
        # the engine checkpoints its resume store every second: let one pass with bytes in
        deadline = time.monotonic() + 30
        while not all(r["done"] > MiB for r in ls()):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        daemon.kill()  # SIGKILL: nothing wound down
    saved = json.loads(paths.queue_file().read_text())
    assert sorted(e["id"] for e in saved["entries"]) == sorted(ids)
    assert all((out_dir / f"{name}.part").exists() for name in files)
    for name in files:
        server.set_faults(name, Faults())
    with Daemon() as daemon:
        assert hydra("wait", *ids).returncode == 0
        rows = {r["id"]: r for r in ls()}
        daemon.stop()
    for name, data in files.items():
        assert file_sha256(out_dir / name) == sha256(data)
    assert all(rows[i]["state"] == "done" and rows[i]["resumed_bytes"] > 0 for i in ids)
    assert not any(p.name.startswith(".queue-") for p in paths.queue_file().parent.iterdir())
    assert not any(p.name.endswith(".tmp") for p in paths.queue_file().parent.iterdir())
    assert os.path.getsize(paths.queue_file()) > 0
