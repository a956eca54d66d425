"""Helpers shared by the tests: digests, payloads, running coroutines and the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shlex
import subprocess
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from hydra_tui.devserver import DevServer

T = TypeVar("T")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def payload(size: int, seed: int = 1) -> bytes:
    """Deterministic incompressible test bytes."""
    return random.Random(seed).randbytes(size)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a fresh event loop (tests stay synchronous)."""
    return asyncio.run(coro)


def cli(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 90,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m hydra_tui ARGS`` in a subprocess with the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "hydra_tui", *args],
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        input=input,
        env=os.environ.copy(),
        check=False,
    )


def print_fresh_url(server: DevServer, name: str) -> str:
    """A ``--url-cmd`` that asks the devserver for a freshly signed URL and prints it."""
    code = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"
    return shlex.join([sys.executable, "-c", code, server.sign_url(name, text=True)])
