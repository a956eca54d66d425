"""Case 5: SIGINT (Ctrl-C) stops cleanly with exit 130; a disk download then resumes.

(SIGTERM → 143 in disk mode is covered by tests/cli/test_cli_headless.py.)
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import (
    MiB,
    assert_one_line_error,
    files_under,
    is_prefix,
    popen_cli,
    run_cli,
    wait_until,
)
from tests.support.helpers import file_sha256, payload, sha256

DATA = payload(16 * MiB, seed=501)


def _interrupt(server: DevServer, name: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Start the CLI, wait until 4 MiB more have been sent, then send SIGINT."""
    start = server.stats(name).bytes_sent
    proc = popen_cli(*args)
    try:
        wait_until(
            lambda: server.stats(name).bytes_sent >= start + 4 * MiB or proc.poll() is not None,
            timeout=30,
            what="4 MiB to be sent",
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_sigint_disk_then_resume(server: DevServer, out_dir: Path) -> None:
    url = server.add("i.bin", DATA, Faults(rate=2 * MiB))
    args = ("--no-ui", url, "-o", str(out_dir), "-t", "4", "--chunk-size", "1M")
    proc = _interrupt(server, "i.bin", *args)
    assert_one_line_error(proc, 130, "interrupted", "resume")
    assert files_under(out_dir) == [Path("i.bin.part")]
    sent = server.stats("i.bin").bytes_sent

    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr.decode()
    assert files_under(out_dir) == [Path("i.bin")]
    assert file_sha256(out_dir / "i.bin") == sha256(DATA)
    assert b"resumed" in proc.stderr
    assert server.stats("i.bin").bytes_sent - sent < len(DATA) - 2 * MiB


def test_sigint_stream_stops_cleanly(server: DevServer) -> None:
    url = server.add("i.bin", DATA, Faults(rate=2 * MiB))
    proc = _interrupt(server, "i.bin", "-s", url, "-t", "4", "--chunk-size", "1M")
    assert_one_line_error(proc, 130, "interrupted")
    assert len(proc.stdout) < len(DATA)
    assert is_prefix(proc.stdout, DATA)


def test_sigint_stream_does_not_promise_a_resume(server: DevServer) -> None:
    url = server.add("i.bin", DATA, Faults(rate=2 * MiB))
    proc = _interrupt(server, "i.bin", "-s", url, "-t", "4", "--chunk-size", "1M")
    line = assert_one_line_error(proc, 130, "interrupted")
    assert "resume" not in line and "kept" not in line
