"""Issue 19 items 6 and 10: one clear line instead of a traceback or a misleading one.

Bad hosts and header values are usage errors (exit 2). A redirect to ``file:``/``ftp:``/
``javascript:`` is the server's fault (exit 1). Local failures say what is wrong and
promise a resume only when bytes were kept. A dead proxy is named. A restart within one
run does not blame "the last run". An unwritable state folder costs only the resume."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.download import Download
from hydra_tui.engine.http.error_map import local_error
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import UsageError
from tests.support.cli_runs import MiB, assert_one_line_error, files_under, main_in_process
from tests.support.helpers import cli, file_sha256, payload, run, sha256


@pytest.mark.parametrize(
    ("host", "needle"),
    [("a..b", "empty label"), ("a" * 300 + ".com", "longer than"), ("x" * 64 + ".org", "label")],
)
def test_bad_host_is_one_line(host: str, needle: str) -> None:
    proc = main_in_process("--no-ui", f"http://{host}/x.bin")
    assert_one_line_error(proc, 2, "invalid URL", needle)


def test_bad_host_through_the_cli_process(out_dir: Path) -> None:
    proc = cli("--no-ui", "-o", str(out_dir), "http://a..b/x")
    assert_one_line_error(proc, 2, "empty label")


def test_non_ascii_header_value_is_one_line() -> None:
    proc = main_in_process("--no-ui", "-H", "X: é€", "http://127.0.0.1:9/x.bin")
    assert_one_line_error(proc, 2, "header X", "non-ASCII")


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/x.iso", "javascript:alert(1)"]
)
@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_redirect_to_an_unsupported_scheme(
    server: DevServer, out_dir: Path, location: str, mode: str
) -> None:
    url = server.add("go.iso", b"", Faults(redirect_to=location))
    args = ["-s", url] if mode == "stream" else ["--no-ui", url, "-o", str(out_dir)]
    proc = cli(*args, "--retries", "3")
    line = assert_one_line_error(proc, 1, "redirected to an unsupported scheme")
    assert "invalid URL" not in line
    assert files_under(out_dir) == []
    # not retried (--retries 3): the lean probe hands a redirect over to httpx, once
    assert server.stats("go.iso").requests <= 2


def test_redirect_to_an_impossible_host(server: DevServer, out_dir: Path) -> None:
    url = server.add("go.iso", b"", Faults(redirect_to="http://a..b/x.iso"))
    proc = cli("--no-ui", "-o", str(out_dir), url)
    line = assert_one_line_error(proc, 1, "redirected to an invalid host", "empty label")
    assert "invalid URL" not in line


def test_non_ascii_header_through_the_api(server: DevServer, out_dir: Path) -> None:
    url = server.add("x.bin", payload(100, seed=1967))
    options = DownloadOptions(headers=(("X", "é€"),))

    async def go() -> None:
        async with EngineContext(options, resume=False) as ctx:
            Download(ctx, url, options)

    with pytest.raises(UsageError, match="non-ASCII"):
        run(go())
    assert server.requests == []


def test_output_is_a_file(server: DevServer, tmp_path: Path) -> None:
    url = server.add("x.bin", payload(1000, seed=1961))
    afile = tmp_path / "afile"
    afile.write_bytes(b"mine")
    proc = cli("--no-ui", "-o", str(afile), url)
    # refused as bad input before any request (issue 20): -o names a folder, -O a file
    line = assert_one_line_error(proc, 2, "is an existing file", "-O FILE")
    assert "partial" not in line
    assert afile.read_bytes() == b"mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_read_only_folder(server: DevServer, out_dir: Path) -> None:
    url = server.add("x.bin", payload(MiB, seed=1962))
    out_dir.chmod(0o555)
    try:
        proc = cli("--no-ui", "-o", str(out_dir), url)
    finally:
        out_dir.chmod(0o755)
    line = assert_one_line_error(proc, 1, "permission denied")
    assert "partial" not in line


def test_nothing_written_promises_no_resume(tmp_path: Path) -> None:
    # the words the two cases above get (the folder one is not run as root)
    error = PermissionError(13, "Permission denied")
    assert str(local_error(error, tmp_path / "x.part", kept=False)).endswith("permission denied")
    assert "partial data kept" in str(local_error(OSError(28, "No space"), tmp_path / "x"))


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_dead_proxy_is_named(
    server: DevServer, out_dir: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    url = server.add("x.bin", payload(1000, seed=1963))
    proxy = f"http://127.0.0.1:{_dead_port()}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    args = ["-s", url] if mode == "stream" else ["--no-ui", url, "-o", str(out_dir)]
    proc = cli(*args, "--retries", "2")
    assert_one_line_error(proc, 1, f"proxy {proxy}", "refused")
    assert server.stats("x.bin").requests == 0


def test_restart_within_a_run_does_not_blame_the_last_run(server: DevServer, out_dir: Path) -> None:
    data = payload(5 * MiB, seed=1964)
    url = server.add("chg.bin", data, Faults(change_after=3))
    proc = cli("--no-ui", "--chunk-size", "512K", "-o", str(out_dir), url)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    err = proc.stderr.decode()
    assert "starting over" in err
    assert "since the last run" not in err
    assert file_sha256(out_dir / "chg.bin") == sha256(server.content("chg.bin"))


def test_unusable_state_folder_downloads_without_resume(
    server: DevServer, out_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))  # state dir below a file
    data = payload(3 * MiB, seed=1965)
    url = server.add("big.bin", data)
    proc = cli("--no-ui", "-o", str(out_dir), url)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    lines = [x for x in proc.stderr.decode().splitlines() if x.startswith("hydra-tui:")]
    assert len(lines) == 1 and "resume store" in lines[0] and "will not resume" in lines[0]
    assert "Traceback" not in proc.stderr.decode()
    assert file_sha256(out_dir / "big.bin") == sha256(data)


def test_no_validator_is_said_and_the_size_still_guards(server: DevServer, out_dir: Path) -> None:
    data = payload(3 * MiB, seed=1966)
    url = server.add("bare.bin", data, Faults(no_validators=True))
    proc = cli("--no-ui", "-t", "4", "-o", str(out_dir), url)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert "no ETag or Last-Modified" in proc.stderr.decode()
    assert file_sha256(out_dir / "bare.bin") == sha256(data)
