"""How long ``hydra-tui add`` takes with a service running (target: 150 ms), beside a
bare ``python -c pass``, on temporary XDG folders. Run: ``python bench/service_add.py``."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 15


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hyb") as tmp:
        env = {**os.environ}
        for var in ("XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            env[var] = str(Path(tmp) / var.lower())
            Path(env[var]).mkdir(mode=0o700)  # platformdirs ignores a runtime dir not 0700
        daemon = subprocess.Popen(
            [sys.executable, "-m", "hydra_tui", "daemon"], env=env, stderr=subprocess.DEVNULL
        )
        sock = Path(env["XDG_RUNTIME_DIR"]) / "hydra-tui" / "service.sock"
        while not sock.exists():
            if daemon.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.02)
        try:
            add = [sys.executable, "-m", "hydra_tui", "add", "-o", tmp,
                   "http://127.0.0.1:9/never.bin"]  # fmt: skip
            base = [timed([sys.executable, "-c", "pass"], env) for _ in range(RUNS)]
            adds = [timed(add, env) for _ in range(RUNS)]
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait()
    print(f"python -c pass   median {statistics.median(base) * 1000:6.0f} ms")
    median, best, worst = (1000 * f(adds) for f in (statistics.median, min, max))
    print(f"hydra-tui add    median {median:6.0f} ms, best {best:.0f}, worst {worst:.0f} ({RUNS}x)")


if __name__ == "__main__":
    main()
