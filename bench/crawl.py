"""One crawling connection of 8: how much longer a download takes than without it.

    python bench/crawl.py [--rounds 3] [--size 64M] [stream|disk ...]

The in-tree devserver serves the same random bytes three times: ``steady.bin`` at 4 MB/s
per response; ``crawl.bin`` where one response in 8 crawls at 50 kB/s (bodies 1, 9,
17, ...: a hedge that happens to be the 9th request crawls too); and ``crawlconn.bin``
where one connection crawls at 50 kB/s for every response it carries (the second one
to ask: the first carries the probe) while a new connection is fast. Before each
``crawl.bin`` run a few one-byte requests line the devserver's body counter up so that
the first range request crawls, never the probe. hydra-tui runs with ``-t 8`` to disk
and with ``--stream``; every output is checked by sha256. Prints the medians and the
ratio ``steady / crawl`` for each (1.0: the crawling connection costs nothing; issue 17 asks for
at least 0.9).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults, parse_size

_EVERY = 8


def _line_up(srv: DevServer, url: str) -> None:
    """One-byte requests until the next body after the probe is the crawling one."""
    while srv.stats("crawl.bin").requests % _EVERY != _EVERY - 1:
        request = urllib.request.Request(url, headers={"Range": "bytes=0-0"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()


def _run(mode: str, url: str, name: str, work: Path, want: str) -> float:
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    env = dict(os.environ, XDG_STATE_HOME=str(work / "state"))
    hydra = [sys.executable, "-m", "hydra_tui", "-q", "-t", "8"]
    start = time.perf_counter()
    if mode == "stream":
        proc = subprocess.run([*hydra, "-s", url], capture_output=True, env=env, check=False)
        got = hashlib.sha256(proc.stdout).hexdigest()
    else:
        argv = [*hydra, "--no-ui", "-o", str(out), url]
        proc = subprocess.run(argv, capture_output=True, env=env, check=False)
        path = out / name
        got = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or got != want:
        raise SystemExit(f"{mode} {name}: exit {proc.returncode}, sha256 ok: {got == want}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(prog="python bench/crawl.py", description=__doc__)
    parser.add_argument("modes", nargs="*", default=["stream", "disk"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=parse_size, default=64 * 1024 * 1024)
    args = parser.parse_args()
    data = os.urandom(args.size)
    want = hashlib.sha256(data).hexdigest()
    times: dict[tuple[str, str], list[float]] = {}
    with DevServer() as srv, tempfile.TemporaryDirectory(prefix="hydra-crawl-") as tmp:
        srv_faults = {"crawlconn.bin": Faults(rate=4_000_000, slow_connection=2, slow_rate=50_000)}
        urls = {
            "steady.bin": srv.add("steady.bin", data, Faults(rate=4_000_000)),
            "crawl.bin": srv.add(
                "crawl.bin", data, Faults(rate=4_000_000, slow_every=_EVERY, slow_rate=50_000)
            ),
            "crawlconn.bin": srv.add(
                "crawlconn.bin",
                data,
                srv_faults["crawlconn.bin"],
            ),
        }
        for round_ in range(1, args.rounds + 1):
            for mode in args.modes:
                for name, url in urls.items():
                    if name == "crawl.bin":
                        _line_up(srv, url)
                    elif name == "crawlconn.bin":
                        srv.set_faults(name, srv_faults[name])  # connections count from 1
                    before = srv.stats(name)
                    elapsed = _run(mode, url, name, Path(tmp), want)
                    after = srv.stats(name)
                    slow = sum(after.faults.values()) - sum(before.faults.values())
                    times.setdefault((mode, name), []).append(elapsed)
                    print(
                        f"round {round_} {mode:6} {name:13} {elapsed:6.2f} s"
                        f"  requests {after.requests - before.requests:3}  slow {slow}",
                        flush=True,
                    )
    for mode in args.modes:
        steady = statistics.median(times[(mode, "steady.bin")])
        for name, label in (("crawl.bin", "1 body in 8"), ("crawlconn.bin", "1 connection")):
            crawl = statistics.median(times[(mode, name)])
            print(
                f"{mode}: steady {steady:.2f} s, {label} crawling {crawl:.2f} s,"
                f" ratio {steady / crawl:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
