"""Metalink 4 (RFC 5854): the files a ``.meta4`` describes, read safely.

A metalink comes from anywhere, so it is hostile until proven otherwise:

- any DTD is refused before a single entity could be expanded (a metalink never needs
  one; this shuts out "billion laughs" and external entities with the standard library,
  no ``defusedxml`` needed), and so is a document over ``MAX_METALINK_BYTES``;
- a file name that is absolute or climbs out (``..``) is refused; every other path
  component goes through the file-name rule (``engine/io/filename.py``), so the file lands
  under ``-o`` whatever the metalink says;
- only http(s) URLs are taken; hashes must be hex of the right length.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from xml.parsers import expat

from hydra_tui.engine.io.filename import sanitize_filename
from hydra_tui.errors import UsageError

__all__ = [
    "MAX_METALINK_BYTES",
    "METALINK_TYPE",
    "MetalinkFile",
    "PieceHashes",
    "is_metalink_type",
    "parse_metalink",
]

MAX_METALINK_BYTES = 4 * 1024 * 1024
METALINK_TYPE = "application/metalink4+xml"
#: what servers label Metalink 3 (``.metalink``) documents; refused by the parser
METALINK3_TYPE = "application/metalink+xml"
_NS = "{urn:ietf:params:xml:ns:metalink}"
_NS3 = "{http://www.metalinker.org/}"
#: hash names of RFC 5854 (IANA "Hash Function Textual Names") we verify, with hex length
_HASHES = {"sha-256": ("sha256", 64), "md5": ("md5", 32)}
#: piece hash names we verify, weakest first (MirrorBrain metalinks often have only sha-1)
_PIECE_HASHES = {"md5": ("md5", 32), "sha-1": ("sha1", 40), "sha-256": ("sha256", 64)}
_HEX = re.compile(r"[0-9a-fA-F]+")
#: what a ``<url>`` without a priority ranks as (RFC 5854: 1 is the highest, 999999 lowest)
_LOWEST = 999999


@dataclass(frozen=True, slots=True)
class PieceHashes:
    """``<pieces length type>``: the digest of every ``length`` bytes, in order."""

    length: int
    algorithm: str
    digests: tuple[str, ...]

    def span(self, index: int, size: int) -> tuple[int, int]:
        start = index * self.length
        return start, min(size, start + self.length)


@dataclass(frozen=True, slots=True)
class MetalinkFile:
    """One ``<file>``: where it goes (under ``-o``), its mirrors best first, its hashes."""

    name: str
    #: folders under ``-o`` (each component sanitized), from a name like ``dir/file``
    subdir: str | None
    urls: tuple[str, ...]
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None
    pieces: PieceHashes | None = field(default=None)


def is_metalink_type(content_type: str | None) -> bool:
    """Does a Content-Type label a metalink (version 4, or 3 to refuse it clearly)?"""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in (METALINK_TYPE, METALINK3_TYPE)


def parse_metalink(data: bytes, source: str) -> list[MetalinkFile]:
    """The files of a Metalink 4 document; ``UsageError`` (one line) when it is not one
    we accept. ``source`` names it in messages."""
    if len(data) > MAX_METALINK_BYTES:
        raise UsageError(f"{source}: metalink larger than {MAX_METALINK_BYTES} bytes")
    _refuse_dtd(data, source)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise UsageError(f"{source}: not a valid metalink: {exc}") from None
    if root.tag == f"{_NS3}metalink":
        raise UsageError(
            f"{source}: a Metalink 3 document; only Metalink 4 (RFC 5854, .meta4) is read"
        )
    if root.tag != f"{_NS}metalink":
        raise UsageError(f"{source}: not a Metalink 4 document (root <{_local(root.tag)}>)")
    files = [_file(node, source) for node in root.findall(f"{_NS}file")]
    if not files:
        raise UsageError(f"{source}: the metalink lists no file")
    return files


def _refuse_dtd(data: bytes, source: str) -> None:
    """Scan with expat and stop at a DOCTYPE, before any entity could expand."""

    class _Refused(Exception):
        pass

    def refuse(*_: object) -> None:
        raise _Refused

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except _Refused:
        raise UsageError(f"{source}: metalink with a DTD or entities refused") from None
    except expat.ExpatError as exc:
        raise UsageError(f"{source}: not a valid metalink: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _file(node: ET.Element, source: str) -> MetalinkFile:
    raw = node.get("name") or ""
    name, subdir = _safe_name(raw, source)
    urls: list[tuple[int, int, str]] = []
    for i, u in enumerate(node.findall(f"{_NS}url")):
        text = (u.text or "").strip()
        if not text.lower().startswith(("http://", "https://")):
            continue  # ftp:, torrents, ...: not ours to fetch
        urls.append((_priority(u.get("priority")), i, text))
    if not urls:
        raise UsageError(f"{source}: no http(s) URL for {raw!r}")
    size = None
    size_node = node.find(f"{_NS}size")
    if size_node is not None:
        text = (size_node.text or "").strip()
        if not text.isdigit():
            raise UsageError(f"{source}: bad <size> for {raw!r}: {text!r}")
        size = int(text)
    digests: dict[str, str] = {}
    for h in node.findall(f"{_NS}hash"):
        known = _HASHES.get((h.get("type") or "").lower())
        if known is not None:
            digests[known[0]] = _hex(h.text, known[1], source)
    return MetalinkFile(
        name=name,
        subdir=subdir,
        urls=tuple(url for _, _, url in sorted(urls)),
        size=size,
        sha256=digests.get("sha256"),
        md5=digests.get("md5"),
        pieces=_pieces(node, source, raw),
    )


def _pieces(node: ET.Element, source: str, raw: str) -> PieceHashes | None:
    """The strongest ``<pieces>`` we can verify (sha-256, else sha-1, else md5)."""
    best: tuple[int, PieceHashes] | None = None
    ranks = list(_PIECE_HASHES)
    for p in node.findall(f"{_NS}pieces"):
        kind = (p.get("type") or "").lower()
        known = _PIECE_HASHES.get(kind)
        length = p.get("length") or ""
        if known is None:
            continue
        if not length.isdigit() or int(length) <= 0:
            raise UsageError(f"{source}: bad <pieces length> for {raw!r}: {length!r}")
        digests = tuple(_hex(h.text, known[1], source) for h in p.findall(f"{_NS}hash"))
        rank = ranks.index(kind)
        if digests and (best is None or rank > best[0]):
            best = rank, PieceHashes(int(length), known[0], digests)
    return None if best is None else best[1]


def _hex(text: str | None, length: int, source: str) -> str:
    value = (text or "").strip()
    if len(value) != length or not _HEX.fullmatch(value):
        raise UsageError(f"{source}: bad hash {value[:80]!r}")
    return value.lower()


def _priority(text: str | None) -> int:
    if text is None or not text.strip().isdigit():
        return _LOWEST
    return max(1, min(_LOWEST, int(text)))


def _safe_name(raw: str, source: str) -> tuple[str, str | None]:
    """``raw`` as (file name, folders under ``-o``); refuses names that would climb out."""
    if not raw.strip():
        raise UsageError(f"{source}: a <file> without a name")
    path = PurePosixPath(raw.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", raw):
        raise UsageError(f"{source}: unsafe file name {raw!r} refused (outside the output folder)")
    parts = [sanitize_filename(p) for p in path.parts if p not in ("", ".")]
    if not parts:
        raise UsageError(f"{source}: unsafe file name {raw!r} refused")
    subdir = "/".join(parts[:-1]) or None
    return parts[-1], subdir
