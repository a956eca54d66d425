"""The demo's files: a few hundred MiB of synthetic data on a slow, flaky, loopback server.

``hydra-tui demo`` shows the engine at work without the internet: each file is throttled
per connection (so more connections visibly help) and has its own trouble, from 429s to
resets to one slow connection among fast ones. Nothing is held in memory whole.
"""

from __future__ import annotations

import dataclasses
import ssl
from dataclasses import dataclass

from hydra_tui.devserver.faults import Faults
from hydra_tui.devserver.server import DevServer

__all__ = ["DEMO_DATE", "DemoFile", "demo_resources", "start_demo_server"]

MiB = 1 << 20


@dataclass(frozen=True, slots=True)
class DemoFile:
    """One demo file: ``synthetic_bytes(seed, size)`` served as ``name`` with ``faults``."""

    name: str
    size: int
    seed: int
    faults: Faults
    note: str
    """What the file shows, in a few words."""


#: Last-Modified of every demo file (2024-04-25): the same version in every run, so a
#: demo quit halfway resumes when started again
DEMO_DATE = 1714054865


def demo_resources(*, slowdown: int = 1) -> list[DemoFile]:
    """The demo files, in the order the demo offers them; ``slowdown`` divides every
    throttle (``hydra-tui demo`` uses 4: about a minute, time to try every key)."""
    files = [
        DemoFile(
            "ubuntu-24.04-demo.iso",
            256 * MiB,
            1,
            Faults(rate=4 * MiB, slow_every=6, slow_rate=512 * 1024, seed=1),
            "4 MiB/s per connection; every 6th connection crawls at 512 KiB/s",
        ),
        DemoFile(
            "dataset-2024.tar",
            128 * MiB,
            2,
            Faults(rate=3 * MiB, status_rate=0.08, status_code=429, retry_after=1, seed=2),
            "3 MiB/s per connection; 8% of requests get 429 Too Many Requests",
        ),
        DemoFile(
            "video-1080p.mkv",
            96 * MiB,
            3,
            Faults(rate=3 * MiB, reset=0.15, seed=3),
            "3 MiB/s per connection; 15% of bodies die with a connection reset",
        ),
        DemoFile(
            "firmware.bin",
            32 * MiB,
            4,
            Faults(rate=2 * MiB, link_rate=12 * MiB, truncate=0.05, max_bodies=6, seed=4),
            "a shared 12 MiB/s link, at most 6 connections, some bodies cut short",
        ),
    ]
    if slowdown == 1:
        return files
    return [_slower(f, slowdown) for f in files]


def _slower(demo: DemoFile, slowdown: int) -> DemoFile:
    faults = dataclasses.replace(
        demo.faults,
        rate=demo.faults.rate // slowdown,
        link_rate=demo.faults.link_rate // slowdown,
        slow_rate=demo.faults.slow_rate // slowdown,
    )
    return dataclasses.replace(demo, faults=faults)


def start_demo_server(
    host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
) -> DevServer:
    """A running DevServer with the demo files; the caller stops it (or uses ``with``)."""
    server = DevServer(ssl_context=ssl_context, host=host, port=port).start()
    try:
        for demo in demo_resources():
            server.add_synthetic(
                demo.name, demo.size, demo.seed, demo.faults, last_modified=DEMO_DATE
            )
    except BaseException:
        server.stop()
        raise
    return server
