"""The service's queue on disk, written atomically, so a killed service loses nothing.

Each entry is its id, URL, options and whether it was paused; the bytes themselves are
in the ``.part`` files and the resume store, which the engine checkpoints on its own. A
write goes to a temporary file in the same folder, is fsynced, then renamed over the
old one: a reader sees the old queue or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState

__all__ = ["SavedEntry", "SavedQueue", "options_from_json", "options_to_json"]

log = logging.getLogger(__name__)
_PATHS = frozenset(("output_dir", "ca_file"))
_FIELDS = {f.name for f in dataclasses.fields(DownloadOptions)}


def options_to_json(options: DownloadOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(options, name)
        if isinstance(value, Path):
            value = str(value)
        elif name == "headers":
            value = [list(pair) for pair in value]
        out[name] = value
    return out


def options_from_json(data: dict[str, Any]) -> DownloadOptions:
    """Options from ``options_to_json``; keys this version does not know are skipped."""
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in _FIELDS:
            continue
        if name in _PATHS and value is not None:
            value = Path(value)
        elif name == "headers":
            value = tuple((str(k), str(v)) for k, v in value)
        kwargs[name] = value
    return DownloadOptions(**kwargs)


@dataclasses.dataclass(frozen=True, slots=True)
class SavedEntry:
    id: str
    url: str
    options: DownloadOptions
    paused: bool


class SavedQueue:
    """The queue file: ``load`` once at start, ``save`` whenever the queue may have changed
    (a write happens only when the content did)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = ""

    def load(self) -> list[SavedEntry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            rows = json.loads(text)["entries"]
            entries = [
                SavedEntry(r["id"], r["url"], options_from_json(r["options"]), bool(r["paused"]))
                for r in rows
            ]
        except (ValueError, KeyError, TypeError) as exc:
            # keep the unreadable file for the user; start with an empty queue
            broken = self.path.with_suffix(".broken")
            with contextlib.suppress(OSError):
                self.path.replace(broken)
            log.error(  # noqa: TRY400 - one line, no traceback
                "the saved queue %s is unreadable (%s); kept as %s", self.path, exc, broken
            )
            return []
        self._last = text
        return entries

    def save(self, entries: list[tuple[str, str, DownloadOptions, DownloadState]]) -> bool:
        """Write the unfinished entries; return whether the file was written."""
        rows = [
            {"id": id, "url": url, "options": options_to_json(options),
             "paused": state is DownloadState.PAUSED}
            for id, url, options, state in entries
            if not state.finished
        ]  # fmt: skip
        text = json.dumps({"version": 1, "entries": rows}, indent=1, sort_keys=True)
        if text == self._last:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".queue-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            Path(tmp).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
        self._last = text
        return True
