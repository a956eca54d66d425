"""The service as the tests drive it: the ``hydra-tui`` command, ``ls --json``, a
foreground daemon, and the pid of the service that is running, if any."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from hydra_tui.engine.backends.protocol import DownloadControl
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.service import paths
from hydra_tui.service.daemon import Service


def service_pid() -> int | None:
    """The pid in the service's lock file, if that process is alive and a hydra service."""
    try:
        pid = int(paths.lock_file().read_text().strip())
    except (OSError, ValueError):
        return None
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        if proc.status() != psutil.STATUS_ZOMBIE and "daemon" in proc.cmdline():
            return pid
    return None


def hydra(
    *args: str, check: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``hydra-tui ARGS`` to its end; a failure raises unless ``check`` is false."""
    done = subprocess.run(
        [sys.executable, "-m", "hydra_tui", *args],
        capture_output=True, text=True, timeout=90, cwd=cwd, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise AssertionError(f"hydra-tui {args} exited {done.returncode}: {done.stderr}")
    return done


def ls() -> list[dict[str, Any]]:
    """The service's downloads, as ``hydra-tui ls --json`` lists them."""
    rows: list[dict[str, Any]] = json.loads(hydra("ls", "--json").stdout)
    return rows


class Daemon:
    """``hydra-tui daemon ARGS`` in the foreground, as systemd would run it."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hydra_tui", "daemon", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not paths.socket_file().exists() or service_pid() != self.proc.pid:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"daemon did not start: {self.proc.communicate()[1]}")
            time.sleep(0.02)  # waiting for a process to listen, not for an outcome

    def rpc_port(self) -> int:
        """The port the RPC took (``--rpc-listen-port 0``), once it listens."""
        port_file = paths.runtime_dir() / "rpc.port"
        deadline = time.monotonic() + 20
        while not (port_file.exists() and port_file.read_text().strip().isdigit()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the RPC did not start: {self.proc.communicate()[1]}")
            time.sleep(0.02)  # waiting for a port to open, not for an outcome
        return int(port_file.read_text())

    def stop(self) -> str:
        """SIGTERM; it must wind down cleanly (exit 0). Its stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _out, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, err
        return err

    def kill(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=30)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=30)


def stop_background_service() -> None:
    """Stop a service that ``add`` started, and see it go."""
    pid = service_pid()
    assert pid is not None
    proc = psutil.Process(pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert service_pid() is None


def through_the_service_queue(
    url: str, options: DownloadOptions, *, paused: bool = True
) -> DownloadControl:
    """The download as a service started next finds it: added to one service (not run), its
    queue saved, then restored from the file by another."""
    first = Service()
    first.manager.add(url, options, id="d1", paused=paused)
    first.save()
    second = Service()
    second.restore()
    (control,) = second.manager.controls()
    return control
