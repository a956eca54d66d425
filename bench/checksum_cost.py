"""What ``--checksum-file`` costs on a 1 GiB loopback download, disk and stream mode.

    python bench/checksum_cost.py [SIZE_MIB] [ROUNDS]

Serves random bytes from a file with the devserver, runs ``hydra-tui`` with and without
a SHA256SUMS list (variants interleaved, each output deleted before the next run),
checks every output by sha256 and prints medians of wall and CPU seconds (children's
user + system). Disk mode verifies by reading the finished ``.part`` back (mostly page
cache); stream mode hashes on the writer thread as bytes go to stdout.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hydra_tui.devserver import DevServer

MiB = 1024 * 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(args: list[str], out: Path | None) -> tuple[float, float, str]:
    cpu, wall = _cpu(), time.perf_counter()
    cmd = [sys.executable, "-m", "hydra_tui", *args, "-q"]
    if out is None:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
        digest = hashlib.sha256(proc.stdout).hexdigest()
        took = time.perf_counter() - wall, _cpu() - cpu
    else:
        subprocess.run(cmd, check=True)
        took = time.perf_counter() - wall, _cpu() - cpu
        digest = _file_sha256(out)
    return took[0], took[1], digest


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 * MiB):
            h.update(block)
    return h.hexdigest()


def main() -> int:
    size = int(sys.argv[1]) * MiB if len(sys.argv) > 1 else 1024 * MiB
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    work = Path(tempfile.mkdtemp(prefix="hydra-sums-"))
    try:
        src = work / "big.bin"
        h = hashlib.sha256()
        with src.open("wb") as f:
            for _ in range(size // MiB):
                block = os.urandom(MiB)
                h.update(block)
                f.write(block)
        want = h.hexdigest()
        sums = work / "SHA256SUMS"
        sums.write_text(f"{want} *big.bin\n")
        out = work / "out"
        times: dict[str, list[tuple[float, float]]] = {}
        with DevServer() as server:
            url = server.add_file("big.bin", src)
            variants = {
                "disk": ([url, "--no-ui", "-o", str(out), "-t", "8"], out / "big.bin"),
                "disk + --checksum-file": (
                    [url, "--no-ui", "-o", str(out), "-t", "8", "--checksum-file", str(sums)],
                    out / "big.bin",
                ),
                "stream": (["-s", url, "-t", "8"], None),
                "stream + --checksum-file": (
                    ["-s", url, "-t", "8", "--checksum-file", str(sums)],
                    None,
                ),
            }
            for _ in range(rounds):
                for name, (args, target) in variants.items():
                    shutil.rmtree(out, ignore_errors=True)
                    wall, cpu, digest = _run(args, target)
                    assert digest == want, f"{name}: sha256 differs"
                    times.setdefault(name, []).append((wall, cpu))
        print(f"| {size // MiB} MiB loopback, -t 8, {rounds} rounds | wall s | CPU s |")
        print("|---|---:|---:|")
        for name, got in times.items():
            wall = statistics.median(w for w, _ in got)
            cpu = statistics.median(c for _, c in got)
            print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
