"""Run one command (or a producer | consumer pipeline) and measure it.

Every child is reaped with ``os.wait4``, so its own rusage gives CPU seconds (user + sys)
without counting the benchmark process. In a pipeline the *producer* is the tool under test:
its numbers are the row's numbers, the consumer's CPU is reported beside them.

Peak RSS needs care: Linux folds the high-water mark of the address space a child had
*before* exec (with vfork, the benchmark's own) into its ``ru_maxrss``. So a ``ru_maxrss``
that does not exceed the benchmark's own peak is not trusted; the peak is then taken from
``VmHWM`` in ``/proc/PID/status``, polled every 10 ms while the child runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = [
    "Sample",
    "median",
    "run_captured",
    "run_command",
    "run_first_byte",
    "run_piped",
    "sha256_file",
]

_HASH_BLOCK = 1024 * 1024
_POLL_S = 0.01
_STDERR_TAIL = 600


@dataclass
class Sample:
    """One timed run of one command."""

    wall_s: float
    cpu_s: float
    """User + system CPU seconds of the measured process."""
    rss_mib: float
    """Peak resident set size of the measured process (``ru_maxrss``)."""
    aux_cpu_s: float = 0.0
    """CPU seconds of the pipeline's consumer (``openssl dgst -sha256``), 0 without one."""
    ok: bool = True
    error: str = ""
    ttfb_s: float | None = None
    verified: str = "sha256"
    """How the output was checked: ``sha256``, ``exit status`` or ``-`` when it failed."""
    extra: dict[str, float] = field(default_factory=dict)
    slow_path: str = ""
    """Why hydra-tui used httpx instead of its lean reader, from its log ("" if it did not)."""

    def fail(self, error: str) -> Sample:
        self.ok = False
        self.error = error
        self.verified = "-"
        return self


@dataclass
class _Reaped:
    status: int
    cpu_s: float
    rss_mib: float


def median(values: Iterable[float]) -> float | None:
    items = list(values)
    return statistics.median(items) if items else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _own_peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class _HighWater:
    """Poll a running child's ``VmHWM`` (its own address space's peak RSS, in KiB)."""

    def __init__(self, pid: int) -> None:
        self.kib = 0
        self._path = Path(f"/proc/{pid}/status")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                text = self._path.read_text()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    self.kib = max(self.kib, int(line.split()[1]))
                    break
            self._stop.wait(_POLL_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _reap(proc: subprocess.Popen[bytes], high: _HighWater, floor_kib: int) -> _Reaped:
    """``wait4`` the child: exit status and its own CPU and peak RSS."""
    _, status, usage = os.wait4(proc.pid, 0)
    high.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss if usage.ru_maxrss > floor_kib else high.kib  # KiB on Linux
    return _Reaped(
        status=proc.returncode,
        cpu_s=usage.ru_utime + usage.ru_stime,
        rss_mib=peak / 1024,
    )


class _Deadline:
    """Kill the children's process groups if the run outlives ``timeout`` seconds."""

    def __init__(self, procs: Sequence[subprocess.Popen[bytes]], timeout: float) -> None:
        self.fired = False
        self._procs = procs
        self._timer = threading.Timer(timeout, self._kill)
        self._timer.daemon = True

    def _kill(self) -> None:
        self.fired = True
        for proc in self._procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _tail(fh: IO[bytes]) -> str:
    fh.seek(0)
    text = fh.read().decode(errors="replace").strip()
    return text[-_STDERR_TAIL:]


def _status_error(name: str, status: int, stderr: str, deadline: _Deadline) -> str:
    if deadline.fired:
        return f"{name}: timed out and was killed"
    if status < 0:
        try:
            what = f"killed by {signal.Signals(-status).name}"
        except ValueError:
            what = f"killed by signal {-status}"
    else:
        what = f"exit status {status}"
    return f"{name}: {what}" + (f": {stderr}" if stderr else "")


def run_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: Path | None = None,
) -> Sample:
    """Run ``argv`` with stdout to /dev/null; a non-zero status fails the sample."""
    return _run(argv, env=env, timeout=timeout, cwd=cwd, stdout=None)


def run_captured(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float
) -> tuple[Sample, str]:
    """Run ``argv`` and return its sample and (small) stdout."""
    with tempfile.TemporaryFile() as out:
        sample = _run(argv, env=env, timeout=timeout, cwd=None, stdout=out)
        out.seek(0)
        return sample, out.read().decode(errors="replace")


def _run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: Path | None,
    stdout: IO[bytes] | None,
) -> Sample:
    with tempfile.TemporaryFile() as err:
        floor = _own_peak_kib()
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if stdout is None else stdout,
            stderr=err,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        high = _HighWater(proc.pid)
        with _Deadline([proc], timeout) as deadline:
            reaped = _reap(proc, high, floor)
        wall = time.perf_counter() - start
        sample = Sample(wall_s=wall, cpu_s=reaped.cpu_s, rss_mib=reaped.rss_mib)
        if reaped.status != 0:
            sample.fail(_status_error(Path(argv[0]).name, reaped.status, _tail(err), deadline))
        return sample


def run_piped(
    producer: Sequence[str],
    consumer: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
) -> tuple[Sample, str]:
    """Time ``producer | consumer``; return the sample and the consumer's stdout."""
    with tempfile.TemporaryFile() as err:
        floor = _own_peak_kib()
        start = time.perf_counter()
        first = subprocess.Popen(
            producer,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env=dict(env),
            start_new_session=True,
        )
        assert first.stdout is not None
        second = subprocess.Popen(
            consumer,
            stdin=first.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            start_new_session=True,
        )
        first.stdout.close()  # the consumer holds the only read end now
        assert second.stdout is not None
        high_first, high_second = _HighWater(first.pid), _HighWater(second.pid)
        with _Deadline([first, second], timeout) as deadline:
            output = second.stdout.read().decode(errors="replace")
            second.stdout.close()
            a = _reap(first, high_first, floor)
            b = _reap(second, high_second, floor)
        wall = time.perf_counter() - start
        sample = Sample(wall_s=wall, cpu_s=a.cpu_s, rss_mib=a.rss_mib, aux_cpu_s=b.cpu_s)
        if a.status != 0:
            sample.fail(_status_error(Path(producer[0]).name, a.status, _tail(err), deadline))
        elif b.status != 0:
            sample.fail(_status_error(Path(consumer[0]).name, b.status, "", deadline))
        return sample, output


def run_first_byte(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float, expect: bytes
) -> Sample:
    """Time until the first byte can be read from ``argv``'s stdout, then hang up.

    Closing the pipe makes a well-behaved streamer exit at once (SIGPIPE / EPIPE); whatever
    status it exits with afterwards is not held against it, but a child that needs to be
    killed is. The bytes read must be a prefix of ``expect`` (the file's head).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(env),
        start_new_session=True,
    )
    assert proc.stdout is not None
    with _Deadline([proc], timeout) as deadline:
        first = os.read(proc.stdout.fileno(), 65536)
        ttfb = time.perf_counter() - start
        proc.stdout.close()
        hangup = time.perf_counter()
        try:
            proc.wait(timeout=10)  # reaps; rusage is not needed here
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return Sample(wall_s=ttfb, cpu_s=0.0, rss_mib=0.0, ttfb_s=ttfb).fail(
                "did not exit within 10 s of its reader hanging up"
            )
        exit_s = time.perf_counter() - hangup
    sample = Sample(wall_s=ttfb, cpu_s=0.0, rss_mib=0.0, ttfb_s=ttfb, verified="first byte")
    sample.extra["exit_after_hangup_s"] = exit_s
    if not first:
        sample.fail("timed out" if deadline.fired else "stdout closed before any byte")
    elif not expect.startswith(first):
        sample.fail(f"the first {len(first)} bytes differ from the file's")
    return sample
