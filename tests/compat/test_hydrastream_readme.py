"""hydrastream 1.1's README, run as written (``hs`` → ``hydra-tui``, ``hydrastream`` →
``hydra_tui``, its example URL → the devserver's), and each of its options and keywords.

We promise hydrastream users a drop-in; these are the commands and code they have.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer
from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024
README_URL = "https://ftp.ncbi.nlm.nih.gov/.../genome.fna.gz"

# hydrastream 1.1 README, "Usage" (and the issue's -nu form of the first)
DISK = 'hs "https://ftp.ncbi.nlm.nih.gov/.../genome.fna.gz" -t 20 --output ./data'
DISK_NU = 'hs "https://ftp.ncbi.nlm.nih.gov/.../genome.fna.gz" -t 20 --output ./data -nu'
PIPE = 'hs "https://ftp.ncbi.nlm.nih.gov/.../genome.fna.gz" -t 20 --stream -q | zcat | wc -l'
PYTHON = """\
import asyncio
from hydrastream import HydraClient

async def main():
    urls =["https://example.com/file1.gz"]
    async with HydraClient(threads=10, quiet=True) as client:
        async for filename, stream in client.stream(urls):
            async for chunk in stream:
                pass # Process chunk bytes

if __name__ == "__main__":
    asyncio.run(main())
"""


def _genome() -> tuple[bytes, int]:
    lines = [f">seq{i}\n" + "ACGT" * 20 + "\n" for i in range(40_000)]
    text = "".join(lines).encode()
    return gzip.compress(text, compresslevel=1, mtime=0), text.count(b"\n")


def _shell(command: str, url: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    bin_dir = Path(sys.executable).parent
    if shutil.which("hydra-tui", path=str(bin_dir)) is None:
        pytest.skip("the hydra-tui console script is not installed beside this Python")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    line = command.replace("hs ", "hydra-tui ", 1).replace(README_URL, url)
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env, capture_output=True,
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("command", [DISK, DISK_NU])
def test_readme_disk_example(command: str, server: DevServer, tmp_path: Path) -> None:
    data, _ = _genome()
    url = server.add("genome.fna.gz", data)
    proc = _shell(command, url, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(tmp_path / "data" / "genome.fna.gz") == sha256(data)


def test_readme_pipe_example(server: DevServer, tmp_path: Path) -> None:
    if shutil.which("zcat") is None:
        pytest.skip("zcat is not installed")
    data, lines = _genome()
    url = server.add("genome.fna.gz", data)
    proc = _shell(PIPE, url, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == str(lines)
    assert proc.stderr == b""  # -q: nothing on the terminal
    alone = _shell(
        PIPE.split(" | ", maxsplit=1)[0], url, tmp_path
    )  # the same command, bytes checked
    assert sha256(alone.stdout) == sha256(data)


def test_readme_python_example(server: DevServer, tmp_path: Path) -> None:
    data = payload(3 * MiB, seed=60)
    url = server.add("file1.gz", data)
    code = PYTHON.replace("hydrastream", "hydra_tui").replace("https://example.com/file1.gz", url)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"" and proc.stderr == b""
    assert server.stats("file1.gz").bytes_sent >= len(data)
    # the same program, with the loop body keeping the bytes, gets every byte right
    checked = code.replace(
        "pass # Process chunk bytes", "digest.update(chunk)"
    ).replace(
        "async def main():", "import hashlib\ndigest = hashlib.sha256()\n\nasync def main():"
    ) + "\n    print(digest.hexdigest())\n"  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", checked], cwd=tmp_path, capture_output=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == sha256(data)


def test_every_cli_option_of_the_readme_table(server: DevServer, tmp_path: Path) -> None:
    data = payload(3 * MiB + 5, seed=61)
    url = server.add("t.bin", data)
    md5 = hashlib.md5(data).hexdigest()
    out = tmp_path / "o"
    args = ["-t", "3", "-o", str(out), "-nu", "-q", "--md5", md5, "-b", str(10 * MiB)]
    proc = cli(url, *args, "--chunk-timeout", "120")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out / "t.bin") == sha256(data)
    proc = cli(url, "--threads", "3", "--stream", "--buffer", str(MiB), "--quiet", "--md5", md5)
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)
    wrong = cli(url, "-o", str(tmp_path / "w"), "--no-ui", "-q", "--md5", "0" * 32)
    assert wrong.returncode == 3
    version = cli("-v")
    assert version.returncode == 0 and version.stdout.startswith(b"hydra-tui ")


def test_every_client_keyword(server: DevServer, tmp_path: Path) -> None:
    from hydra_tui import ChecksumMismatch, HydraClient

    data = payload(2 * MiB, seed=62)
    url = server.add("k.bin", data)
    md5 = hashlib.md5(data).hexdigest()

    async def main() -> None:
        async with HydraClient(
            3, no_ui=True, quiet=True, out_dir=str(tmp_path / "dl"), chunk_timeout=120,
            stream_buffer_size=10 * MiB,
            client_kwargs={"headers": {"X-From": "hs"}, "timeout": 10, "http2": True,
                           "follow_redirects": True},
        ) as client:  # fmt: skip
            await client.run([url], {url: md5})
            got = []
            async for name, chunks in client.stream([url], {url: md5}):
                assert name == "k.bin"
                got.extend([chunk async for chunk in chunks])
            assert sha256(b"".join(got)) == sha256(data)
            with pytest.raises(ChecksumMismatch):
                await client.run(url, {url: "f" * 32})

    asyncio.run(main())
    assert file_sha256(tmp_path / "dl" / "k.bin") == sha256(data)
    assert all(r.headers.get("x-from") == "hs" for r in server.requests)
