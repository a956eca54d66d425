"""What the headless runners share (``disk_run``: ``--no-ui``; ``stream_run``:
``--stream``; ``dry_run``): one URL's options. Their progress timer is
``progress.reporting``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hydra_tui.engine.options import DownloadOptions

__all__ = ["url_options"]


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
