"""Metalink 4 arguments: read (a path) or fetch (a URL) each ``.meta4`` and turn its files
into downloads, each with its mirrors, name, size and hashes (``engine/mirrors/metalink.py``).

A URL without the ``.meta4`` name is found to be a metalink by its Content-Type when the
engine probes it (``MetalinkFound``): the probe's body is the document, so knowing costs
no request more than downloading any other URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra_tui.engine.http.urls import redact_url
from hydra_tui.engine.mirrors.metalink import (
    MAX_METALINK_BYTES,
    MetalinkFile,
    parse_metalink,
)
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.signals import MetalinkFound
from hydra_tui.errors import UsageError

__all__ = ["found_metalink", "load_metalink", "metalink_downloads"]


async def load_metalink(where: str, options: DownloadOptions) -> list[MetalinkFile]:
    """The files of the metalink at ``where`` (a path, or an http(s) URL)."""
    if where.startswith(("http://", "https://")):
        from hydra_tui.cli.checksum_source import fetch_small

        data = await fetch_small(where, options, MAX_METALINK_BYTES, what="metalink")
        return parse_metalink(data, redact_url(where))
    return parse_metalink(_read(where), where)


async def found_metalink(found: MetalinkFound, options: DownloadOptions) -> list[MetalinkFile]:
    """The files of a metalink the engine's probe found; fetched again only when the
    probe did not bring all of it (a document over 256 KiB)."""
    if found.data is None:
        return await load_metalink(found.url, options)
    return parse_metalink(found.data, redact_url(found.url))


def _read(path: str) -> bytes:
    """A small local file, read before any download starts: nothing else waits."""
    try:
        with Path(path).open("rb") as f:
            return f.read(MAX_METALINK_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read metalink {path}: {exc.strerror}") from None


def metalink_downloads(files: list[MetalinkFile]) -> list[tuple[str, dict[str, Any]]]:
    """(first URL, per-URL ``DownloadOptions`` overrides) for each file."""
    found: list[tuple[str, dict[str, Any]]] = []
    for f in files:
        extra: dict[str, Any] = {
            "filename": f.name,
            "mirrors": f.urls[1:],
            "metalink": f,
            "sha256": f.sha256,
            "md5": f.md5,
        }
        if f.subdir is not None:
            extra["subdir"] = f.subdir
        found.append((f.urls[0], extra))
    return found
