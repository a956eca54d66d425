"""Does the TUI slow the engine? Throughput with the TUI open versus ``--no-ui``.

    python bench/tui_ratio.py [--size 1G] [--runs 3] [--threads 16] [--mode both]
                              [--control] [--seed 1] [--warmup 1] [--match-start]
                              [--settle 0]

Makes a random file, serves it on 127.0.0.1 (nginx, or the in-tree devserver), then
downloads it with ``hydra-tui URL --no-ui -q`` and with the TUI open in a 120x40 tmux
session (``--exit-when-done``): ``--warmup`` untimed rounds, then ``--runs`` rounds,
each running every variant once in a shuffled order. Every output is checked against
the file's sha256, then deleted (see ``--match-start`` for when). Throughput is timed
from the moment ``NAME.part`` appears to the moment ``NAME`` does (program start-up and
the TUI's exit are not download time; the start-up, launch to ``NAME.part``, is printed
beside it), and the CPU seconds of each run come from ``/usr/bin/time``.

Why the start matters: on a VM that hands freed memory back to its host (free page
reporting, as on the Firecracker VMs this was measured on), writing into tmpfs is fast
into pages freed a moment ago and slow into pages the host has taken back. The guest
reports what was freed about 2 s after the freeing (here: 1.84–1.93 s after the previous
output's deletion ended), and a run still writing then has the rest of the just-freed
pages taken from under it: it slows down for the rest of its window. A 2 GiB window is
~1.45 s, so a run that starts writing 0.35 s after the deletion ends right at that pass,
and a run a few per cent slower crosses it and loses 20–60 %: small differences become
large ones. ``--match-start`` deletes the previous output only as the next run is about
to write, ``MATCH_GAP`` (0.15 s) before that variant typically starts writing (medians
so far; for the TUI that falls in its start-up), so every variant writes as long after
the deletion and as far from the pass. Without it each output is deleted once checked.
``--settle S`` instead waits S seconds after each deletion, which puts every run on
taken-back pages: on such a VM every 2 GiB run is then ~2× slower and the spread wider
(``PROFILE.md``). Each run prints how much the VM handed to its host during its window
(``/sys/module/page_reporting/parameters/reported_kib``, where the kernel has it). The
first run of all writes into memory the VM has never used (~4× slower): hence one
warm-up round.

Prints each run, then per mode (unthrottled, and with the server's per-connection cap)
the ratio TUI / no-ui: the median over rounds of each round's ratio, with a 95 %
bootstrap interval. ``--control`` adds a second ``--no-ui`` run to every round, whose
ratio to the first shows how far identical runs land apart on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from servers import Server, start_server

MIB = 1024 * 1024
NAME = "big.bin"
_POLL = 0.01
_UNITS = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB}
_BOOTSTRAP = 2000
NO_UI, TUI, CONTROL, ENGINE = "no-ui", "tui", "no-ui(2)", "engine"
_ENGINE_ONLY = Path(__file__).with_name("engine_only.py")
_REPORTED = Path("/sys/module/page_reporting/parameters/reported_kib")
#: --match-start: the previous output's deletion ends this long before the next run writes
MATCH_GAP = 0.15
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float
    size: int
    #: launch to ``NAME.part``: start-up, not download time
    lag: float
    #: the previous output's deletion (its end) to ``NAME.part``
    gap: float
    #: MiB the guest handed back to its host during the window (free page reporting;
    #: -1 where the kernel does not say)
    reported: int

    @property
    def mib_s(self) -> float:
        return self.size / MIB / self.seconds


def parse_size(text: str) -> int:
    number = text.upper().removesuffix("IB").removesuffix("B")
    unit = number[-1] if number and number[-1] in "KMG" else ""
    return int(float(number.removesuffix(unit)) * _UNITS[unit])


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            block = os.urandom(min(4 * MIB, left))
            digest.update(block)
            f.write(block)
            left -= len(block)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 * MIB):
            digest.update(block)
    return digest.hexdigest()


def _wait_for(path: Path, deadline: float, alive: object) -> float:
    """The time ``path`` first exists (polled), or raise once ``alive()`` is false."""
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {path.name}")
        if not alive():  # type: ignore[operator]
            if path.exists():
                break
            raise RuntimeError(f"hydra-tui ended before {path.name} appeared")
        time.sleep(_POLL)
    return time.monotonic()


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (cheap: one /proc read)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _reported_kib() -> int | None:
    """KiB of free memory the guest has reported to its host so far (None: not known)."""
    try:
        return int(_REPORTED.read_text())
    except (OSError, ValueError):
        return None


def _reported_mib(before: int | None, after: int | None) -> int:
    """MiB reported between two ``_reported_kib()`` readings (-1: not known)."""
    return -1 if before is None or after is None else (after - before) // 1024


def _window(out: Path, deadline: float, alive: object) -> tuple[float, float, int]:
    """When ``NAME.part`` and then ``NAME`` appear, and the MiB the VM reported between."""
    start = _wait_for(out / f"{NAME}.part", deadline, alive)
    kib = _reported_kib()
    end = _wait_for(out / NAME, deadline, alive)
    return start, end, _reported_mib(kib, _reported_kib())


class _Deletion:
    """Deletes the previous run's output (once), now or ``after`` seconds from
    ``later()``, and notes when it finished: the start of the next run's ``gap``."""

    def __init__(self, previous: Path | None) -> None:
        self._previous = previous
        self.done = time.monotonic()
        self.took = 0.0
        self._thread: threading.Thread | None = None

    def now(self) -> None:
        if self._previous is None:
            return
        began = time.monotonic()
        shutil.rmtree(self._previous)
        self._previous = None
        self.done = time.monotonic()
        self.took = self.done - began

    def later(self, after: float) -> None:
        def run() -> None:
            time.sleep(after)
            self.now()

        self._thread = threading.Thread(target=run, name="delete-previous")
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()


def one_run(
    url: str,
    *,
    variant: str,
    threads: int,
    out: Path,
    env: dict[str, str],
    deletion: _Deletion,
    delete_after: float | None,
) -> Run:
    """One download into ``out``; ``deletion`` removes the previous output before the
    launch (``delete_after`` None) or starts that many seconds after it (before it, if
    negative)."""
    work = out.parent
    if delete_after is None:
        deletion.now()
    elif delete_after < 0:  # the deletion takes longer than the start-up: begin it first
        deletion.later(0.0)
        time.sleep(-delete_after)
    out.mkdir()
    cpu_file = work / "cpu.txt"
    rc_file = work / "rc.txt"
    cpu_file.unlink(missing_ok=True)
    rc_file.unlink(missing_ok=True)
    hydra = [sys.executable, "-m", "hydra_tui", url, "-t", str(threads), "-o", str(out)]
    timed = ["/usr/bin/time", "-f", "%U %S", "-o", str(cpu_file)]
    deadline = time.monotonic() + 600
    launched = time.monotonic()
    if delete_after is not None and delete_after >= 0:
        deletion.later(delete_after)
    if variant == TUI:
        session = f"tui-ratio-{os.getpid()}"
        # a running tmux server keeps its own environment: pass ours explicitly
        pinned = [f"{k}={v}" for k, v in env.items() if k.startswith("XDG_") or k == "TERM"]
        unset = [f"--unset={k}" for k in _PROXY_VARS]
        command = shlex.join(["env", *unset, *pinned, *timed, *hydra, "--exit-when-done"])
        shell = f"{command}; echo $? > {shlex.quote(str(rc_file))}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", shell],
            check=True,
            env=env,
        )

        # the pane's shell lives as long as the session; asking tmux every poll would start
        # a tmux client 100 times a second, which steals CPU from the TUI's download only
        pane = subprocess.run(
            ["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        )
        pane_pid = int(pane.stdout.split()[0])

        def alive() -> bool:
            return _running(pane_pid)

        try:
            start, end, reported = _window(out, deadline, alive)
            while alive():
                if time.monotonic() > deadline:
                    raise RuntimeError("the TUI did not exit when its queue was done")
                time.sleep(0.05)
        finally:
            subprocess.run(
                ["tmux", "kill-session", "-t", session], capture_output=True, check=False
            )
        rc = int(rc_file.read_text().strip() or "1")
    else:
        argv = [*hydra, "--no-ui", "-q"]
        if variant == ENGINE:
            argv = [sys.executable, str(_ENGINE_ONLY), url, str(out), str(threads)]
        proc = subprocess.Popen([*timed, *argv], env=env)
        start, end, reported = _window(out, deadline, lambda: proc.poll() is None)
        rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    deletion.wait()
    if rc != 0:
        raise RuntimeError(f"hydra-tui exited with {rc} ({variant})")
    user, system = (float(x) for x in cpu_file.read_text().split()[-2:])
    size = (out / NAME).stat().st_size
    return Run(end - start, user + system, size, start - launched, start - deletion.done, reported)


def measure(
    server: Server,
    *,
    capped: bool,
    runs: int,
    threads: int,
    work: Path,
    digest: str,
    control: bool,
    engine: bool,
    rng: random.Random,
    settle: float,
    warmup: int,
    match_start: bool,
) -> dict[str, list[Run]]:
    """``warmup`` untimed rounds, then ``runs`` rounds; each runs every variant once, in a
    shuffled order (drift on a busy machine then hits all variants alike, and no variant
    always follows another).

    Each output is deleted once checked; with ``match_start`` only when the next run is
    about to write: ``MATCH_GAP`` before its variant typically does (median of its
    launch-to-write so far, less the median deletion time), so during the start-up of a
    variant slow to start (see the module docstring)."""
    url = server.url(NAME, capped=capped)
    env = dict(os.environ)
    for var in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[var] = str(work / var.lower())  # no saved queue or config of the user's
    for var in _PROXY_VARS:
        env.pop(var, None)
    env.setdefault("TERM", "xterm-256color")
    variants = [NO_UI, TUI, *([CONTROL] if control else []), *([ENGINE] if engine else [])]
    results: dict[str, list[Run]] = {v: [] for v in variants}
    lags: dict[str, list[float]] = {v: [] for v in variants}
    deletes: list[float] = []
    previous: Path | None = None
    deletion = _Deletion(None)
    for round_ in range(warmup + runs):
        order = variants[:]
        rng.shuffle(order)
        for number, variant in enumerate(order):
            delete_after = None
            if match_start:
                deletion = _Deletion(previous)
                if lags[variant] and deletes:
                    # end the deletion MATCH_GAP before this variant typically writes
                    lag = statistics.median(lags[variant])
                    delete_after = lag - MATCH_GAP - statistics.median(deletes)
            out = work / f"out-{round_}-{number}"
            run = one_run(
                url,
                variant=variant,
                threads=threads,
                out=out,
                env=env,
                deletion=deletion,
                delete_after=delete_after,
            )
            if deletion.took:
                deletes.append(deletion.took)
            got = sha256(out / NAME)
            if got != digest:
                raise RuntimeError(f"sha256 mismatch ({variant}): {got}")
            previous = out
            if not match_start:
                deletion = _Deletion(previous)
                deletion.now()
                previous = None
                time.sleep(settle)  # see the module docstring
            lags[variant].append(run.lag)
            warm = " (warm-up, not counted)" if round_ < warmup else ""
            handed = f"  host took {run.reported} MiB" if run.reported > 0 else ""
            print(
                f"  {variant:<8} {run.seconds:6.2f} s  {run.mib_s:8.1f} MiB/s"
                f"  cpu {run.cpu:5.2f} s  writing after {run.lag:.2f} s"
                f" ({run.gap:.2f} s after the deletion){handed}  sha256 ok{warm}",
                flush=True,
            )
            if round_ >= warmup:
                results[variant].append(run)
    _Deletion(previous).now()
    if deletes:
        print(f"  deleting an output took {statistics.median(deletes):.2f} s (median)")
    return results


def paired_ratio(
    base: list[Run], other: list[Run], rng: random.Random
) -> tuple[float, float, float]:
    """Median over rounds of ``other``'s throughput / ``base``'s, and a 95 % bootstrap
    interval for it (rounds resampled with replacement)."""
    ratios = [o.mib_s / b.mib_s for b, o in zip(base, other, strict=True)]
    medians = sorted(
        statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(_BOOTSTRAP)
    )
    low = medians[int(0.025 * _BOOTSTRAP)]
    high = medians[int(0.975 * _BOOTSTRAP) - 1]
    return statistics.median(ratios), low, high


def print_paired(
    title: str, label: str, base: list[Run], other: list[Run], rng: random.Random
) -> float:
    """Print ``other``'s throughput over ``base``'s (``paired_ratio``); return its median."""
    median, low, high = paired_ratio(base, other, rng)
    print(f"{title}: {label}, median of rounds {median:.3f} (95 % CI {low:.3f}-{high:.3f})")
    return median


def summarize(title: str, results: dict[str, list[Run]], rng: random.Random) -> float:
    plain, tui = results[NO_UI], results[TUI]
    mib_plain = statistics.median(r.mib_s for r in plain)
    mib_tui = statistics.median(r.mib_s for r in tui)
    cpu_plain = statistics.median(r.cpu for r in plain)
    cpu_tui = statistics.median(r.cpu for r in tui)
    print(
        f"{title}: median no-ui {mib_plain:.1f} MiB/s, TUI {mib_tui:.1f} MiB/s, ratio of "
        f"medians {mib_tui / mib_plain:.3f}; CPU s per run: no-ui {cpu_plain:.2f}, "
        f"TUI {cpu_tui:.2f} (+{cpu_tui - cpu_plain:.2f})"
    )
    print(
        f"{title}: launch to writing (median): "
        + ", ".join(f"{v} {statistics.median(r.lag for r in x):.2f} s" for v, x in results.items())
        + "; deletion to writing: "
        + ", ".join(f"{v} {statistics.median(r.gap for r in x):.2f} s" for v, x in results.items())
    )
    if all(r.reported >= 0 for x in results.values() for r in x):
        handed = {v: sum(r.reported > 0 for r in x) for v, x in results.items()}
        print(
            f"{title}: runs during which the VM handed freed memory to its host: "
            + ", ".join(f"{v} {n}/{len(results[v])}" for v, n in handed.items())
        )
    # the rounds' own ratios are less swayed by a machine that drifts between rounds
    paired = print_paired(title, "TUI / no-ui", plain, tui, rng)
    if CONTROL in results:
        # the same command twice: how far apart identical runs land on this machine
        print_paired(title, "control no-ui / no-ui", plain, results[CONTROL], rng)
    if ENGINE in results:
        # the engine's process without any UI: what the process costs, and the UI on top
        print_paired(title, "engine alone / no-ui", plain, results[ENGINE], rng)
        print_paired(title, "TUI / engine alone", results[ENGINE], tui, rng)
    return paired


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 1G or 256M (default 1G)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternated (3)")
    parser.add_argument("--threads", type=int, default=16, help="connections (16)")
    parser.add_argument(
        "--mode", choices=("both", "unthrottled", "capped"), default="both",
        help="unthrottled, with the server's per-connection cap, or both (default)",
    )  # fmt: skip
    parser.add_argument("--server", choices=("auto", "nginx", "devserver"), default="auto")
    parser.add_argument(
        "--control", action="store_true",
        help="also run --no-ui a second time each round: the ratio of identical runs",
    )  # fmt: skip
    parser.add_argument(
        "--engine-only", action="store_true",
        help="also run the TUI's engine process with no UI (bench/engine_only.py) each round",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="run order and bootstrap (1)")
    parser.add_argument(
        "--settle", type=float, default=0.0,
        help="seconds between deleting one run's output and the next run (0)",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", type=int, default=1,
        help="untimed rounds first (1): the first writes into memory the VM never used",
    )  # fmt: skip
    parser.add_argument(
        "--match-start", action="store_true",
        help="start every variant writing as long after the last output was deleted",
    )  # fmt: skip
    args = parser.parse_args()
    if args.match_start and args.settle:
        parser.error("--match-start and --settle time the deletion differently: pick one")
    if shutil.which("tmux") is None or not Path("/usr/bin/time").exists():
        print("tui_ratio needs tmux and /usr/bin/time", file=sys.stderr)
        return 2
    size = parse_size(args.size)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="tui-ratio-") as tmp:
        root = Path(tmp)
        data = root / "data"
        data.mkdir()
        root.chmod(0o755)
        digest = make_file(data / NAME, size)
        with start_server(args.server, data, root / "run") as server:
            print(f"server {server.describe()}, {size / MIB:.0f} MiB, {args.threads} conns")
            modes = ("unthrottled", "capped") if args.mode == "both" else (args.mode,)
            ratios = {}
            for mode in modes:
                capped = mode == "capped"
                cap = f" ({server.cap_mib_s} MiB/s per connection)" if capped else ""
                print(f"{mode}{cap}:")
                work = root / mode
                work.mkdir()
                results = measure(
                    server,
                    capped=capped,
                    runs=args.runs,
                    threads=args.threads,
                    work=work,
                    digest=digest,
                    control=args.control,
                    engine=args.engine_only,
                    rng=rng,
                    settle=args.settle,
                    warmup=args.warmup,
                    match_start=args.match_start,
                )
                ratios[mode] = summarize(mode, results, rng)
    print(
        "throughput TUI / no-ui (median of rounds): "
        + ", ".join(f"{k} {v:.3f}" for k, v in ratios.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
