"""A loopback HTTP/1.1 server that can throttle and misbehave: the engine's test oracle.

It backs the tests, ``hydra-tui demo`` and the benchmarks. It never imports the engine
(it must stay an independent judge of it) nor Textual; it is stdlib asyncio only.

::

    with DevServer() as srv:
        url = srv.add("data.bin", data, Faults(rate=4 << 20, reset=0.1))
        ...
        assert srv.stats("data.bin").faults["reset"] > 0
"""

from __future__ import annotations

from hydra_tui.devserver.content import synthetic_bytes, synthetic_chunk, synthetic_sha256
from hydra_tui.devserver.faults import LIES, Faults, parse_size
from hydra_tui.devserver.http import Headers
from hydra_tui.devserver.resources import RecordedRequest, ResourceStats
from hydra_tui.devserver.server import DevServer
from hydra_tui.devserver.tunnel import TunnelProxy

__all__ = [
    "LIES",
    "DevServer",
    "Faults",
    "Headers",
    "RecordedRequest",
    "ResourceStats",
    "TunnelProxy",
    "parse_size",
    "synthetic_bytes",
    "synthetic_chunk",
    "synthetic_sha256",
]
