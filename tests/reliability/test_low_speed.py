"""Issue 19 item 9: a server that trickles (bytes do arrive, so the stall timeout never
fires) is caught by the low-speed limit: its connections are restarted, and after
``--retries`` restarts the download fails with one line. Progress shows the bytes that
did arrive. A small ``--speed-time`` keeps the test short (the watch's clock is tested
without waiting in tests/unit/test_lowspeed.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.http.probe import PROBE_BYTES
from tests.support.cli_runs import MiB, assert_one_line_error
from tests.support.helpers import cli, file_sha256, payload, sha256

SLOW = ("--speed-limit", "1K", "--speed-time", "1")


def test_trickling_range_bodies_fail_after_retries_and_progress_shows_them(
    server: DevServer, out_dir: Path
) -> None:
    data = payload(2 * MiB, seed=1991)
    # the probe goes at full speed, then every range body trickles at 300 B/s
    url = server.add("trickle.bin", data, Faults(slow_after=1, slow_rate=300))
    start = time.monotonic()
    proc = cli("--no-ui", "--progress", "jsonl", "-t", "2", "--retries", "2",
               *SLOW, "-o", str(out_dir), url)  # fmt: skip
    took = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr.decode()[-3000:]
    assert took < 30
    # with --progress=jsonl every stderr line is JSON, the error an ``error`` event
    records = [json.loads(x) for x in proc.stderr.decode().splitlines()]
    errors = [r for r in records if r["event"] == "error"]
    assert len(errors) == 1 and errors[0]["exit_code"] == 1, errors
    message = errors[0]["message"]
    assert "too slow" in message and "--speed-limit" in message
    assert "3 times" in message  # --retries 2: two restarts, then the end
    done = [r["done"] for r in records if r["event"] == "progress"]
    # bytes that arrived but are not flushed yet (1 MiB batches) are counted
    assert done and max(done) > PROBE_BYTES, done
    assert not (out_dir / "trickle.bin").exists()
    assert server.stats("trickle.bin").requests >= 3  # the connections were restarted


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_trickling_probe_fails_too(server: DevServer, out_dir: Path, mode: str) -> None:
    url = server.add("tiny.bin", payload(50_000, seed=1992), Faults(rate=200))
    args = ["-s", url] if mode == "stream" else ["--no-ui", url, "-o", str(out_dir)]
    proc = cli(*args, "--retries", "1", *SLOW)
    assert_one_line_error(proc, 1, "too slow")
    assert not (out_dir / "tiny.bin").exists()


def test_slow_but_above_the_limit_completes(server: DevServer, out_dir: Path) -> None:
    data = payload(24_000, seed=1993)
    url = server.add("steady.bin", data, Faults(rate=8 * 1024))
    proc = cli("--no-ui", "--retries", "0", *SLOW, "-o", str(out_dir), url)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert file_sha256(out_dir / "steady.bin") == sha256(data)


def test_zero_turns_the_limit_off(server: DevServer, out_dir: Path) -> None:
    data = payload(1_500, seed=1994)
    url = server.add("crawl.bin", data, Faults(rate=700))  # ~2 s under 1 KiB/s
    proc = cli("--no-ui", "--retries", "0", "--lowest-speed-limit", "0", "--speed-time", "1",
               "-o", str(out_dir), url)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert file_sha256(out_dir / "crawl.bin") == sha256(data)
