"""Choosing a safe local file name for a download.

A name that comes from the server (Content-Disposition or the URL path) is hostile until
proven otherwise: it must never point outside the output folder, hide as a dotfile
trick, carry control characters, or be a reserved device name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["MAX_NAME_BYTES", "choose_name", "download_name", "sanitize_filename"]

MAX_NAME_BYTES = 200  # leaves room for ".part" and ".NNN" under the usual 255-byte limit
_FALLBACK = "download"
_RESERVED = {
    "con", "prn", "aux", "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}  # fmt: skip
_BAD_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def sanitize_filename(raw: str | None) -> str:
    """Turn an untrusted name into one plain file name inside the output folder."""
    if not raw:
        return _FALLBACK
    name = unicodedata.normalize("NFC", raw)
    # keep only the last path component, whichever separator the server used
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    name = _BAD_CHARS.sub("_", name)
    # dots and spaces in any mix (". .bashrc" must not become ".bashrc")
    name = re.sub(r"^[\s.]+|[\s.]+$", "", name)
    if not name or name in (".", ".."):
        return _FALLBACK
    stem = name.split(".", 1)[0].lower()
    if stem in _RESERVED:
        name = "_" + name
    if len(name.encode()) > MAX_NAME_BYTES:
        name = _truncate(name)
    return name


def _truncate(name: str) -> str:
    """Cut to MAX_NAME_BYTES, keeping a short extension when there is one."""
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16 or not stem:
        stem, ext = name, ""
    budget = MAX_NAME_BYTES - (len(ext.encode()) + 1 if ext else 0)
    encoded = stem.encode()[:budget]
    stem = encoded.decode(errors="ignore").rstrip(". ")
    return f"{stem}.{ext}" if ext else stem or _FALLBACK


def name_from_url(url: str) -> str | None:
    """The last path segment of a URL, percent-decoded."""
    path = urlsplit(url).path
    segment = path.rsplit("/", 1)[-1]
    return unquote(segment) if segment else None


def choose_name(content_disposition_name: str | None, final_url: str, original_url: str) -> str:
    """Content-Disposition first, else the final URL's last segment, else the original's."""
    for candidate in (
        content_disposition_name,
        name_from_url(final_url),
        name_from_url(original_url),
    ):
        if candidate and sanitize_filename(candidate) != _FALLBACK:
            return sanitize_filename(candidate)
    return _FALLBACK


def download_name(
    option_name: str | None, disposition_name: str | None, final_url: str, url: str
) -> str:
    """The one name rule: what a download is saved and shown as, on disk, in a stream, in
    a dry run and in the API alike: ``-O``'s name (sanitized), else ``choose_name``."""
    if option_name:
        return sanitize_filename(option_name)
    return choose_name(disposition_name, final_url, url)


def candidate_paths(output_dir: Path, name: str) -> Iterator[Path]:
    """``name``, then ``name.1``-style alternatives (``stem.1.ext``) for an existing file."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    elif stem.lower().endswith(".tar"):  # report.tar.gz -> report.1.tar.gz
        stem, ext = stem[:-4], "tar." + ext
    yield output_dir / name
    for i in range(1, 1000):
        yield output_dir / (f"{stem}.{i}.{ext}" if ext else f"{stem}.{i}")
