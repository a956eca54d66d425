"""``--dry-run``: probe each URL and say what a download would do, writing no file.

The probe is the same ``GET`` with a ``Range`` header a download starts with, so the
answer (name, size, range support, validators, the plan of ranges) is what a real run
would see. Nothing is written to disk and the resume store is not opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from hydra_tui.cli.headless import url_options
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.download import Download
from hydra_tui.engine.io.filename import download_name
from hydra_tui.engine.plan.planner import choose_chunk_size
from hydra_tui.errors import HydraError
from hydra_tui.units import format_size

if TYPE_CHECKING:
    from hydra_tui.engine.options import DownloadOptions

__all__ = ["run_dry"]


async def run_dry(
    urls: list[str],
    options: DownloadOptions,
    *,
    per_url: Mapping[str, Mapping[str, Any]],
    out: TextIO,
    err: TextIO | None = None,
) -> int:
    """Probe every URL in turn and describe it on ``out``; the exit status of the worst."""
    import sys

    err = sys.stderr if err is None else err
    status = 0
    async with EngineContext(options, resume=False) as ctx:
        for url in urls:
            opts = url_options(options, per_url.get(url))
            dl = Download(ctx, url, opts)
            try:
                probed = await dl.probe()
            except HydraError as exc:
                err.write(f"hydra-tui: {url}: {exc}\n")
                status = status or exc.exit_code
                continue
            remote = probed.remote
            name = download_name(opts.filename, remote.disposition_name, remote.final_url, url)
            size = (
                "unknown" if remote.size is None else f"{remote.size} ({format_size(remote.size)})"
            )
            multi, whole = remote.multi_connection, probed.head_complete
            plan = _plan(remote.size, multi, whole, dl.threads, opts.chunk_size)
            lines = [
                url,
                f"  name           {name}",
                f"  into           {opts.output_dir.absolute() / name}",
                f"  final URL      {remote.final_url}",
                f"  size           {size}",
                f"  ranges         {'yes' if remote.accepts_ranges else 'no'}",
                f"  etag           {remote.etag or '-'}",
                f"  last-modified  {remote.last_modified or '-'}",
                f"  plan           {plan}",
            ]
            out.write("\n".join(lines) + "\n")
    out.flush()
    return status


def _plan(size: int | None, multi: bool, whole: bool, threads: int, chunk_size: int | None) -> str:
    if whole:
        return "the probe already holds the whole file: one request"
    if not multi or size is None:
        return "one connection (the server allows no ranges or sends no length)"
    chunk = chunk_size or choose_chunk_size(size, threads)
    count = -(-size // chunk)
    return f"{count} ranges of {format_size(chunk)} over up to {threads} connections"
