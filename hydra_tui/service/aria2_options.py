"""aria2's per-download options (strings, aria2c's names) as ``DownloadOptions``."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from hydra_tui.config.fields import parse_header
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import RpcRefused, UsageError
from hydra_tui.units import parse_rate

__all__ = ["INVALID_PARAMS", "aria2_options_of", "from_aria2_options"]

#: JSON-RPC's code for parameters of the wrong shape
INVALID_PARAMS = -32602
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_DIGESTS = {"sha-256": ("sha256", 64), "md5": ("md5", 32)}


def _int(name: str, value: object, low: int = 1, high: int = 1024) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise RpcRefused(f"option {name}: not a number: {value!r}") from None
    if not low <= number <= high:
        raise RpcRefused(f"option {name}: {number} is not in {low}..{high}")
    return number


def _rate(value: object) -> int | None:
    try:
        return parse_rate(str(value), what="max-download-limit") or None
    except UsageError as exc:
        raise RpcRefused(str(exc)) from None


def from_aria2_options(
    raw: object, base: DownloadOptions, *, base_dir: Path
) -> tuple[DownloadOptions, bool]:
    """The options for ``aria2.addUri`` / ``changeOption``, and whether ``pause`` was set.
    Options hydra-tui has no use for are ignored, as aria2 ignores those it does not know."""
    if not isinstance(raw, dict):
        raise RpcRefused("options must be a struct", INVALID_PARAMS)
    changes: dict[str, Any] = {}
    threads = [_int(k, raw[k]) for k in ("split", "max-connection-per-server") if k in raw]
    if threads:
        changes["threads"] = min(threads)  # one server: aria2 opens min(split, per-server)
    if "dir" in raw:
        folder = Path(str(raw["dir"])).expanduser()
        changes["output_dir"] = folder if folder.is_absolute() else base_dir / folder
    if "out" in raw:
        changes["filename"] = str(raw["out"])
    if "max-download-limit" in raw:
        changes["limit_rate"] = _rate(raw["max-download-limit"])
    if "header" in raw:
        lines = raw["header"] if isinstance(raw["header"], list) else [raw["header"]]
        try:
            changes["headers"] = base.headers + tuple(parse_header(h) for h in lines)
        except UsageError as exc:
            raise RpcRefused(str(exc)) from None
    if "checksum" in raw:
        kind, _, digest = str(raw["checksum"]).partition("=")
        if kind.lower() not in _DIGESTS:
            raise RpcRefused(f"checksum: only sha-256= and md5= are supported, not {kind!r}")
        field, length = _DIGESTS[kind.lower()]
        if len(digest) != length or not _HEX.match(digest):
            raise RpcRefused(f"checksum: {kind} needs {length} hex digits")
        changes[field] = digest.lower()
    paused = str(raw.get("pause", "false")).lower() == "true"
    return dataclasses.replace(base, **changes), paused


def aria2_options_of(options: DownloadOptions) -> dict[str, str]:
    """What ``aria2.getOption`` reports."""
    out = {
        "dir": str(options.output_dir),
        "split": str(options.threads),
        "max-connection-per-server": str(options.threads),
        "max-download-limit": str(options.limit_rate or 0),
    }
    if options.filename:
        out["out"] = options.filename
    if options.sha256:
        out["checksum"] = f"sha-256={options.sha256}"
    elif options.md5:
        out["checksum"] = f"md5={options.md5}"
    return out
