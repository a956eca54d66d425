"""Where a resource's bytes come from: memory, a file on disk, or a generator function.

Synthetic content lets the demo and the benchmarks serve hundreds of MiB without holding
them: each MiB is a seeded 1 MiB random block, rotated by a per-MiB amount and stamped with
its index, so every MiB differs and a misplaced chunk shows up in a checksum.
``synthetic_bytes``/``synthetic_sha256`` give tests the expected bytes independently.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "BytesContent",
    "Content",
    "FileContent",
    "GeneratedContent",
    "Generator",
    "synthetic_bytes",
    "synthetic_chunk",
    "synthetic_content",
    "synthetic_sha256",
]

#: ``(offset, length) -> bytes``: exactly ``length`` bytes of the content at ``offset``
Generator = Callable[[int, int], bytes]
_BLOCK = 1 << 20
_STAMP = struct.Struct(">QQ")


class Content(ABC):
    """Read-only bytes of one version of a resource."""

    size: int
    #: set when the bytes are a file on disk, so that bodies can go out with sendfile
    path: Path | None = None

    @abstractmethod
    def read(self, offset: int, length: int) -> bytes | memoryview:
        """``length`` bytes at ``offset`` (the caller stays within ``size``)."""

    @abstractmethod
    def identity(self) -> bytes:
        """What the ETag is derived from: equal identities mean equal bytes."""

    def open_file(self) -> BinaryIO:
        """A fresh file object for sendfile (only for content with a ``path``)."""
        if self.path is None:
            raise TypeError("this content is not a file")
        return self.path.open("rb")

    def close(self) -> None:  # noqa: B027 - most contents hold nothing open
        """Release what the content holds open."""

    def all_bytes(self) -> bytes:
        """The whole content; meant for tests and small resources."""
        return bytes(self.read(0, self.size))


class BytesContent(Content):
    """Bytes held in memory."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(bytes(data))
        self.size = len(data)

    def read(self, offset: int, length: int) -> memoryview:
        return self._data[offset : offset + length]

    def identity(self) -> bytes:
        return b"bytes:" + hashlib.sha256(self._data).digest()


class FileContent(Content):
    """A file on disk, read with ``pread``; its size is taken once, when it is added."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        stat = os.fstat(self._fd)
        self.size = stat.st_size
        self.mtime = int(stat.st_mtime)
        self._identity = f"file:{self.path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"

    def read(self, offset: int, length: int) -> bytes:
        chunks = []
        while length > 0:
            chunk = os.pread(self._fd, length, offset)
            if not chunk:
                raise OSError(f"{self.path} shrank while being served")
            chunks.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return b"".join(chunks)

    def identity(self) -> bytes:
        return self._identity.encode()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class GeneratedContent(Content):
    """Bytes computed on demand by a deterministic ``(offset, length) -> bytes`` function."""

    def __init__(self, size: int, generate: Generator, identity: bytes) -> None:
        self.size = size
        self._generate = generate
        self._identity = identity

    def read(self, offset: int, length: int) -> bytes:
        return self._generate(offset, length)

    def identity(self) -> bytes:
        return self._identity


def synthetic_content(seed: int, size: int) -> GeneratedContent:
    """Content whose bytes are ``synthetic_bytes(seed, size)``, generated as it is served."""
    return GeneratedContent(
        size, functools.partial(synthetic_chunk, seed), f"synthetic:{seed}:{size}".encode()
    )


@functools.lru_cache(maxsize=8)
def _base_block(seed: int) -> bytes:
    return random.Random(seed).randbytes(_BLOCK)


@functools.lru_cache(maxsize=32)
def _block(seed: int, index: int) -> bytes:
    """MiB number ``index``: the seed's block rotated per index, stamped with seed and index."""
    base = memoryview(_base_block(seed))
    shift = (index * 4099 + 1) % _BLOCK
    out = bytearray(_BLOCK)
    out[: _BLOCK - shift] = base[shift:]
    out[_BLOCK - shift :] = base[:shift]
    out[: _STAMP.size] = _STAMP.pack(seed % (1 << 64), index)
    return bytes(out)


def synthetic_chunk(seed: int, offset: int, length: int) -> bytes:
    """``length`` bytes at ``offset`` of the endless synthetic stream for ``seed``."""
    if offset < 0 or length < 0:
        raise ValueError("offset and length must not be negative")
    pieces = []
    end = offset + length
    while offset < end:
        index, within = divmod(offset, _BLOCK)
        take = min(_BLOCK - within, end - offset)
        block = _block(seed, index)
        pieces.append(block if take == _BLOCK else block[within : within + take])
        offset += take
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)  # no copy for one piece


def synthetic_bytes(seed: int, size: int) -> bytes:
    """The whole synthetic content for ``seed`` and ``size`` (tests: the expected bytes)."""
    return synthetic_chunk(seed, 0, size)


def synthetic_sha256(seed: int, size: int) -> str:
    """Hex SHA-256 of ``synthetic_bytes(seed, size)``, without holding it all in memory."""
    digest = hashlib.sha256()
    for offset in range(0, size, _BLOCK):
        digest.update(synthetic_chunk(seed, offset, min(_BLOCK, size - offset)))
    return digest.hexdigest()
