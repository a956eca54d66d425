"""``hydra-tui --stream`` as a pipeline stage: only data on stdout, bounded memory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from tests.support.helpers import cli, payload, sha256

MiB = 1024 * 1024


def test_stream_to_stdout_only_data(server: DevServer) -> None:
    data = payload(6 * MiB + 7, seed=1)
    url = server.add("s.bin", data, Faults(reset=0.2, seed=1))
    proc = cli("-s", url, "-t", "8", "--chunk-size", "512K")
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)


def test_stream_quiet_and_several_urls_like_cat(server: DevServer) -> None:
    a, b = payload(MiB + 1, seed=2), payload(2 * MiB, seed=3)
    ua, ub = server.add("a.bin", a), server.add("b.bin", b)
    proc = cli("--stream", ua, ub, "-q")
    assert proc.returncode == 0
    assert proc.stderr == b""
    assert sha256(proc.stdout) == sha256(a + b)


def test_stream_checksum(server: DevServer) -> None:
    data = payload(MiB, seed=4)
    url = server.add("c.bin", data)
    good = cli("-s", url, "-q", "--sha256", sha256(data))
    assert good.returncode == 0 and sha256(good.stdout) == sha256(data)
    bad = cli("-s", url, "-q", "--md5", "0" * 32)
    assert bad.returncode == 3
    assert b"md5 mismatch" in bad.stderr
    # the progress says what the exit status says: no "done:" after the mismatch, and
    # jsonl ends on the error, without a "done" event
    shown = cli("-s", url, "--md5", "0" * 32)
    assert shown.returncode == 3 and b"md5 mismatch" in shown.stderr
    assert b"done:" not in shown.stderr
    events = cli("-s", url, "--progress", "jsonl", "--md5", "0" * 32)
    lines = [json.loads(line) for line in events.stderr.splitlines()]
    kinds = [e["event"] for e in lines]
    assert "error" in kinds and "done" not in kinds
    # what the download reached comes first, then its error, with its id
    assert kinds.index("start") < kinds.index("error") == len(kinds) - 1, kinds
    assert lines[-1]["id"] == lines[kinds.index("start")]["id"]


def test_reader_closing_early_ends_quietly(server: DevServer) -> None:
    data = payload(32 * MiB, seed=5)
    url = server.add("h.bin", data, Faults(rate=4 * MiB))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hydra_tui", "-s", url, "-t", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(100)
    proc.stdout.close()  # like `| head -c 100`
    err = proc.stderr.read()
    code = proc.wait(timeout=20)
    proc.stderr.close()
    assert head == data[:100]
    assert code == 141
    assert b"Traceback" not in err and b"Broken pipe" not in err and b"BrokenPipe" not in err


def test_peak_memory_bounded_with_a_slow_reader(server: DevServer) -> None:
    data = payload(96 * MiB, seed=6)
    url = server.add("m.bin", data)
    buffer = 8 * MiB
    proc = subprocess.Popen(
        [sys.executable, "-m", "hydra_tui", "-s", url, "-q", "-t", "8", "-b", "8MiB"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.stdout is not None
    h = hashlib.sha256()
    peak_kib = 0
    status = Path(f"/proc/{proc.pid}/status")
    while block := proc.stdout.read(256 * 1024):  # a reader much slower than loopback
        h.update(block)
        for line in status.read_text().splitlines() if status.exists() else []:
            if line.startswith("VmHWM:"):
                peak_kib = max(peak_kib, int(line.split()[1]))
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    assert proc.returncode == 0
    assert h.hexdigest() == sha256(data)
    assert peak_kib > 0
    assert peak_kib * 1024 <= buffer + 64 * MiB, f"peak RSS {peak_kib} KiB"


def test_stream_path_never_imports_textual(server: DevServer) -> None:
    url = server.add("i.bin", payload(1000, seed=7))
    # click hidden: httpx imports its own CLI (rich) when click is importable, and the
    # test extra's moto[server] brings click (tests/test_import_hygiene.py)
    main = (
        "import sys, runpy; sys.modules['click'] = None; "
        "runpy.run_module('hydra_tui', run_name='__main__')"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", main, "-s", url, "-q"],
        capture_output=True, env=os.environ.copy(), timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0
    imported = proc.stderr.decode()
    assert "hydra_tui.engine" in imported  # the probe really saw the imports
    assert "textual" not in imported and "rich" not in imported.replace("hydra_tui", "")
