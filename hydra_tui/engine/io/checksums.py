"""Which digests a download must match: ``--md5``/``--sha256``, or a checksum file's line.

A checksum file (``SHA256SUMS``, ``MD5SUMS``, ...) is parsed once into a
``ChecksumList``; each download then picks the line for its own name once the probe told
that name. ``expected_digests`` is the one place that answers "what must this file
hash to", and ``check_digests`` the one that says whether it did: disk mode (over the
finished ``.part``), the engine's stream and the command line's stream (as the bytes go)
hash in their own way and are judged alike.

Formats understood: GNU coreutils (``HEX  name``, ``HEX *name`` for binary mode, and the
``\\``-escaped form for names with a backslash or newline) and BSD/``--tag``
(``SHA256 (name) = HEX``). The algorithm follows from the tag, else from the hex length.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hydra_tui.engine.io.filename import download_name, name_from_url
from hydra_tui.errors import ChecksumMismatch, UsageError

if TYPE_CHECKING:
    from hydra_tui.engine.http.probe import RemoteFile

__all__ = [
    "ChecksumList",
    "DigestOptions",
    "check_digests",
    "expected_digests",
    "names_of",
    "new_hashers",
    "parse_checksum_list",
]

#: hex length → algorithm (GNU lines carry no tag)
_BY_LENGTH = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
_BY_TAG = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA224": "sha224",
    "SHA256": "sha256",
    "SHA384": "sha384",
    "SHA512": "sha512",
}
_BSD = re.compile(r"^(?P<tag>[A-Za-z0-9-]+) \((?P<name>.*)\) ?= ?(?P<hex>[0-9A-Fa-f]+)$")
_GNU = re.compile(r"^(?P<hex>[0-9A-Fa-f]+) (?P<mode>[ *^])(?P<name>.+)$")


@dataclass(frozen=True, slots=True)
class ChecksumList:
    """The lines of one checksum file: ``(name, algorithm, lower-case hex)``."""

    #: where the list came from, for messages (a path or a redacted URL)
    source: str
    entries: tuple[tuple[str, str, str], ...]

    def pick(self, names: Iterable[str]) -> tuple[str, str]:
        """``(algorithm, hex)`` for the first of ``names`` that has a line: the exact
        name first, then a line whose last path segment is the name (``./dist/x``).
        Several different digests for one name, or none, is a ``UsageError``."""
        wanted = [n for n in dict.fromkeys(names) if n]
        for exact in (True, False):
            for name in wanted:
                found = {
                    (alg, hexd)
                    for entry_name, alg, hexd in self.entries
                    if (entry_name if exact else entry_name.rsplit("/", 1)[-1]) == name
                }
                if len(found) > 1:
                    raise UsageError(f"{self.source} lists {name} with different checksums")
                if found:
                    return found.pop()
        shown = wanted[0] if wanted else "this file"
        raise UsageError(f"{self.source} has no line for {shown}")


def parse_checksum_list(text: str, source: str) -> ChecksumList:
    """Parse a checksum file; a line that fits no format is a ``UsageError`` naming it."""
    entries: list[tuple[str, str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entry = _parse_line(line)
        if entry is None:
            raise UsageError(f"{source}:{number}: not a checksum line (sha256sum or BSD format)")
        entries.append(entry)
    if not entries:
        raise UsageError(f"{source} holds no checksum lines")
    return ChecksumList(source, tuple(entries))


def _parse_line(line: str) -> tuple[str, str, str] | None:
    escaped = line.startswith("\\")
    if escaped:
        line = line[1:]
    bsd = _BSD.match(line)
    if bsd is not None:
        alg = _BY_TAG.get(bsd["tag"].upper().replace("-", ""))
        hexd = bsd["hex"].lower()
        if alg is None or _BY_LENGTH.get(len(hexd)) != alg:
            return None
        return _unescape(bsd["name"], escaped), alg, hexd
    gnu = _GNU.match(line)
    if gnu is None:
        return None
    hexd = gnu["hex"].lower()
    alg = _BY_LENGTH.get(len(hexd))
    if alg is None:
        return None
    return _unescape(gnu["name"], escaped), alg, hexd


def _unescape(name: str, escaped: bool) -> str:
    """coreutils escapes ``\\`` and newline (and, since 9.0, CR) in names."""
    if not escaped:
        return name
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), name)


class DigestOptions(Protocol):
    """What this module reads of ``engine/options.DownloadOptions`` (which holds a
    ``ChecksumList``): a protocol here, so the two modules do not import each other."""

    @property
    def md5(self) -> str | None: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def checksum_list(self) -> ChecksumList | None: ...
    @property
    def filename(self) -> str | None: ...


def expected_digests(options: DigestOptions, names: Iterable[str]) -> dict[str, str]:
    """Algorithm → expected lower-case hex for a file known by ``names`` (best first)."""
    wanted = {
        alg: value.lower()
        for alg, value in (("md5", options.md5), ("sha256", options.sha256))
        if value
    }
    if options.checksum_list is not None:
        alg, hexd = options.checksum_list.pick(names)
        if wanted.get(alg, hexd) != hexd:
            raise UsageError(f"--{alg} and {options.checksum_list.source} disagree")
        wanted[alg] = hexd
    return wanted


def names_of(options: DigestOptions, remote: RemoteFile, url: str) -> list[str]:
    """The names a checksum file may list a download under, best first: ``-O``'s name,
    the name it is saved as, then the last segments of the final and original URLs."""
    names = [download_name(options.filename, remote.disposition_name, remote.final_url, url)]
    names += [name_from_url(remote.final_url) or "", name_from_url(url) or ""]
    return names


def new_hashers(wanted: Iterable[str]) -> dict[str, hashlib._Hash]:
    """A fresh hasher for each algorithm in ``wanted`` (the keys of the expected digests)."""
    return {alg: hashlib.new(alg) for alg in wanted}


def check_digests(
    wanted: Mapping[str, str], found: Mapping[str, str], *, kept: str | Path | None = None
) -> str | None:
    """Judge the digests ``found`` against those ``wanted``: a mismatch is a
    ``ChecksumMismatch`` naming where the bytes were kept (the ``.part``, a stream's
    saved copy). Returns the line shown beside a verified download ("sha256 HEX"), None
    when nothing was expected."""
    for alg, expected in wanted.items():
        got = found[alg]
        if got != expected:
            where = "" if kept is None else f"; kept {kept}"
            raise ChecksumMismatch(f"{alg} mismatch: expected {expected}, got {got}{where}")
    return ", ".join(f"{alg} {found[alg]}" for alg in wanted) or None
