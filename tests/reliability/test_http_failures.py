"""Cases 9 and 12: answers that can never become the file, through the CLI in both modes.

404 (disk mode through the API: tests/engine/test_disk_faults.py), 416 for a non-empty
file, a redirect loop, an HTML error page with 200 for ``.iso``: exit 1, one line,
nothing under the final name (nor a ``.part``), nothing on stdout.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import MiB, assert_one_line_error, files_under
from tests.support.helpers import cli, payload


def _run(url: str, mode: str, out_dir: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    args = ["-s", url] if mode == "stream" else ["--no-ui", url, "-o", str(out_dir)]
    proc = cli(*args, *extra)
    assert proc.stdout == b""
    return proc


def _loop(server: DevServer) -> str:
    a, b = server.url("a.iso"), server.url("b.iso")
    server.add("a.iso", b"", Faults(redirect_to=b))
    server.add("b.iso", b"", Faults(redirect_to=a, redirect_code=307))
    return a


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_404(server: DevServer, out_dir: Path, mode: str) -> None:
    url = server.add("gone.iso", payload(MiB, seed=900), Faults(status=404))
    proc = _run(url, mode, out_dir)
    assert_one_line_error(proc, 1, "404", "gone.iso")
    assert files_under(out_dir) == []
    assert len(server.requests) == 1  # final, not retried


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_416_for_a_non_empty_file(server: DevServer, out_dir: Path, mode: str) -> None:
    url = server.add("r.iso", payload(MiB, seed=901), Faults(status=416))
    proc = _run(url, mode, out_dir, "--retries", "1")
    assert_one_line_error(proc, 1, "416", "r.iso")
    assert files_under(out_dir) == []


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_redirect_loop(server: DevServer, out_dir: Path, mode: str) -> None:
    url = _loop(server)
    proc = _run(url, mode, out_dir, "--retries", "1")
    assert_one_line_error(proc, 1, "redirects")
    assert files_under(out_dir) == []


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_html_error_page_for_an_iso(server: DevServer, out_dir: Path, mode: str) -> None:
    url = server.add("ubuntu.iso", payload(5000, seed=902), Faults(html_200=True))
    proc = _run(url, mode, out_dir, "--retries", "1")
    assert_one_line_error(proc, 1, "HTML")
    assert files_under(out_dir) == []


@pytest.mark.parametrize("fault", ["redirect-loop", "416"])
def test_deterministic_failures_are_not_retried(
    server: DevServer, out_dir: Path, fault: str
) -> None:
    if fault == "416":
        url = server.add("r.iso", payload(MiB, seed=903), Faults(status=416))
        most = 1
    else:
        url = _loop(server)
        # one chain: the first request and 10 redirects, after the lean probe reader's
        # first ask (it leaves redirects to httpx)
        most = 12
    proc = _run(url, "disk", out_dir, "--retries", "2")
    assert proc.returncode == 1
    assert len(server.requests) <= most, f"{len(server.requests)} requests"


def test_connection_refused_stream() -> None:
    """(Disk mode: tests/cli/test_cli_headless.py.)"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = cli("-s", f"http://127.0.0.1:{port}/x.bin", "--retries", "0")
    assert_one_line_error(proc, 1, "refused")
    assert proc.stdout == b""
