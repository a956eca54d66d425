"""Probing a download's sources: its own URL and its mirrors, all at once.

Each mirror gets its own ``Download`` (so its own host gate and AIMD window) and a small
probe, sent at the same moment as the first URL's: the start waits for the slowest
probe, not for their sum. The first source that answers (by priority: the URL, then its
mirrors in order) is the reference the others must agree with; when the URL itself
fails, the download goes on from its mirrors with one warning, as aria2c does.
``engine/mirrors/run.py`` says which disagreements drop a mirror and why ETags are not
among them.
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

__all__ = ["MIRROR_PROBE", "probe_sources"]

log = logging.getLogger(__name__)
#: bytes a mirror's probe asks for (compared with the reference's first bytes)
MIRROR_PROBE = 16 * 1024


async def probe_sources(dl: Download) -> Probed:
    """Probe ``dl``'s URL and mirrors at once, keep those serving the same file
    (``dl.mirror_set``) and return the reference probe; raises the URL's own error only
    when no source is left."""
    from hydra_tui.engine.download import Download

    opts = dl.options
    meta = opts.metalink
    expected = None if meta is None else meta.size
    # ``--url-cmd`` renews the first URL only: a mirror answering 403 must not take the
    # first URL's fresh link for its own (it renews by its own redirects or is dropped)
    plain = replace(opts, mirrors=(), metalink=None, url_cmd=None)
    urls = [u for u in opts.mirrors if u != dl.url]
    others = [Download(dl.ctx, u, plain, id=f"{dl.id}m{i}") for i, u in enumerate(urls, 1)]
    for mdl in others:
        mdl.probe_size = MIRROR_PROBE  # a slow mirror's probe must not hold up the start
        mdl.renewer.commands = False  # nor the one the resume store keeps
    sources = [dl, *others]
    # the URL's probe is as small as the mirrors': the run fetches the rest from all of
    # them, and a 256 KiB probe would hold every mirror's start up
    own_size, dl.probe_size = dl.probe_size, (MIRROR_PROBE if others else dl.probe_size)
    try:
        results = await asyncio.gather(*(s.probe() for s in sources), return_exceptions=True)
    finally:
        dl.probe_size = own_size
    whys: list[str | None] = []
    probes: list[Probed | None] = []
    for i, result in enumerate(results):
        if isinstance(result, BaseException):
            if not isinstance(result, HydraError):
                raise result
            whys.append(str(result))
            probes.append(None)
            continue
        size = result.remote.size
        if expected is not None and size != expected:
            whys.append(f"it has {size} bytes, the metalink says {expected}")
        elif i > 0 and not result.remote.multi_connection:
            # never the reference: one connection to it would need the URL's own code path
            whys.append("it does not serve byte ranges")
        else:
            whys.append(None)
        probes.append(result)
    ref_at = next((i for i, why in enumerate(whys) if why is None), None)
    if ref_at is None:
        if isinstance(results[0], HydraError):
            raise results[0]
        raise ProtocolViolation(f"{dl.shown_url}: {whys[0]}")
    ref = probes[ref_at]
    assert ref is not None
    if ref_at > 0:
        log.warning(
            "%s dropped: %s; going on from its mirror %s",
            dl.shown_url, whys[0], sources[ref_at].shown_url,
        )  # fmt: skip
        dl.adopt_remote(ref.remote)
    mirrors: list[Mirror] = []
    for i, (source, probed) in enumerate(zip(sources, probes, strict=True)):
        why = whys[i]
        if probed is not None and why is None and i != ref_at:
            why = _disagrees(ref, probed, plain=meta is None)
        if why is not None and i > 0:
            log.warning("mirror %s dropped: %s", source.shown_url, why)
        if probed is None or why is not None:
            mirrors.append(Mirror(source, ref.remote, dropped=why))
        else:
            mirrors.append(Mirror(source, probed.remote, received=len(probed.head)))
    dl.mirror_set = MirrorSet(mirrors, None if meta is None else meta.pieces)
    return ref


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
