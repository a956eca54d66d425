"""``hydra_tui.download`` and ``hydra_tui.stream``: the Python API without ``async``.

For scripts and notebooks: each call runs its own event loop (so it cannot be called
from inside a running loop; use ``HydraClient`` there). ``stream`` drives its loop only
while the caller asks for the next chunk, so a slow reader slows the download instead
of growing memory, exactly as ``--stream`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from hydra_tui.client import DownloadResult, HydraClient
from hydra_tui.engine.event_loop import new_loop

__all__ = ["download", "stream"]


def download(url: str, dest: str | Path | None = None, **options: Any) -> DownloadResult:
    """Download ``url`` into the folder ``dest`` (default ``out_dir=``, else the current
    folder); ``options`` are ``HydraClient``'s keywords plus ``download``'s
    (``filename=``, ``sha256=``, ``md5=``)."""
    per_file = {k: options.pop(k) for k in ("filename", "sha256", "md5") if k in options}

    async def run() -> DownloadResult:
        async with HydraClient(**options) as client:
            return await client.download(url, dest, **per_file)

    return _new_runner().run(run())


def stream(url: str, **options: Any) -> Iterator[bytes]:
    """The bytes of ``url``, in order, as an iterator; ``options`` as for ``download``
    (``sha256=``/``md5=`` are checked once the last byte is in)."""
    per_file = {k: options.pop(k) for k in ("sha256", "md5") if k in options}
    client = HydraClient(**options)  # bad keywords fail here, not at the first next()

    async def chunks() -> AsyncIterator[bytes]:
        async with client:
            async for _name, pieces in client.stream(url, **per_file):
                async for piece in pieces:
                    yield piece

    return _iterate(chunks())


def _iterate(agen: AsyncIterator[bytes]) -> Iterator[bytes]:
    runner = _new_runner()

    async def step() -> bytes:
        return await anext(agen)

    try:
        while True:
            try:
                chunk = runner.run(step())
            except StopAsyncIteration:
                return
            yield chunk
    finally:
        runner.run(_close(agen))
        runner.close()


async def _close(agen: AsyncIterator[bytes]) -> None:
    """Close the download early (the caller stopped iterating): connections included."""
    aclose = getattr(agen, "aclose", None)
    if aclose is not None:
        await aclose()
    # closed sockets are released on the loop's next turns; the loop must see them go
    for _ in range(3):
        await asyncio.sleep(0)


def _new_runner() -> asyncio.Runner:
    """An asyncio runner on ``new_loop``'s loops (uvloop where installed)."""
    return asyncio.Runner(loop_factory=new_loop)
