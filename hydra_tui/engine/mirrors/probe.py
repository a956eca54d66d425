"""Probing a download's mirrors: which of them serve the same file as its first URL.

Each mirror gets its own ``Download`` (so its own host gate and AIMD window) and a small
probe; ``engine/mirrors/run.py`` says which disagreements drop a mirror and why ETags are
not among them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from hydra_tui.engine.mirrors.run import Mirror, MirrorSet
from hydra_tui.errors import HydraError, ProtocolViolation

if TYPE_CHECKING:
    from hydra_tui.engine.download import Download, Probed

__all__ = ["MIRROR_PROBE", "attach_mirrors"]

log = logging.getLogger(__name__)
#: bytes a mirror's probe asks for (compared with the first URL's first bytes)
MIRROR_PROBE = 16 * 1024


async def attach_mirrors(dl: Download, probed: Probed) -> None:
    """Probe ``dl``'s mirrors and keep those that serve the same file (``dl.mirror_set``)."""
    from hydra_tui.engine.download import Download

    opts = dl.options
    meta = opts.metalink
    remote = probed.remote
    if meta is not None and meta.size is not None and remote.size != meta.size:
        raise ProtocolViolation(
            f"{dl.shown_url} has {remote.size} bytes, the metalink says {meta.size}"
        )
    urls = [u for u in opts.mirrors if u != dl.url]
    plain = replace(opts, mirrors=(), metalink=None)
    others = [Download(dl.ctx, u, plain, id=f"{dl.id}m{i}") for i, u in enumerate(urls, 1)]
    for mdl in others:
        mdl.probe_size = MIRROR_PROBE  # a slow mirror's probe must not hold up the start
    results = await asyncio.gather(*(m.probe() for m in others), return_exceptions=True)
    mirrors = [Mirror(dl, remote)]
    for mdl, result in zip(others, results, strict=True):
        why: str | None
        if isinstance(result, BaseException):
            if not isinstance(result, HydraError):
                raise result
            why = str(result)
        else:
            why = _disagrees(probed, result, plain=meta is None)
        if why is not None:
            log.warning("mirror %s dropped: %s", mdl.shown_url, why)
            mirror = Mirror(mdl, remote, dropped=why)
        else:
            assert not isinstance(result, BaseException)
            mirror = Mirror(mdl, result.remote, received=len(result.head))
        mirrors.append(mirror)
    dl.mirror_set = MirrorSet(mirrors, None if meta is None else meta.pieces)


def _disagrees(first: Probed, other: Probed, *, plain: bool) -> str | None:
    """Why ``other`` is not the same file as ``first``, or None."""
    a, b = first.remote, other.remote
    if b.size != a.size:
        return f"size {b.size} differs from {a.size}"
    if not b.multi_connection:
        return "it does not serve byte ranges"
    n = min(len(first.head), len(other.head))
    if first.head[:n] != other.head[:n]:
        return f"its first {n} bytes differ"
    if plain and a.last_modified and b.last_modified and a.last_modified != b.last_modified:
        return f"Last-Modified {b.last_modified!r} differs from {a.last_modified!r}"
    return None
