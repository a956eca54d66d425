"""What the numbers were measured on: the machine, the tools and their versions."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["PEERS", "find_hydra", "find_tools", "machine_info", "tool_versions"]

PEERS = ("curl", "aria2c", "axel", "openssl")


def find_hydra() -> list[str]:
    """``hydra-tui`` beside this interpreter (a virtualenv's bin/), else on PATH."""
    beside = Path(sys.executable).with_name("hydra-tui")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("hydra-tui")
    if found is None:
        raise SystemExit("hydra-tui is not installed: pip install -e . (or pass --hydra CMD)")
    return [found]


def find_tools() -> dict[str, str | None]:
    return {name: shutil.which(name) for name in PEERS}


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return ""
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else ""


def _source_state() -> str:
    """The commit of the checkout this file is in, and whether hydra_tui/ has local edits."""
    repo = Path(__file__).resolve().parent.parent
    git = shutil.which("git")
    if git is None:
        return ""
    head = _first_line([git, "-C", str(repo), "rev-parse", "--short", "HEAD"])
    if not head or " " in head:
        return ""
    status = subprocess.run(
        [git, "-C", str(repo), "status", "--porcelain", "--", "hydra_tui"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = ", hydra_tui/ has uncommitted edits" if status.stdout.strip() else ""
    return f" (checkout {head}{dirty})"


def tool_versions(hydra: list[str], tools: dict[str, str | None], server: str) -> dict[str, str]:
    versions = {"hydra-tui": _first_line([*hydra, "--version"]) + _source_state()}
    for name, path in tools.items():
        # curl's first line goes on to list every library it links: keep the head.
        flag = "version" if name == "openssl" else "--version"
        versions[name] = " ".join(_first_line([path, flag]).split()[:4]) if path else ""
    versions["server"] = server
    versions["python (bench)"] = sys.version.split()[0]
    return versions


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def machine_info() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gib": _ram_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def filesystem_of(path: Path) -> str:
    """The mount type holding ``path`` (e.g. ``ext4``, ``tmpfs``, ``overlay``)."""
    best, fstype = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            mount = parts[1]
            if str(path).startswith(mount) and len(mount) > len(best):
                best, fstype = mount, parts[2]
    except OSError:
        pass
    return fstype
