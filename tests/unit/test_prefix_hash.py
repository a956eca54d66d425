"""``PrefixHasher``: the prefix hashed in steps, then the rest, equals one hash of the file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hydra_tui.engine.io.prefix_hash import PrefixHasher
from tests.support.helpers import payload


def test_steps_restart_and_finish(tmp_path: Path) -> None:
    data = payload(9 * 1024 * 1024 + 5, seed=1)
    path = tmp_path / "f.part"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        hasher = PrefixHasher(fd, ["sha256", "md5"])
        hasher.advance(1000)
        hasher.advance(500)  # behind the cursor: nothing to do
        hasher.advance(5 * 1024 * 1024)
        assert hasher.pos == 5 * 1024 * 1024
        hasher.restart()
        assert hasher.pos == 0
        hasher.advance(3)
        got = hasher.finish()
    finally:
        os.close(fd)
    assert got == {"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()}
