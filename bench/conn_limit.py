"""Servers that cap connections per client (issue 18): how close hydra-tui gets to K.

The devserver (in this process) serves one client K bodies at once, each throttled to
``--rate``, and refuses the rest with one of four models: 503 + Retry-After in seconds,
503 + Retry-After as an HTTP date, 503 alone, 429 + Retry-After. ``hydra-tui --no-ui``
downloads ``--size`` bytes with ``-t 16`` and ``-t auto``; every output is checked by
sha256. Two push-back scenarios without a cap ride along for comparison: a 429 storm
(a third of all requests refused at random, Retry-After: 1) and a shared link (4 MiB/s
per connection on a 12 MiB/s link, ``-t auto``).

Reported per case: the transfer time on the wire (from the first request the server saw
to the end of the last body it sent), the fraction of the K-connection ideal
(size / (K × rate) over that time), the same fraction until the process exited (its
start-up excluded; the exit — rename, resume store — included), and refused requests
after the first 5 s (total, and per 10 s). A row "no cap, -t K" per K shows what the same
build does with exactly K connections and no refusals.

    python bench/conn_limit.py                       # the installed hydra-tui
    python bench/conn_limit.py --hydra "env PYTHONPATH=OLD python -P -m hydra_tui"
                        # another build; -P, or this checkout's hydra_tui shadows OLD's
    python bench/conn_limit.py --k 4 --models 503-seconds --threads 16   # one row

The throttled cases are mostly waiting on the server's throttle, so they stay meaningful on
a busy machine; the numbers are still from one run each: compare rows run together.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from machine import find_hydra

from hydra_tui.devserver import DevServer
from hydra_tui.devserver.faults import parse_size

MIB = 1024 * 1024
#: refusal models: (status, Retry-After query value)
MODELS = {
    "503-seconds": (503, "1"),
    "503-date": (503, "date"),
    "503-bare": (503, "none"),
    "429-seconds": (429, "1"),
}
SEED = 18


@dataclass
class Row:
    label: str
    threads: str
    ok: str
    seconds: float
    wire: float
    mib_s: float
    ideal: float | None
    refused: int
    refused_late: int

    @property
    def fraction(self) -> float | None:
        return None if self.ideal is None else self.ideal / self.wire

    @property
    def fraction_exit(self) -> float | None:
        return None if self.ideal is None else self.ideal / self.seconds

    @property
    def late_per_10s(self) -> float:
        return 10 * self.refused_late / max(self.seconds - 5.0, 10.0)


def run_case(
    srv: DevServer,
    hydra: list[str],
    work: Path,
    label: str,
    threads: str,
    query: dict[str, str],
    size: int,
    ideal_rate: float | None,
    digest: str,
) -> Row:
    tag = f"c{len(list(work.iterdir()))}"
    query = {**query, "case": tag}  # unknown to the server: only tells the cases apart
    url = f"{srv.url('f.bin')}?{urlencode(query)}"
    out = work / tag
    out.mkdir()
    env = dict(os.environ)
    for var in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[var] = str(out / "xdg" / var.lower())
    argv = [*hydra, url, "--no-ui", "-q", "-t", threads, "-o", str(out)]
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=600, check=False)
    ended = time.monotonic()
    mine = [r for r in srv.requests if r.query.endswith(f"case={tag}")]
    first = min(r.time for r in mine) if mine else ended
    refusals = [r.time for r in mine if r.status in (429, 503)]
    seconds = ended - first
    wire = srv.stats("f.bin").last_body_end - first
    path = out / "f.bin"
    ok = "ok"
    if proc.returncode != 0:
        ok = f"exit {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[:80]}"
    elif not path.is_file() or _sha256(path) != digest:
        ok = "WRONG BYTES"
    ideal = None if ideal_rate is None else size / ideal_rate
    return Row(
        label,
        threads,
        ok,
        seconds,
        wire,
        size / MIB / wire,
        ideal,
        len(refusals),
        sum(t > first + 5.0 for t in refusals),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def table(rows: list[Row]) -> str:
    lines = [
        "| server | `-t` | ok | wire s | MiB/s | of ideal | to exit | refused | after 5 s "
        "| per 10 s after 5 s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        frac = "-" if r.fraction is None else f"{r.fraction:.2f}"
        frac_exit = "-" if r.fraction_exit is None else f"{r.fraction_exit:.2f}"
        lines.append(
            f"| {r.label} | {r.threads} | {r.ok} | {r.wire:.2f} | {r.mib_s:.1f} | {frac} "
            f"| {frac_exit} | {r.refused} | {r.refused_late} | {r.late_per_10s:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hydra", help="command to run hydra-tui (default: beside python, or PATH)")
    p.add_argument("--size", default="64M", help="bytes per download (default 64M)")
    p.add_argument("--rate", default="4M", help="per-connection rate (default 4M)")
    p.add_argument("--k", default="1,2,4,8", help="connection caps to try (default 1,2,4,8)")
    p.add_argument("--models", default=",".join(MODELS), help="refusal models to try")
    p.add_argument("--threads", default="16,auto", help="-t values to try (default 16,auto)")
    p.add_argument("--no-extra", action="store_true", help="skip the 429-storm and link rows")
    p.add_argument(
        "--storm-seeds", type=int, default=5, help="429-storm runs, one per seed (default 5)"
    )
    args = p.parse_args(argv)
    hydra = shlex.split(args.hydra) if args.hydra else find_hydra()
    size, rate = parse_size(args.size), parse_size(args.rate)
    rows: list[Row] = []
    with DevServer() as srv, tempfile.TemporaryDirectory(prefix="hydra-connlimit-") as tmp:
        # random bytes in memory, as the issue measured (the generated content of
        # ``add_synthetic`` is sent with other timing, and hid the issue on older builds)
        data = random.Random(SEED).randbytes(size)
        digest = hashlib.sha256(data).hexdigest()
        srv.add("f.bin", data)
        del data
        work = Path(tmp)
        cases: list[tuple[str, str, dict[str, str], float | None]] = []
        if not args.no_extra:
            for k in map(int, args.k.split(",")):
                cases.append((f"K={k}, no cap", str(k), {"rate": str(rate)}, k * rate))
        for model in args.models.split(","):
            code, retry_after = MODELS[model]
            for k in map(int, args.k.split(",")):
                for threads in args.threads.split(","):
                    query = {
                        "rate": str(rate),
                        "max_bodies": str(k),
                        "status_code": str(code),
                        "retry_after": retry_after,
                    }
                    cases.append((f"K={k}, {model}", threads, query, k * rate))
        if not args.no_extra:
            storm = {"status_rate": "0.33", "status_code": "429", "retry_after": "1"}
            for seed in range(1, args.storm_seeds + 1):
                label = f"429 storm (a third refused, seed {seed}), no cap"
                cases.append((label, "8", {**storm, "seed": str(seed)}, None))
            link = {"rate": str(rate), "link_rate": str(3 * rate)}
            cases.append(("shared link 3 × rate, no cap", "auto", link, 3 * rate))
        for label, threads, query, ideal_rate in cases:
            row = run_case(srv, hydra, work, label, threads, query, size, ideal_rate, digest)
            rows.append(row)
            print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(rows))
    return 0 if all(r.ok == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
