"""``-s URL --save FILE`` meeting the other ways a stream ends early: a URL that expires
mid-stream (renewed by ``--url-cmd``, stdout and FILE both whole), and a reader that goes
away (``| head -c N``): the ``.part`` keeps what was written, and the same command
with a full reader replays it and completes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from tests.support.helpers import cli, file_sha256, payload, print_fresh_url, sha256
from tests.support.resume_store import assert_rerun_replays_the_saved_bytes, saved_prefix

MiB = 1024 * 1024


def test_save_while_the_url_expires_mid_stream(server: DevServer, out_dir: Path) -> None:
    data = payload(6 * MiB + 7, seed=1)
    server.add("e.tar", data, Faults(signed_uses=5))
    first = cli("-s", server.sign_url("e.tar", text=True), "-q").stdout.decode().strip()
    target = out_dir / "e.tar"
    proc = cli("-s", first, "--save", str(target), "-q", "-t", "4", "--chunk-size", "256K",
               "--url-cmd", print_fresh_url(server, "e.tar"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)
    assert file_sha256(target) == sha256(data)
    assert sorted(p.name for p in out_dir.iterdir()) == ["e.tar"]
    stats = server.stats("e.tar")
    assert stats.statuses[403] >= 1  # it did expire mid-stream
    assert stats.bytes_sent <= len(data) * 1.02 + 64 * 1024


def test_reader_gone_keeps_the_part_and_a_rerun_replays_it(
    server: DevServer, out_dir: Path
) -> None:
    data = payload(16 * MiB + 3, seed=2)
    url = server.add("r.tar", data, Faults(link_rate=4 * MiB))
    target, part = out_dir / "r.tar", (out_dir / "r.tar.part").resolve()
    args = ["-s", url, "--save", str(target), "-q", "-t", "4", "--chunk-size", "256K"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hydra_tui", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(2 * MiB)
    proc.stdout.close()  # like `| head -c 2M`, long before the end (16 MiB at 4 MiB/s)
    err = proc.stderr.read()
    code = proc.wait(timeout=60)
    proc.stderr.close()
    assert head == data[: 2 * MiB]
    assert code == 141  # as a shell reports SIGPIPE (cli/stream_run.py), and quietly
    assert b"Traceback" not in err and b"Broken pipe" not in err, err
    assert not target.exists() and part.exists()
    saved = saved_prefix(part)
    assert 2 * MiB <= saved < len(data)  # at least what the reader took
    with part.open("rb") as f:
        assert f.read(saved) == data[:saved]  # what was written is kept, and right
    assert_rerun_replays_the_saved_bytes(server, "r.tar", args, data, target, saved)
