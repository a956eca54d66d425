"""``-s URL --save FILE``: the stream goes to stdout and to FILE at once; killed, the
same command replays the saved bytes, then downloads the rest."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import kill_9_once
from tests.support.helpers import cli, file_sha256, payload, sha256
from tests.support.resume_store import assert_rerun_replays_the_saved_bytes, saved_prefix

MiB = 1024 * 1024


def test_stream_and_file_at_once(server: DevServer, out_dir: Path) -> None:
    data = payload(6 * MiB + 11, seed=1)
    url = server.add("x.bin", data, Faults(reset=0.2, seed=2))
    target = out_dir / "x.bin"
    proc = cli("-s", url, "--save", str(target), "-q", "-t", "4", "--chunk-size", "512K")
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)
    assert file_sha256(target) == sha256(data)
    assert sorted(p.name for p in out_dir.iterdir()) == ["x.bin"]


def test_small_file_saved_too(server: DevServer, out_dir: Path) -> None:
    data = payload(3000, seed=3)  # the probe brings it all
    url = server.add("small.txt", data)
    proc = cli("-s", url, "--save", str(out_dir / "s.txt"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == data
    assert file_sha256(out_dir / "s.txt") == sha256(data)


def test_kill_mid_save_then_rerun_replays_and_resumes(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    data = payload(16 * MiB, seed=4)
    url = server.add("k.tar", data, Faults(link_rate=4 * MiB))
    target, part = out_dir / "k.tar", (out_dir / "k.tar.part").resolve()
    args = ["-s", url, "--save", str(target), "-q", "-t", "4", "--chunk-size", "256K"]
    first_out = tmp_path / "first.out"
    with first_out.open("wb") as sink:
        # until the run checkpointed a few MiB (still running: 16 MiB at 4 MiB/s)
        kill_9_once(
            lambda: saved_prefix(part) >= 3 * MiB,
            "a checkpoint",
            *args,
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )
    saved = saved_prefix(part)
    assert 0 < saved < len(data)
    assert not target.exists() and part.exists()
    assert_rerun_replays_the_saved_bytes(server, "k.tar", args, data, target, saved)


def test_mismatch_keeps_the_part(server: DevServer, out_dir: Path) -> None:
    data = payload(2 * MiB, seed=5)
    url = server.add("m.bin", data)
    proc = cli("-s", url, "--save", str(out_dir / "m.bin"), "-q", "--sha256", "0" * 64)
    assert proc.returncode == 3 and b"sha256 mismatch" in proc.stderr
    assert sha256(proc.stdout) == sha256(data)
    assert not (out_dir / "m.bin").exists()
    assert file_sha256(out_dir / "m.bin.part") == sha256(data)


def test_save_needs_one_streamed_url(server: DevServer, out_dir: Path) -> None:
    url = server.add("u.bin", b"x")
    alone = cli(url, "--no-ui", "--save", str(out_dir / "u.bin"))
    assert alone.returncode == 2 and b"--save keeps a stream" in alone.stderr
    two = cli("-s", url, url + "?2", "--save", str(out_dir / "u.bin"))
    assert two.returncode == 2 and b"exactly one URL" in two.stderr
    assert list(out_dir.iterdir()) == []
