"""A server whose framing is honest but whose bytes are wrong (``lie="shift"``: the body
starts one byte late under a correct Content-Range) cannot be caught by checking
headers; ``--sha256`` must catch it: exit 3, and in disk mode the data is kept as
``.part`` and never published under the final name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import MiB, assert_one_line_error, files_under
from tests.support.helpers import cli, payload, sha256


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_digest_catches_shifted_bodies(server: DevServer, out_dir: Path, mode: str) -> None:
    data = payload(3 * MiB, seed=1201)
    url = server.add("s.bin", data, Faults(lie="shift", lie_rate=0.3, seed=5))
    common = ("-t", "4", "--chunk-size", "256K", "--sha256", sha256(data))
    if mode == "stream":
        proc = cli("-s", url, *common)
    else:
        proc = cli("--no-ui", url, "-o", str(out_dir), *common)
    assert server.stats("s.bin").faults["lie"] > 0
    assert_one_line_error(proc, 3, "sha256 mismatch")
    assert files_under(out_dir) == ([] if mode == "stream" else [Path("s.bin.part")])
