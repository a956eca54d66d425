"""The shell's side of the service socket: connect (starting a service if asked), send
the engine pipe's messages, read the answer.

Blocking and small on purpose: ``hydra-tui add`` must return within 150 ms, so this
imports nothing of the engine proper (snapshots and their wire format only).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from typing import Any

from hydra_tui.engine.backends.snapshot_wire import SnapshotDecoder
from hydra_tui.engine.snapshot import DownloadSnapshot
from hydra_tui.errors import HydraError, ServiceUnavailable
from hydra_tui.service import paths
from hydra_tui.service.wire import FrameError, pack, recv_frame

__all__ = ["START_TIMEOUT", "ServiceClient", "start_service"]

#: how long ``add`` waits for a service it started to listen
START_TIMEOUT = 15.0
_IO_TIMEOUT = 30.0


class ServiceClient:
    """One connection to the user's service."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._decoder = SnapshotDecoder()

    @classmethod
    def connect(cls) -> ServiceClient:
        """Connect, or raise ``ServiceUnavailable``."""
        path = paths.socket_file()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_IO_TIMEOUT)
        try:
            sock.connect(str(path))
        except OSError as exc:
            sock.close()
            raise ServiceUnavailable(
                "no hydra-tui service is running (start one with: hydra-tui daemon)"
            ) from exc
        return cls(sock)

    @classmethod
    def connect_or_start(cls) -> ServiceClient:
        with contextlib.suppress(ServiceUnavailable):
            return cls.connect()
        return start_service()

    def request(self, messages: list[tuple[Any, ...]]) -> tuple[list[DownloadSnapshot], list[Any]]:
        """Send the messages as one frame; the queue's snapshots and a reply per message."""
        try:
            self._sock.sendall(pack(messages))
            answer = recv_frame(self._sock)
        except (OSError, FrameError) as exc:
            raise ServiceUnavailable(f"lost the connection to the service: {exc}") from exc
        _answered, packed, _records, _stopped, _cpu, replies = answer
        return self._decoder.decode(packed), list(replies)

    def snapshots(self) -> list[DownloadSnapshot]:
        return self.request([("poll",)])[0]

    def wait_closed(self) -> None:
        """Block until the service closes the connection (it exits after ``stop``)."""
        try:
            while self._sock.recv(65536):
                pass
        except OSError as exc:
            raise ServiceUnavailable(f"the service did not stop: {exc}") from exc

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_service() -> ServiceClient:
    """Start ``hydra-tui daemon`` in the background, in a session of its own (it outlives
    this shell), and connect once it listens."""
    paths.secure_runtime_dir()
    err_path = paths.runtime_dir() / "service.err"
    with err_path.open("ab") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "hydra_tui", "daemon"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with contextlib.suppress(ServiceUnavailable):
            return ServiceClient.connect()  # ours, or one started at the same moment
        code = process.poll()
        if code is not None or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    with contextlib.suppress(ServiceUnavailable):
        return ServiceClient.connect()
    raise HydraError(f"the service did not start (exit code {process.poll()}); see {err_path}")
