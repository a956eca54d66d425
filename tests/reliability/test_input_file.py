"""Case 6: ``-i`` lists with junk, lists without URLs, and ``-i -`` from stdin.

A bad line is a usage error (exit 2) naming the line, before anything is fetched.
(A clean list with comments and headers: tests/cli/test_cli_headless.py.) Cases that
fail while parsing run through the entry point in-process, a few also as processes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer
from tests.support.cli_runs import assert_quiet_one_line_error, files_under, main_in_process
from tests.support.helpers import cli, file_sha256, payload, sha256

FILES = {"a.bin": payload(300_000, seed=601), "b.bin": payload(700_001, seed=602)}


@pytest.fixture
def urls(server: DevServer) -> list[str]:
    return [server.add(name, data) for name, data in FILES.items()]


_CONTROL_CHAR_BUG = pytest.mark.regression  # was a bug, fixed


def _run(*args: str, process: bool, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    if process:
        return cli(*args, input=stdin.encode())
    return main_in_process(*args, stdin=stdin)


@pytest.mark.parametrize(
    ("mode", "process", "junk", "needle"),
    [
        ("disk", True, "not a url", "not an http(s) URL"),
        ("disk", False, "ftp://127.0.0.1/x.bin", "not an http(s) URL"),
        ("disk", False, "http://", "no host"),
        ("disk", False, "http://127.0.0.1:99999/x", "port"),
        ("disk", False, "{a} {b}", "whitespace"),
        ("disk", False, "\x00junk", "not an http(s) URL"),
        pytest.param("disk", True, "{a}\x01", "URL", marks=_CONTROL_CHAR_BUG),
        ("stream", False, "not a url", "not an http(s) URL"),
        ("stream", False, "http://[::1", "invalid URL"),
    ],
    ids=[
        "words", "ftp", "no-host", "bad-port", "two-on-a-line", "nul", "control-char",
        "stream-words", "stream-bad-ipv6",
    ],
)  # fmt: skip
def test_junk_line_is_usage_error_naming_the_line(
    server: DevServer, urls: list[str], tmp_path: Path, out_dir: Path,
    junk: str, needle: str, mode: str, process: bool,
) -> None:  # fmt: skip
    listing = tmp_path / "list.txt"
    bad = junk.format(a=urls[0], b=urls[1])
    listing.write_text(f"# my list\n{urls[0]}\n\n{bad}\n{urls[1]}\n", encoding="utf-8")
    args = ["-s"] if mode == "stream" else ["--no-ui", "-o", str(out_dir)]
    proc = _run(*args, "-i", str(listing), process=process)
    assert_quiet_one_line_error(proc, 2, "line 4", needle, str(listing))
    assert proc.stdout == b""
    assert files_under(out_dir) == []
    assert server.requests == []  # refused before fetching anything


@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_only_comments_is_a_clear_error(tmp_path: Path, out_dir: Path, stdin: bool) -> None:
    text = "# nothing here yet\n\n   # indented comment\n"
    if stdin:  # a real pipe
        proc = _run("--no-ui", "-o", str(out_dir), "-i", "-", process=True, stdin=text)
        assert_quiet_one_line_error(proc, 2, "no URLs", "<stdin>")
    else:
        listing = tmp_path / "list.txt"
        listing.write_text(text, encoding="utf-8")
        proc = _run("--no-ui", "-o", str(out_dir), "-i", str(listing), process=False)
        assert_quiet_one_line_error(proc, 2, "no URLs", str(listing))
    assert files_under(out_dir) == []


def test_unreadable_input_file(tmp_path: Path) -> None:
    proc = _run("--no-ui", "-i", str(tmp_path / "missing.txt"), process=False)
    assert_quiet_one_line_error(proc, 2, "cannot read input file", "missing.txt")
    listing = tmp_path / "latin1.txt"
    listing.write_bytes(b"http://127.0.0.1/caf\xe9.bin\n")
    proc = _run("--no-ui", "-i", str(listing), process=False)
    assert_quiet_one_line_error(proc, 2, "not UTF-8")


def test_stdin_list_disk(urls: list[str], out_dir: Path) -> None:
    text = f"# from a pipe\n{urls[0]}\r\n\n  {urls[1]}  \n"
    proc = cli("--no-ui", "-q", "-o", str(out_dir), "-i", "-", input=text.encode())
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    assert files_under(out_dir) == sorted(Path(n) for n in FILES)
    for name, data in FILES.items():
        assert file_sha256(out_dir / name) == sha256(data)


def test_stdin_list_stream(urls: list[str]) -> None:
    text = f"{urls[0]}\n# between\n{urls[1]}\n"
    proc = cli("-s", "-q", "-i", "-", input=text.encode())
    assert proc.returncode == 0, proc.stderr.decode()
    assert sha256(proc.stdout) == sha256(FILES["a.bin"] + FILES["b.bin"])


def test_duplicate_url_in_list(urls: list[str], out_dir: Path, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"{urls[1]}\n{urls[1]}\n", encoding="utf-8")
    proc = cli("--no-ui", "-q", "-o", str(out_dir), "-i", str(listing))
    err = proc.stderr.decode()
    assert "another hydra-tui process" not in err
    assert proc.returncode == 0, err
    assert file_sha256(out_dir / "b.bin") == sha256(FILES["b.bin"])
