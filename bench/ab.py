"""Paired, interleaved A/B runs of two hydra-tui source trees (and curl) on one nginx.

    python bench/ab.py --variant main=../base --variant new=. [--tls] [--mode disk|stream]
                       [--threads 16] [--rounds 5] [--size 1G] [--tmpdir /dev/shm]

Each ``--variant NAME=DIR`` runs ``python -m hydra_tui`` with ``DIR`` first on
``PYTHONPATH`` (a checkout of the code to compare: ``git worktree add`` or
``git archive | tar -x``). Round 1 runs every variant and curl, then round 2, ... so
drift on a busy machine hits all alike; each output is deleted right before the next run
writes (freed pages cost more to refill on this VM kind: see PROFILE.md) and checked by
sha256 (disk) or by the digest ``openssl dgst -sha256`` prints (stream); after each run,
untimed, ``sync`` writes back what it left dirty, so the next run does not pay for it. Prints the
median wall, CPU (user + sys of the downloader) and peak RSS per variant.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from measure import Sample, run_command, run_piped, sha256_file
from run import parse_size
from servers import start_server

_BLOCK = 1024 * 1024
#: runs ``python -m hydra_tui`` from the source tree given first (an editable install's
#: import hook would otherwise win over PYTHONPATH)
_LAUNCH = (
    "import runpy, sys; src = sys.argv.pop(1); "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]; "
    "sys.path.insert(0, src); runpy.run_module('hydra_tui', run_name='__main__', alter_sys=True)"
)


def _make(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            block = os.urandom(min(_BLOCK, left))
            fh.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def main() -> int:
    p = argparse.ArgumentParser(prog="python bench/ab.py", description=__doc__)
    p.add_argument("--variant", action="append", required=True, help="NAME=SOURCE_DIR")
    p.add_argument("--tls", action="store_true", help="nginx serves https")
    p.add_argument("--mode", choices=("disk", "stream"), default="disk")
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--size", type=parse_size, default=1024 * _BLOCK)
    p.add_argument("--tmpdir", type=Path, help="where outputs go (default: the temp dir)")
    p.add_argument("--no-curl", action="store_true")
    p.add_argument("--settle", type=float, default=0.0, help="seconds to wait after deleting")
    p.add_argument("--shuffle", type=int, metavar="SEED", help="a random order every round")
    p.add_argument("--extra", default="", help="more hydra-tui options, space separated")
    args = p.parse_args()
    variants = [tuple(v.split("=", 1)) for v in args.variant]
    with tempfile.TemporaryDirectory(prefix="hydra-ab-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)  # nginx's workers run as nobody
        data = root / "data"
        data.mkdir()
        want = _make(data / "big.bin", args.size)
        out_root = Path(tempfile.mkdtemp(prefix="hydra-ab-out-", dir=args.tmpdir or root))
        samples: dict[str, list[Sample]] = {}
        with start_server("nginx", data, root / "run", tls=args.tls) as srv:
            url = srv.url("big.bin")
            trust = ["--ca-certificate", str(srv.ca_file)] if srv.ca_file else []
            names = [name for name, _ in variants] + ([] if args.no_curl else ["curl"])
            order = random.Random(args.shuffle)
            for rnd in range(args.rounds):
                if args.shuffle is not None:
                    order.shuffle(names)
                for name in names:
                    out = out_root / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    out.mkdir()
                    time.sleep(args.settle)
                    env = dict(os.environ, XDG_STATE_HOME=str(root / "state"),
                               XDG_CONFIG_HOME=str(root / "config"))  # fmt: skip
                    if name == "curl":
                        ca = ["--cacert", str(srv.ca_file)] if srv.ca_file else []
                        argv = ["curl", "-s", "-f", *ca, url]
                    else:
                        src = dict(variants)[name]
                        argv = [sys.executable, "-c", _LAUNCH, str(Path(src).resolve())]
                        argv += ["-q", "-t", str(args.threads), *trust, *args.extra.split()]
                        argv += ["--stream", url] if args.mode == "stream" else []
                    if args.mode == "disk":
                        if name == "curl":
                            argv += ["-o", str(out / "big.bin")]
                        else:
                            argv += ["--no-ui", "-o", str(out), url]
                        s = run_command(argv, env=env, timeout=600)
                        if s.ok and sha256_file(out / "big.bin") != want:
                            s.fail("sha256 mismatch")
                    else:
                        s, printed = run_piped(argv, ["openssl", "dgst", "-sha256", "-r"],
                                               env=env, timeout=600)  # fmt: skip
                        if s.ok and printed.split()[:1] != [want]:
                            s.fail(f"digest {printed[:20]}")
                    samples.setdefault(name, []).append(s)
                    status = "ok" if s.ok else f"FAILED {s.error}"
                    print(f"round {rnd + 1} {name}: {s.wall_s:.2f} s wall, {s.cpu_s:.2f} CPU s, "
                          f"{s.rss_mib:.0f} MiB {status}", flush=True)  # fmt: skip
        shutil.rmtree(out_root, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"\n{args.mode} {'https' if args.tls else 'http'} -t {args.threads}, "
          f"{args.size // _BLOCK} MiB, {args.rounds} rounds, medians; load {load:.2f}")  # fmt: skip
    for name, got in samples.items():
        ok = [s for s in got if s.ok]
        if not ok:
            print(f"{name:>8}: all failed")
            continue
        wall = statistics.median(s.wall_s for s in ok)
        cpu = statistics.median(s.cpu_s for s in ok)
        rss = statistics.median(s.rss_mib for s in ok)
        print(f"{name:>8}: {len(ok)}/{len(got)} ok  wall {wall:.2f} s  CPU {cpu:.2f} s  "
              f"RSS {rss:.0f} MiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
