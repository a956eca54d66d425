"""What the two headless runners share (``disk_run``: ``--no-ui``; ``stream_run``:
``--stream``): one URL's options, and the progress they print once a second."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hydra_tui.cli.progress import Progress
    from hydra_tui.engine.download import Download
    from hydra_tui.engine.options import DownloadOptions

__all__ = ["progress_every_second", "url_options"]


async def progress_every_second(progress: Progress, snaps: Callable[[], list[Download]]) -> None:
    """Hand ``progress`` the snapshots of the downloads running, once a second."""
    while True:
        await asyncio.sleep(1.0)
        progress.update([d.snapshot() for d in snaps()])


def url_options(options: DownloadOptions, extra: Mapping[str, Any] | None) -> DownloadOptions:
    """``options`` with one URL's overrides; ``subdir`` (from ``out=dir/name``) is joined
    to the output folder."""
    if not extra:
        return options
    import dataclasses

    fields = dict(extra)
    subdir = fields.pop("subdir", None)
    changed = dataclasses.replace(options, **fields)
    if subdir is not None:
        changed = dataclasses.replace(changed, output_dir=changed.output_dir / subdir)
    return changed
