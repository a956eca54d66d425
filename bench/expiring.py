"""A URL that expires every few seconds during a download: how many extra bytes?

    python bench/expiring.py [SIZE_MIB] [LIFETIME_S] [RATE_MIB_S]

The devserver signs URLs good for LIFETIME_S seconds (``Faults.signed_for``) and caps
the resource at RATE_MIB_S MiB/s, so the download outlives several URLs. Runs disk mode
through the redirecting entry URL and stream mode with ``--url-cmd``; checks sha256 and
prints bytes served / file size (target: ≤ 1.02), renewals (403s) and wall time.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults

MiB = 1024 * 1024


def main() -> int:
    size = int(sys.argv[1]) * MiB if len(sys.argv) > 1 else 64 * MiB
    lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    rate = int(float(sys.argv[3]) * MiB) if len(sys.argv) > 3 else 4 * MiB
    data = os.urandom(size)
    want = hashlib.sha256(data).hexdigest()
    work = Path(tempfile.mkdtemp(prefix="hydra-expiring-"))
    print(f"| {size // MiB} MiB at {rate / MiB:g} MiB/s, URL good for {lifetime:g} s "
          "| wall s | served / size | 403s |")  # fmt: skip
    print("|---|---:|---:|---:|")
    try:
        with DevServer() as server:
            server.add("big.bin", data, Faults(signed_for=lifetime, link_rate=rate))
            fetch = (
                "import sys, urllib.request; "
                "print(urllib.request.urlopen(sys.argv[1]).read().decode())"
            )
            cmd = shlex.join([sys.executable, "-c", fetch, server.sign_url("big.bin", text=True)])
            hydra = [sys.executable, "-m", "hydra_tui", "-q", "-t", "4"]
            for name in ("disk, entry URL redirects", "stream, --url-cmd"):
                server.reset_stats()
                began = time.perf_counter()
                if name.startswith("disk"):
                    out = work / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    args = [*hydra, "--no-ui", "-o", str(out), server.sign_url("big.bin")]
                    subprocess.run(args, check=True)
                    got = hashlib.sha256((out / "big.bin").read_bytes()).hexdigest()
                else:
                    signed = subprocess.run(
                        shlex.split(cmd), capture_output=True, check=True, text=True
                    ).stdout.strip()
                    args = [*hydra, "-s", signed, "--url-cmd", cmd]
                    proc = subprocess.run(args, capture_output=True, check=True)
                    got = hashlib.sha256(proc.stdout).hexdigest()
                wall = time.perf_counter() - began
                assert got == want, f"{name}: sha256 differs"
                stats = server.stats("big.bin")
                ratio = stats.bytes_sent / size
                print(f"| {name} | {wall:.1f} | {ratio:.4f} | {stats.statuses[403]} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
