"""Where the service keeps its socket, lock and queue (computed when asked, never at import).

The socket and lock live in the platformdirs runtime folder (``$XDG_RUNTIME_DIR/hydra-tui``
on Linux), made 0700 so no other user can reach the socket; the queue is state that must
survive a reboot, so it lives in the state folder beside the resume store.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

from hydra_tui.config.locations import APP_NAME, state_dir
from hydra_tui.errors import HydraError

__all__ = [
    "SOCKET_NAME",
    "lock_file",
    "queue_file",
    "runtime_dir",
    "secure_runtime_dir",
    "socket_file",
]

SOCKET_NAME = "service.sock"
#: longest path an AF_UNIX address takes on Linux (sun_path is 108 bytes with its NUL)
_MAX_SOCKET_PATH = 107


def runtime_dir() -> Path:
    return platformdirs.user_runtime_path(APP_NAME, appauthor=False)


def socket_file() -> Path:
    return runtime_dir() / SOCKET_NAME


def lock_file() -> Path:
    """Held (``flock``) by the running service: one per user."""
    return runtime_dir() / "service.lock"


def queue_file() -> Path:
    """The service's queue: what to resume after a crash or a reboot."""
    return state_dir() / "service-queue.json"


def secure_runtime_dir() -> Path:
    """Create the runtime folder 0700 (or make it so); refuse one another user owns."""
    folder = runtime_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise HydraError(f"{folder} belongs to another user; refusing to put the socket there")
    if stat.S_IMODE(info.st_mode) != 0o700:
        folder.chmod(0o700)
    if len(os.fsencode(socket_file())) > _MAX_SOCKET_PATH:
        raise HydraError(f"socket path too long for a Unix socket: {socket_file()}")
    return folder
