"""Every example of ``docs/api.md``, run as written against the devserver."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer
from tests.support.helpers import file_sha256, payload, sha256

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
DATA = payload(3 * 1024 * 1024 + 11, seed=70)
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_page_has_the_examples_this_test_checks() -> None:
    assert len(EXAMPLES) == 6


def _run(index: int, server: DevServer, cwd: Path) -> str:
    code = EXAMPLES[index].replace("https://example.org/data.bin", server.url("data.bin"))
    code = code.replace("https://example.org/missing.bin", server.url("missing.bin"))
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


@pytest.fixture
def data_server(server: DevServer) -> DevServer:
    server.add("data.bin", DATA)
    return server


@pytest.mark.parametrize("index", [0, 2, 3])
def test_download_examples(index: int, data_server: DevServer, tmp_path: Path) -> None:
    out = _run(index, data_server, tmp_path)
    saved = tmp_path / "downloads" / "data.bin"
    assert file_sha256(saved) == sha256(DATA)
    assert "data.bin" in out
    if index == 0:
        assert out.split() == [str(saved), str(len(DATA)), sha256(DATA)]
    if index == 3:
        assert out.split()[0] == str(saved) and out.split()[1] == str(len(DATA))


def test_stream_example(data_server: DevServer, tmp_path: Path) -> None:
    assert _run(1, data_server, tmp_path).strip() == sha256(DATA)
    assert list(tmp_path.glob("**/data.bin*")) == []


def test_errors_example(data_server: DevServer, tmp_path: Path) -> None:
    out = _run(4, data_server, tmp_path)
    assert out.startswith("not there: HTTP 404")


def test_async_example(data_server: DevServer, tmp_path: Path) -> None:
    out = _run(5, data_server, tmp_path).splitlines()
    assert out == [f"data.bin {len(DATA)}", f"data.bin {sha256(DATA)}"]
    assert file_sha256(tmp_path / "downloads" / "data.bin") == sha256(DATA)
