"""Helpers for the fault-injection matrix: how a clean failure looks, and waiting on
another process without sleeping blindly."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MiB = 1024 * 1024


def stderr_lines(proc: subprocess.CompletedProcess[bytes]) -> list[str]:
    return proc.stderr.decode(errors="replace").strip().splitlines()


def assert_one_line_error(
    proc: subprocess.CompletedProcess[bytes], code: int, *needles: str
) -> str:
    """Exit ``code``, no traceback, and exactly one ``hydra-tui: ...`` error line (warnings
    aside), containing every needle (case-insensitive); return that line. Progress and
    warning lines may surround it (see ``assert_quiet_one_line_error`` for ``-q``)."""
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == code, f"exit {proc.returncode}, stderr:\n{err[-3000:]}"
    assert "Traceback" not in err, err[-3000:]
    errors = [line for line in err.splitlines() if line.startswith("hydra-tui: ")]
    errors = [line for line in errors if not line.startswith("hydra-tui: warning:")]
    assert len(errors) == 1, err[-3000:]
    line = errors[0]
    for needle in needles:
        assert needle.lower() in line.lower(), line
    return line


def assert_quiet_one_line_error(
    proc: subprocess.CompletedProcess[bytes], code: int, *needles: str
) -> str:
    """Like ``assert_one_line_error`` but stderr must be exactly that one line."""
    line = assert_one_line_error(proc, code, *needles)
    assert stderr_lines(proc) == [line]
    return line


def files_under(root: Path) -> list[Path]:
    """Every file below ``root``, relative to it, sorted."""
    return sorted(p.relative_to(root) for p in root.rglob("*") if not p.is_dir())


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``cond`` (another process or the server thread changes it) until true."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)  # polling state that another process changes


def popen_cli(*args: str, **kw: Any) -> subprocess.Popen[bytes]:
    """Start ``python -m hydra_tui ARGS`` (the caller waits on it)."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([sys.executable, "-m", "hydra_tui", *args], env=os.environ.copy(), **kw)


def kill_9_once(cond: Callable[[], bool], what: str, *args: str, **kw: Any) -> None:
    """Start ``python -m hydra_tui ARGS``, wait (up to 60 s) until ``cond`` holds while it
    still runs, then SIGKILL it and reap it. Its stdout and stderr are the test's unless
    ``stdout``/``stderr`` say otherwise (nothing reads a pipe here)."""
    kw.setdefault("stdout", None)
    kw.setdefault("stderr", None)
    proc = popen_cli(*args, **kw)
    try:
        wait_until(cond, 60, what)
        assert proc.poll() is None, "finished before it could be killed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def is_prefix(got: bytes, data: bytes) -> bool:
    return data[: len(got)] == got


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 90,
    input: bytes | None = None,
    **kw: Any,
) -> subprocess.CompletedProcess[bytes]:
    """``helpers.cli`` with extra ``subprocess.run`` arguments (stdout, preexec_fn)."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "hydra_tui", *args],
        timeout=timeout,
        cwd=cwd,
        input=input,
        env=os.environ.copy(),
        check=False,
        **kw,
    )


def main_in_process(*args: str, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    """Call the console entry point ``hydra_tui.cli.main.main`` in this process.

    For arguments that must fail while parsing (nothing is fetched, no event loop is
    started): as faithful as a subprocess for what is printed and returned, ~100 times
    faster. A traceback would be an exception escaping ``main``, failing the test."""
    from hydra_tui.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _replaced_stdin(stdin),
    ):
        code = main(list(args))
    return subprocess.CompletedProcess(
        list(args), code, out.getvalue().encode(), err.getvalue().encode()
    )


@contextlib.contextmanager
def _replaced_stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved
