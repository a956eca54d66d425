"""Case 7: absurd option values are usage errors: exit 2, one line, no traceback, and
nothing written anywhere (neither the current folder nor the state/log folders).

Every case runs through the console entry point in-process (parsing fails before any
I/O); a few also run as a real ``python -m hydra_tui`` to hold the process-level
contract (exit status, stderr, no traceback). (Covered elsewhere, not repeated:
``-b 1 -s``, ``--limit-rate -5M``, ``-t 0``, ``-t 100000`` and ``--preset nope`` in
tests/cli/test_cli_headless.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runs import assert_quiet_one_line_error, files_under, main_in_process
from tests.support.helpers import cli

URL = "http://127.0.0.1:9/x.bin"  # never contacted: parsing fails first

CASES = [
    (["-s", "-b=-5M"], "buffer"),
    (["-s", "-b", "-5M"], "-b/--buffer"),  # argparse: "-5M" looks like an option
    (["-s", "-b", "1e9"], "buffer"),
    (["-s", "-b", "99999999999T"], "buffer"),
    (["--no-ui", "--limit-rate", "abc"], "limit_rate"),
    (["--no-ui", "--limit-rate", "5Q"], "limit_rate"),
    (["--no-ui", "--retries", "-1"], "retries"),
    (["--no-ui", "--retries", "2.5"], "retries"),
    (["--no-ui", "--timeout", "0"], "timeout"),
    (["--no-ui", "--timeout", "nan"], "timeout"),
    (["--no-ui", "--stall-timeout", "inf"], "stall_timeout"),
    (["--no-ui", "-j", "0"], "max_downloads"),
    (["--no-ui", "-j", "99999999999999999999999"], "max_downloads"),
    (["--no-ui", "--chunk-size", "1"], "chunk_size"),
    (["--no-ui", "--chunk-size", "1e400"], "chunk_size"),
    (["--no-ui", "-t", "-3"], "threads"),
    (["--no-ui", "-H", "X-A: b\r\nInjected: 1"], "line break"),
    (["--no-ui", "-A", "agent\nX-Injected: 1"], "user_agent"),
    (["--no-ui", "-o", ""], "output"),
    (["--no-ui", "--md5", "xyz"], "md5"),
    (["--no-ui", "--progress", "fancy"], "progress"),
    (["--no-ui", "--bogus"], "unrecognized"),
]
IDS = [" ".join(a).replace("\r\n", "CRLF").replace("\n", "LF") for a, _ in CASES]


@pytest.fixture
def cwd(cwd: Path, isolated_dirs: Path) -> Iterator[Path]:
    """The shared empty ``cwd`` (tests/reliability/conftest.py); here the state and log
    folders must stay empty too."""
    yield cwd
    assert not isolated_dirs.exists() or files_under(isolated_dirs) == []


@pytest.mark.parametrize(("args", "needle"), CASES, ids=IDS)
def test_absurd_value_is_a_usage_error(args: list[str], needle: str, cwd: Path) -> None:
    proc = main_in_process(*args, URL)
    assert_quiet_one_line_error(proc, 2, needle)
    assert proc.stdout == b""


@pytest.mark.parametrize(
    ("args", "needle"), [CASES[0], CASES[9], CASES[16]], ids=[IDS[0], IDS[9], IDS[16]]
)
def test_absurd_value_as_a_process(args: list[str], needle: str, cwd: Path) -> None:
    proc = cli(*args, URL, cwd=cwd)
    assert_quiet_one_line_error(proc, 2, needle)
    assert proc.stdout == b""
