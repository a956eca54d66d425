"""Mirrors against the issue's targets: each mirror is its own loopback devserver (its
own host:port, so its own AIMD window), allowing 2 connections at 4 MiB/s each.

    python bench/mirrors.py [SIZE_MIB] [ROUNDS] [THREADS]

Scenarios: two such mirrors (target >= 0.9 of 16 MiB/s); three, one of them 10x slower
(target >= 0.9 of the sum, 16.8 MiB/s). Every output is checked by sha256. Prints the
median of the download's own average speed (the ``done`` event of ``--progress=jsonl``:
probes included, Python's start-up not) and of the wall time of the whole command.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults

MiB = 1024 * 1024
RATE = 4 * MiB


def _run(urls: list[str], out: Path, threads: str, data_sha: str) -> tuple[float, float]:
    mirrors = [x for u in urls[1:] for x in ("--mirror", u)]
    cmd = [sys.executable, "-m", "hydra_tui", urls[0], *mirrors, "-o", str(out), "--no-ui",
           "-t", threads, "--progress=jsonl"]  # fmt: skip
    wall = time.perf_counter()
    proc = subprocess.run(cmd, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - wall
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").splitlines()[-5:]
        raise SystemExit(f"exit {proc.returncode}:\n" + "\n".join(tail))
    done = [e for e in map(json.loads, proc.stderr.splitlines()) if e["event"] == "done"]
    path = Path(done[0]["path"])
    got = hashlib.sha256(path.read_bytes()).hexdigest()
    if got != data_sha:
        raise SystemExit(f"sha256 mismatch: {got}")
    size = path.stat().st_size
    path.unlink()
    return float(done[0]["speed"]), size / wall


def scenario(title: str, rates: list[int], size: int, rounds: int, threads: str) -> None:
    data = os.urandom(size)
    digest = hashlib.sha256(data).hexdigest()
    servers = [DevServer().start() for _ in rates]
    try:
        # one Last-Modified for all: adds that straddle a second would differ, and plain
        # --mirror drops a mirror whose date differs
        if time.time() % 1 > 0.8:
            time.sleep(1.05 - time.time() % 1)
        urls = [
            s.add("f.bin", data, Faults(rate=r, max_bodies=2, status_code=503))
            for s, r in zip(servers, rates, strict=True)
        ]
        target = 2 * sum(rates)
        with tempfile.TemporaryDirectory() as tmp:
            runs = [_run(urls, Path(tmp), threads, digest) for _ in range(rounds)]
    finally:
        for s in servers:
            s.stop()
    speed = statistics.median(r[0] for r in runs)
    wall = statistics.median(r[1] for r in runs)
    print(
        f"{title}: median {speed / MiB:.2f} MiB/s ({speed / target:.2f} of {target / MiB:.1f}"
        f" MiB/s), wall incl. start-up {wall / MiB:.2f} MiB/s; runs "
        + ", ".join(f"{r[0] / MiB:.2f}" for r in runs)
    )


def main() -> None:
    size = int(sys.argv[1]) * MiB if len(sys.argv) > 1 else 64 * MiB
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    threads = sys.argv[3] if len(sys.argv) > 3 else "2"
    print(f"{size // MiB} MiB, {rounds} rounds, -t {threads}, sha256 checked each run")
    scenario("two mirrors, 2 x 4 MiB/s each", [RATE, RATE], size, rounds, threads)
    scenario("three mirrors, one 10x slower", [RATE, RATE, RATE // 10], size, rounds, threads)


if __name__ == "__main__":
    main()
