"""What one download is asked to do: the engine's half of the settings.

The CLI, presets, the TUI and ``HydraClient`` all build a ``DownloadOptions``; the engine
reads nothing else (no globals, no environment), so several clients can coexist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hydra_tui.engine.defaults import DEFAULT_THREADS

if TYPE_CHECKING:
    from hydra_tui.engine.io.checksums import ChecksumList
    from hydra_tui.engine.mirrors.metalink import MetalinkFile

__all__ = ["DEFAULT_THREADS", "DownloadOptions", "default_user_agent"]


def default_user_agent() -> str:
    """Servers see which client (and version) talks to them, as curl and wget do."""
    from hydra_tui._version import __version__

    return f"hydra-tui/{__version__}"


@dataclass(frozen=True, slots=True)
class DownloadOptions:
    """Per-download knobs; every field has a safe default."""

    #: most range requests open at once (the AIMD window's ceiling)
    threads: int = DEFAULT_THREADS
    #: ``-t auto``: start small and grow while throughput grows, up to ``threads``
    auto_threads: bool = False
    #: folder the file is written into
    output_dir: Path = Path()
    #: explicit file name (overrides the server's); still sanitized
    filename: str | None = None
    #: stream mode memory budget in bytes; ``None`` means threads × 8 MiB
    buffer: int | None = None
    #: bytes per second across all connections of this download; ``None`` is unlimited
    limit_rate: int | None = None
    #: attempts per range without progress before the download fails
    retries: int = 5
    #: seconds to establish a connection
    connect_timeout: float = 15.0
    #: seconds without a byte before a connection counts as stalled and is re-dispatched
    stall_timeout: float = 20.0
    #: first backoff step in seconds (doubles per attempt, full jitter)
    backoff_base: float = 0.25
    #: longest single backoff in seconds
    backoff_max: float = 30.0
    #: extra request headers
    headers: tuple[tuple[str, str], ...] = ()
    user_agent: str | None = None
    #: expected digests (lower-case hex); a mismatch fails the download
    md5: str | None = None
    sha256: str | None = None
    #: ``--checksum-file``: the file's line is picked by name once the probe told it
    checksum_list: ChecksumList | None = None
    #: planned chunk size in bytes; ``None`` picks one from the file size and threads
    chunk_size: int | None = None
    #: verify TLS certificates
    verify_tls: bool = True
    #: an extra CA bundle (PEM) to trust, for private servers and tests
    ca_file: Path | None = None
    #: read plain-http range bodies with the engine's own lean HTTP/1.1 reader
    #: (``engine/http/rawhttp.py``); False keeps every request on httpx
    raw_http: bool = True
    #: an HTTP(S) or SOCKS proxy URL for every request (``--proxy``); ``None`` takes
    #: the environment's (``HTTPS_PROXY``, …)
    proxy: str | None = None
    #: bytes per second across every download of the engine (``--limit-rate-total``);
    #: read once, when the engine context is made
    limit_rate_total: int | None = None
    #: log each request, response status, range and reconnect (``-v``); sends every
    #: request through httpx, whose hooks see them
    log_requests: bool = False
    #: the low-speed limit (curl's ``--speed-limit``): under this many bytes/s for
    #: ``speed_time`` seconds, the connections are restarted; 0 turns it off
    speed_limit: int = 1024
    #: seconds the download may stay under ``speed_limit`` (curl's ``--speed-time``)
    speed_time: float = 60.0
    #: ``--url-cmd``: a shell command printing a fresh URL when the one in use expires
    url_cmd: str | None = None
    #: save an HTML page even where it looks like an error page standing in for a file
    accept_html: bool = False
    #: ``--mirror``: more URLs of the same file, fetched from at once (``engine/mirrors/run.py``)
    mirrors: tuple[str, ...] = ()
    #: the Metalink ``<file>`` this download comes from: its size and piece hashes
    metalink: MetalinkFile | None = None

    @property
    def stream_buffer(self) -> int:
        return self.buffer if self.buffer is not None else self.threads * 8 * 1024 * 1024
