"""Case 2: the local write fails midway (a file-size limit, a full device).

Disk mode: one line naming the cause, non-zero exit, the ``.part`` kept and no final
name; the next run resumes (the server sends less than the whole file) and the result
is byte-identical. Stream mode: stdout is the file that cannot be written to.
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import MiB, assert_one_line_error, files_under, is_prefix, run_cli
from tests.support.helpers import file_sha256, payload, sha256

LIMIT = 3 * MiB


def _limit_file_size() -> None:
    """Runs in the child before exec: writes past LIMIT fail with EFBIG (Python ignores
    SIGXFSZ, so the process is not killed by it)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_file_size_limit_then_resume(server: DevServer, out_dir: Path) -> None:
    data = payload(8 * MiB, seed=201)
    url = server.add("w.bin", data, Faults(rate=16 * MiB))
    args = ("--no-ui", url, "-o", str(out_dir), "-t", "4", "--chunk-size", "512K")
    proc = run_cli(*args, preexec_fn=_limit_file_size)
    assert_one_line_error(proc, 1, "file size limit", "w.bin")
    assert files_under(out_dir) == [Path("w.bin.part")]
    assert (out_dir / "w.bin.part").stat().st_size <= LIMIT
    sent_first = server.stats("w.bin").bytes_sent

    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr.decode()
    assert files_under(out_dir) == [Path("w.bin")]
    assert file_sha256(out_dir / "w.bin") == sha256(data)
    assert b"resumed" in proc.stderr
    resent = server.stats("w.bin").bytes_sent - sent_first
    assert resent < len(data), f"second run fetched {resent} of {len(data)} bytes: no resume"


@pytest.mark.parametrize("how", ["dev-full", "file-size-limit"])
def test_stream_stdout_write_failure_is_one_line(
    server: DevServer, tmp_path: Path, how: str
) -> None:
    data = payload(8 * MiB, seed=202)
    url = server.add("s.bin", data)
    args = ("-s", url, "-t", "4", "--chunk-size", "512K")
    if how == "dev-full":
        with open("/dev/full", "wb") as sink:  # every write fails with ENOSPC
            proc = run_cli(*args, stdout=sink)
        assert_one_line_error(proc, 1, "no space")
    else:
        target = tmp_path / "stdout.bin"
        with target.open("wb") as sink:
            proc = run_cli(*args, stdout=sink, preexec_fn=_limit_file_size)
        assert_one_line_error(proc, 1, "file size limit")
        written = target.read_bytes()
        assert 0 < len(written) <= LIMIT
        assert is_prefix(written, data)
