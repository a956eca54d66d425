"""A saved download queue on disk: the one codec for the TUI's queue and the service's.

File format (JSON, one entry a line)::

    {"version": 1, "entries": [
        {"id": "…", "url": "…", "state": "queued" | "paused" | "done" | "failed" | "cancelled",
         "options": {<DownloadOptions fields as JSON values>},
         "result": {"name": …, "path": …, "size": …, "done": …, "final_url": …, "etag": …,
                    "last_modified": …, "checksum": …, "error": …}}]}

``result`` is only written for finished entries. Files the service wrote before it used
this module have ``"paused": true | false`` where ``state`` now stands; they still load.

Guarantees:

- A write goes to a temporary file in the same folder, is fsynced, then ``os.replace``-d
  over the old one: a reader (or the next start after a ``kill -9``) sees the old queue or
  the new one, never half of either. Saving the same content twice writes nothing.
- The file keeps URLs with their passwords (a restart needs them to resume): it is 0600
  in a folder made 0700 (``private.py``).
- ``SavedEntry.from_snapshot`` stores the output folder and the CA file absolute: a queue
  saved from one working folder resumes into the same ``.part`` files from another.
- Options: unknown keys are ignored (a file from a newer version loads), missing ones take
  their defaults; a value of the wrong type makes the file unreadable. Mirrors are kept; a
  Metalink's own object is not (its mirrors are in ``mirrors``, its piece hashes are lost).
- A file that cannot be read is renamed to ``<name>.corrupt`` (``.corrupt.1``, …), the
  queue starts empty, and a message goes to the log and to ``warnings`` for a front end
  to show.

Download progress is not stored here: the engine's resume store owns the bytes on disk.
Which entries a front end saves and what it does with them on load is its own business:
the TUI keeps finished ones to show, the service saves only unfinished ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import string
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from hydra_tui.engine.http.urls import redact_url
from hydra_tui.engine.io.checksums import ChecksumList
from hydra_tui.engine.io.private import private_dir
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState

__all__ = [
    "FORMAT_VERSION",
    "QueueFileError",
    "QueueStore",
    "SavedEntry",
    "options_from_json",
    "options_to_json",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_FINISHED = frozenset({"done", "failed", "cancelled"})
_STATES = _FINISHED | {"queued", "paused"}
_RESULT_FIELDS: dict[str, type] = {
    "name": str,
    "path": str,
    "size": int,
    "done": int,
    "final_url": str,
    "etag": str,
    "last_modified": str,
    "checksum": str,
    "error": str,
}


class QueueFileError(ValueError):
    """The queue file is not what this version writes."""


@dataclass(frozen=True, slots=True)
class SavedEntry:
    """One saved download; the ``result`` fields are only kept for finished entries."""

    id: str
    url: str
    options: DownloadOptions
    state: str = "queued"
    name: str | None = None
    path: str | None = None
    size: int | None = None
    done: int = 0
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    checksum: str | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in _FINISHED

    @classmethod
    def from_snapshot(
        cls, url: str, options: DownloadOptions, snapshot: DownloadSnapshot
    ) -> SavedEntry:
        """Reduce a live snapshot to what is worth keeping across a restart.

        The output folder (and CA file) are stored absolute: the next start may be in
        another working folder, and must resume into the same ``.part`` file, not start
        over elsewhere."""
        ca_file = None if options.ca_file is None else options.ca_file.absolute()
        options = replace(options, output_dir=options.output_dir.absolute(), ca_file=ca_file)
        state = snapshot.state
        if state.finished:
            return cls(
                id=snapshot.id,
                url=url,
                options=options,
                state=state.value,
                name=snapshot.name,
                path=snapshot.path,
                size=snapshot.size,
                done=snapshot.done,
                final_url=snapshot.final_url,
                etag=snapshot.etag,
                last_modified=snapshot.last_modified,
                checksum=snapshot.checksum,
                error=snapshot.error,
            )
        saved = "paused" if state is DownloadState.PAUSED else "queued"
        return cls(id=snapshot.id, url=url, options=options, state=saved)

    def to_snapshot(self) -> DownloadSnapshot:
        """The frozen view the queue shows for a finished entry that is not in the engine
        (the URL's password redacted, as in the engine's own snapshots)."""
        return DownloadSnapshot(
            id=self.id,
            url=redact_url(self.url),
            state=DownloadState(self.state),
            name=self.name,
            path=self.path,
            final_url=None if self.final_url is None else redact_url(self.final_url),
            size=self.size,
            done=self.done,
            etag=self.etag,
            last_modified=self.last_modified,
            rate_limit=self.options.limit_rate,
            checksum=self.checksum,
            error=self.error,
            folder=str(self.options.output_dir),
        )


def options_to_json(options: DownloadOptions) -> dict[str, Any]:
    """Every field as a JSON value: paths as strings, header pairs as lists."""
    out: dict[str, Any] = {}
    for f in fields(options):
        value = getattr(options, f.name)
        if isinstance(value, Path):
            value = str(value)
        elif f.name == "headers":
            value = [list(pair) for pair in value]
        elif f.name == "mirrors":
            value = list(value)
        elif f.name == "metalink":
            value = None  # its mirrors are in ``mirrors``; its piece hashes are not kept
        elif f.name == "checksum_list" and value is not None:
            value = {"source": value.source, "entries": [list(e) for e in value.entries]}
        out[f.name] = value
    return out


def _expect(name: str, value: Any, *types: type) -> Any:
    # bool is an int subclass: a stray true must not become threads=1
    if isinstance(value, bool) and bool not in types:
        raise QueueFileError(f"option {name!r}: unexpected {value!r}")
    if not isinstance(value, types):
        raise QueueFileError(f"option {name!r}: unexpected {value!r}")
    return value


def options_from_json(data: Any) -> DownloadOptions:
    """Inverse of :func:`options_to_json`; unknown keys are ignored, missing ones default."""
    if not isinstance(data, dict):
        raise QueueFileError("options must be an object")
    kwargs: dict[str, Any] = {}
    for f in fields(DownloadOptions):
        if f.name not in data:
            continue
        value = data[f.name]
        kind = str(f.type).replace(" ", "")
        optional = kind.endswith("|None")
        if value is None and optional:
            kwargs[f.name] = None
            continue
        base = kind.removesuffix("|None")
        if base == "Path":
            kwargs[f.name] = Path(_expect(f.name, value, str))
        elif base == "int":
            kwargs[f.name] = _expect(f.name, value, int)
        elif base == "float":
            kwargs[f.name] = float(_expect(f.name, value, int, float))
        elif base == "bool":
            kwargs[f.name] = _expect(f.name, value, bool)
        elif base == "str":
            kwargs[f.name] = _expect(f.name, value, str)
        elif f.name == "headers":
            pairs = _expect(f.name, value, list)
            if not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                for p in pairs
            ):
                raise QueueFileError("option 'headers': expected [name, value] pairs")
            kwargs[f.name] = tuple((str(k), str(v)) for k, v in pairs)
        elif f.name == "checksum_list":
            kwargs[f.name] = _checksum_list(value)
        elif f.name == "mirrors":
            urls = _expect(f.name, value, list)
            if not all(isinstance(u, str) for u in urls):
                raise QueueFileError("option 'mirrors': expected a list of URLs")
            kwargs[f.name] = tuple(urls)
        else:  # pragma: no cover - a new field type needs a branch above
            raise QueueFileError(f"option {f.name!r}: unsupported type {f.type}")
    return DownloadOptions(**kwargs)


def _checksum_list(value: Any) -> ChecksumList:
    """``--checksum-file``'s lines as saved: read once, so a restart needs no re-fetch."""
    data = _expect("checksum_list", value, dict)
    source, entries = data.get("source"), data.get("entries")
    if (
        not isinstance(source, str)
        or not isinstance(entries, list)
        or not all(
            isinstance(e, list)
            and len(e) == 3
            and all(isinstance(x, str) for x in e)
            and e[1] in hashlib.algorithms_guaranteed
            and all(c in string.hexdigits for c in e[2])
            for e in entries
        )
    ):
        raise QueueFileError("option 'checksum_list': expected a source and [name, alg, hex] lines")
    return ChecksumList(source, tuple((n, a, h) for n, a, h in entries))


def _entry_to_json(entry: SavedEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "state": entry.state,
        "options": options_to_json(entry.options),
    }
    if entry.finished:
        out["result"] = {name: getattr(entry, name) for name in _RESULT_FIELDS}
    return out


def _entry_from_json(data: Any) -> SavedEntry:
    if not isinstance(data, dict):
        raise QueueFileError("entry must be an object")
    entry_id, url, state = data.get("id"), data.get("url"), data.get("state")
    if state is None:  # the service's entries before this module: "paused": true | false
        state = "paused" if data.get("paused") is True else "queued"
    if not isinstance(entry_id, str) or not entry_id:
        raise QueueFileError("entry without an id")
    if not isinstance(url, str) or not url:
        raise QueueFileError(f"entry {entry_id!r} without a url")
    if state not in _STATES:
        raise QueueFileError(f"entry {entry_id!r}: unknown state {state!r}")
    result = data.get("result") or {}
    if not isinstance(result, dict):
        raise QueueFileError(f"entry {entry_id!r}: result must be an object")
    extra: dict[str, Any] = {}
    for name, kind in _RESULT_FIELDS.items():
        value = result.get(name)
        if value is None:
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            raise QueueFileError(f"entry {entry_id!r}: bad {name!r}")
        extra[name] = value
    return SavedEntry(
        id=entry_id,
        url=url,
        options=options_from_json(data.get("options", {})),
        state=state,
        **extra,
    )


class QueueStore:
    """Load and save the queue file at ``path``; saving the same content twice is a no-op."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        #: messages about files set aside, for the app to show once
        self.warnings: list[str] = []
        self._last_text: str | None = None

    def load(self) -> list[SavedEntry]:
        """The saved entries; ``[]`` if there is no file or it had to be set aside."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(f"cannot read it ({exc})")
            return []
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise QueueFileError(f"not a version {FORMAT_VERSION} queue file")
            raw = data.get("entries")
            if not isinstance(raw, list):
                raise QueueFileError("'entries' must be a list")
            entries = [_entry_from_json(item) for item in raw]
            if len({e.id for e in entries}) != len(entries):
                raise QueueFileError("duplicate ids")
        except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            self._set_aside(str(exc))
            return []
        self._last_text = text
        return entries

    def save(self, entries: Iterable[SavedEntry]) -> bool:
        """Write atomically if the content changed; ``True`` if the file was written."""
        # one entry a line, each by json's C encoder (``indent`` would use its pure-Python
        # one, slow enough on a long queue to stall the UI's loop: bench/PROFILE.md,
        # "Figures moved out of code comments")
        lines = ",\n".join(json.dumps(_entry_to_json(e), ensure_ascii=False) for e in entries)
        text = f'{{"version": {FORMAT_VERSION}, "entries": [\n{lines}\n]}}\n'
        if text == self._last_text:
            return False
        private_dir(self.path.parent)  # the queue keeps URLs with their passwords
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self._last_text = text
        return True

    def _set_aside(self, reason: str) -> None:
        target = self.path.with_name(self.path.name + ".corrupt")
        n = 0
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt.{n}")
        try:
            self.path.replace(target)
        except OSError as exc:
            message = f"queue file {self.path} is unusable ({reason}) and could not be moved: {exc}"
        else:
            message = f"queue file {self.path} was unusable ({reason}); moved to {target.name}"
        log.warning(message)
        self.warnings.append(message)
