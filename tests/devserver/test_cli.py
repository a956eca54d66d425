"""``python -m hydra_tui.devserver``: first line is the base URL; Ctrl-C stops it cleanly."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from hydra_tui.devserver import synthetic_bytes


def test_cli_serves_root_and_synthetic_until_sigint(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(b"hello")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hydra_tui.devserver",
            "--port",
            "0",
            "--root",
            str(tmp_path),
            "--synthetic",
            "s.bin:64K:3",
            "--rate",
            "16M",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        urls = [proc.stdout.readline().strip() for _ in range(2)]
        assert urls == [f"{base}/sub/a.txt", f"{base}/s.bin"]
        port = urlsplit(base).port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/s.bin", headers={"Range": "bytes=10-19"})
        assert conn.getresponse().read() == synthetic_bytes(3, 64 * 1024)[10:20]
        conn.request("GET", "/sub/a.txt")
        assert conn.getresponse().read() == b"hello"
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


def test_cli_refuses_non_loopback_hosts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hydra_tui.devserver", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
