"""Does a TUI attached to the service slow its downloads? (issue 22: at most 3 %.)

    python bench/attach_ratio.py [--size-mib 1024] [--rounds 9] [--threads 16] [--tmp DIR]

Starts a service on temporary XDG folders and a loopback server (nginx if installed,
else the devserver) over a random file. Each round runs two variants in a shuffled
order: ``alone`` (``hydra-tui add URL`` then ``hydra-tui wait ID``, nothing attached) and
``attached`` (the same, with ``hydra-tui`` open in a 120x40 tmux session, attached to
the service, from 2 s before the ``add`` until the download is done; then ``q``
detaches it). Both wait 2 s before the ``add``: without it, the variant after a TUI
round paid for the previous output's writeback and read 1.5x slower. Both are timed
from ``add`` to ``wait``'s return, so both pay the same start-up. The previous output
is deleted just before each ``add`` (this VM hands freed memory back to its host, and
writing into taken-back pages is slower: see ``tui_ratio.py``). Every output is checked
by sha256. Prints each run with the CPU seconds of the service and of the TUI, and the
median over rounds of alone-time / attached-time (1.00: the TUI costs nothing; 0.97:
3 %). ``--tmp /dev/shm`` keeps the disk's writeback out of the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from servers import start_server

MIB = 1024 * 1024
ALONE, ATTACHED = "alone", "attached"


def _hydra(*args: str) -> list[str]:
    return [sys.executable, "-m", "hydra_tui", *args]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 * MIB):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, out: Path, threads: int, env: dict[str, str]) -> float:
    """``add`` then ``wait``: seconds from the add to the wait's return."""
    started = time.perf_counter()
    added = subprocess.run(
        _hydra("add", "-t", str(threads), "-o", str(out.parent), url),
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    ident = added.stdout.split()[0]
    waited = subprocess.run(
        _hydra("wait", ident), env=env, capture_output=True, text=True, check=False
    )
    if waited.returncode != 0:
        raise SystemExit(f"download {ident} failed: {waited.stderr.strip()}")
    elapsed = time.perf_counter() - started
    subprocess.run(_hydra("rm", ident), env=env, check=False, capture_output=True)
    return elapsed


def _cpu_seconds(pid: int | None) -> float:
    """utime + stime of ``pid`` so far (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pane_pid(session: str) -> int:
    listed = ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"]
    return int(subprocess.run(listed, capture_output=True, text=True, check=True).stdout)


def _attach(env: dict[str, str], session: str) -> None:
    pinned = [f"{k}={v}" for k, v in env.items() if k.startswith("XDG_") or k == "TERM"]
    command = shlex.join(["env", *pinned, *_hydra()])
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command],
        check=True,
        env=env,
    )


def _detach(session: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=False)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = ["tmux", "has-session", "-t", session]
        if subprocess.run(alive, capture_output=True, check=False).returncode != 0:
            return
        time.sleep(0.1)
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmp", help="folder for the files (e.g. /dev/shm: no disk noise)")
    ns = parser.parse_args()
    rng = random.Random(ns.seed)
    with tempfile.TemporaryDirectory(prefix="hya", dir=ns.tmp) as tmp_name:
        tmp = Path(tmp_name)
        tmp.chmod(0o755)  # nginx's workers run as another user
        env = {**os.environ, "TERM": os.environ.get("TERM", "xterm-256color")}
        for var in ("XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            env[var] = str(tmp / var.lower())
            Path(env[var]).mkdir(mode=0o700)  # platformdirs ignores a runtime dir not 0700
        data, run, outs = tmp / "data", tmp / "run", tmp / "out"
        for folder in (data, run, outs):
            folder.mkdir()
        source = data / "file.bin"
        with source.open("wb") as f:
            for _ in range(ns.size_mib):
                f.write(rng.randbytes(MIB))
        want = _sha256(source)
        daemon = subprocess.Popen(_hydra("daemon"), env=env, stderr=subprocess.DEVNULL)
        sock = Path(env["XDG_RUNTIME_DIR"]) / "hydra-tui" / "service.sock"
        while not sock.exists():
            if daemon.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.02)
        ratios: list[float] = []
        times: dict[str, list[float]] = {ALONE: [], ATTACHED: []}
        service_cpu: dict[str, list[float]] = {ALONE: [], ATTACHED: []}
        tui_cpu: list[float] = []
        session = f"attach-ratio-{os.getpid()}"
        try:
            with start_server("auto", data, run) as server:
                print(f"server: {server.describe()}, {ns.size_mib} MiB, -t {ns.threads}")
                url = server.url("file.bin")
                for number in range(ns.rounds + 1):  # round 0 warms up
                    order = [ALONE, ATTACHED]
                    rng.shuffle(order)
                    got: dict[str, float] = {}
                    cpu: dict[str, tuple[float, float]] = {}
                    for variant in order:
                        out = outs / "file.bin"
                        if variant == ATTACHED:
                            _attach(env, session)
                        # Both variants wait as long: the TUI attaches and settles (its
                        # start-up is not the download's cost), and the previous
                        # output's writeback ends before either variant starts.
                        time.sleep(2.0)
                        for stale in outs.iterdir():
                            stale.unlink()
                        tui = _pane_pid(session) if variant == ATTACHED else None
                        before = _cpu_seconds(daemon.pid), _cpu_seconds(tui)
                        try:
                            got[variant] = _download(url, out, ns.threads, env)
                            after = _cpu_seconds(daemon.pid), _cpu_seconds(tui)
                            cpu[variant] = (after[0] - before[0], after[1] - before[1])
                        finally:
                            if variant == ATTACHED:
                                _detach(session)
                        if _sha256(out) != want:
                            raise SystemExit(f"round {number} {variant}: sha256 mismatch")
                    line = "  ".join(
                        f"{v} {got[v]:.2f} s (CPU service {cpu[v][0]:.2f} TUI {cpu[v][1]:.2f})"
                        for v in order
                    )
                    if number == 0:
                        print(f"warm-up: {line}")
                        continue
                    ratios.append(got[ALONE] / got[ATTACHED])
                    for variant, seconds in got.items():
                        times[variant].append(seconds)
                        service_cpu[variant].append(cpu[variant][0])
                    tui_cpu.append(cpu[ATTACHED][1])
                    print(f"round {number}: {line}  ratio {ratios[-1]:.3f}")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait()
    for variant, values in times.items():
        print(f"{variant:9} median {statistics.median(values):.2f} s")
    for variant, values in service_cpu.items():
        print(f"service CPU, {variant:9} median {statistics.median(values):.2f} s")
    print(f"TUI CPU while attached: median {statistics.median(tui_cpu):.2f} s")
    low, high = min(ratios), max(ratios)
    print(
        f"alone/attached: median {statistics.median(ratios):.3f} "
        f"(range {low:.3f}-{high:.3f}, {len(ratios)} rounds, every output sha256-checked)"
    )


if __name__ == "__main__":
    main()
