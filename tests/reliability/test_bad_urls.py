"""Case 8: malformed URLs are usage errors (exit 2, one line, no traceback), in disk and
stream mode, and nothing is written. (``ftp://`` is covered by
tests/cli/test_cli_headless.py.)

URLs rejected while parsing run through the entry point in-process (no I/O happens
before the error); those that get past the parser, and a couple of rejected ones, run as
real processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer
from tests.support.cli_runs import (
    assert_one_line_error,
    assert_quiet_one_line_error,
    main_in_process,
)
from tests.support.helpers import cli

_INVALID_URL_BUG = pytest.mark.regression  # was a bug, fixed

BAD = [
    pytest.param("http://", "no host", id="no-host"),
    pytest.param("http:///x", "no host", id="empty-host"),
    pytest.param("http://[::1", "invalid URL", id="open-bracket"),
    pytest.param("javascript:alert(1)", "not an http(s) URL", id="javascript"),
    pytest.param("file:///etc/passwd", "not an http(s) URL", id="file"),
    pytest.param("mailto:someone@example.org", "not an http(s) URL", id="mailto"),
    pytest.param("", "not an http(s) URL", id="empty"),
    pytest.param("http://user:pw@/x", "no host", id="userinfo-no-host"),
    pytest.param("http://127.0.0.1:65536/x", "port", id="port-range"),
    pytest.param("http://127.0.0.1 /x", "whitespace", id="space"),
    pytest.param("http://127.0.0.1:9/x.bin\x01", "URL", marks=_INVALID_URL_BUG, id="ctrl-char"),
    pytest.param("http://127.0.0.1:9/x.bin\x7f", "URL", marks=_INVALID_URL_BUG, id="del-char"),
    pytest.param("http://999.0.0.1/x", "URL", marks=_INVALID_URL_BUG, id="bad-ipv4"),
    pytest.param("http://[::1]]/x", "URL", marks=_INVALID_URL_BUG, id="bad-ipv6-bracket"),
    pytest.param("http://xn--a/x", "URL", marks=_INVALID_URL_BUG, id="bad-punycode"),
]


def _args(mode: str, url: str) -> list[str]:
    base = ["-s", "-q"] if mode == "stream" else ["--no-ui", "-q", "-o", "out"]
    return [*base, url, "--retries", "0"]


REJECTED = [p for p in BAD if not p.marks]
CRASHING = [p for p in BAD if p.marks]


@pytest.mark.parametrize(("url", "needle"), REJECTED)
@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_malformed_url_is_a_usage_error(mode: str, url: str, needle: str, cwd: Path) -> None:
    """Rejected while parsing: run through the entry point in-process."""
    proc = main_in_process(*_args(mode, url))
    assert_quiet_one_line_error(proc, 2, needle)
    assert proc.stdout == b""


# these reach the engine (the bug), so they run as real processes; the URL is checked
# before the mode matters, so stream mode repeats one of them
PROCESS_CASES = [
    pytest.param("disk", *p.values, marks=p.marks, id=f"disk-{p.id}") for p in CRASHING
] + [
    pytest.param("stream", *CRASHING[0].values, marks=CRASHING[0].marks, id="stream-ctrl-char"),
    pytest.param("disk", *REJECTED[0].values, id="disk-no-host"),
    pytest.param("stream", *REJECTED[3].values, id="stream-javascript"),
]


@pytest.mark.parametrize(("mode", "url", "needle"), PROCESS_CASES)
def test_malformed_url_as_a_process(mode: str, url: str, needle: str, cwd: Path) -> None:
    proc = cli(*_args(mode, url), cwd=cwd)
    assert_quiet_one_line_error(proc, 2, needle)
    assert proc.stdout == b""


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_ten_thousand_char_url(server: DevServer, mode: str, cwd: Path) -> None:
    """Not malformed (RFC 9110 asks for at least 8000 octets; there is no upper limit):
    the server answers 404 and the failure is one line, exit 1."""
    url = server.url("a" * 10_000)
    assert len(url) > 10_000
    args = ["-s"] if mode == "stream" else ["--no-ui", "-o", "out"]
    proc = cli(*args, url, "--retries", "0", cwd=cwd)
    assert_one_line_error(proc, 1, "404")
    assert proc.stdout == b""
