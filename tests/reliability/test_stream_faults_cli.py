"""Cases 10 and 11: server faults in STREAM mode through the CLI (``hydra-tui -s``).

Recoverable faults give stdout byte-identical to the file; unrecoverable ones end with
exit 1 and one line, and what reached stdout is a true prefix of the file (never a
splice, never a wrong byte). The same faults in disk mode through the API are in
tests/engine/test_disk_faults.py; resets/429/truncate/ignore-range in stream mode through
the API in tests/engine/test_stream.py.
"""

from __future__ import annotations

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import MiB, assert_one_line_error, is_prefix
from tests.support.helpers import cli, payload, sha256

SIZE = 4 * MiB + 3
COMMON = ("-t", "8", "--chunk-size", "512K", "-b", "4M")


@pytest.mark.parametrize(
    ("faults", "extra", "counted"),
    [
        (Faults(stall=0.3, seed=1), ["--stall-timeout", "0.5"], "stall"),
        (Faults(status_rate=0.5, status_first=3, status_code=503, seed=2), [], "status_rate"),
        (Faults(max_bodies=2, rate=4 * MiB, seed=3), [], None),
        (Faults(no_length=True), [], "no_length"),
        (Faults(lie="total", lie_rate=0.3, seed=5), [], "lie"),
        (Faults(lie="short", lie_rate=0.3, seed=6), [], "lie"),
        (Faults(lie="long", lie_rate=0.3, seed=7), [], "lie"),
        (Faults(no_accept_ranges=True, seed=8), [], None),
    ],
    ids=[
        "stall",
        "503-storm-no-retry-after",
        "max-bodies-2-t8",
        "no-length",
        "lie-total-30%",
        "lie-short-30%",
        "lie-long-30%",
        "no-accept-ranges",
    ],
)
def test_stream_survives(
    server: DevServer, faults: Faults, extra: list[str], counted: str | None
) -> None:
    data = payload(SIZE, seed=1000 + faults.seed)
    url = server.add("f.bin", data, faults)
    proc = cli("-s", url, *COMMON, *extra)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    assert "Traceback" not in proc.stderr.decode()
    assert sha256(proc.stdout) == sha256(data)
    stats = server.stats("f.bin")
    if counted is not None:
        assert stats.faults[counted] > 0, stats.faults  # the fault really happened
    if faults.max_bodies:
        assert stats.statuses[503] > 0  # the 9th-and-later connections were refused


def test_stream_every_range_lies_about_the_total(server: DevServer) -> None:
    data = payload(SIZE, seed=1010)
    url = server.add("liar.bin", data, Faults(lie="total"))
    proc = cli("-s", url, *COMMON, "--retries", "2")
    assert_one_line_error(proc, 1, "liar.bin")
    assert is_prefix(proc.stdout, data)


def test_stream_file_changes_midway(server: DevServer) -> None:
    """Case 11 (the kill-then-resume variant does not apply: a stream never resumes)."""
    data = payload(6 * MiB, seed=1011)
    url = server.add("c.bin", data, Faults(change_after=3))
    proc = cli("-s", url, "-t", "4", "--chunk-size", "512K")
    assert_one_line_error(proc, 1, "changed")
    assert len(proc.stdout) < len(data)
    assert is_prefix(proc.stdout, data)  # version 1 only, never spliced with version 2
    assert server.content("c.bin") != data
