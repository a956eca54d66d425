"""Case 1: HTTPS against a self-signed DevServer (a throwaway trustme CA).

Untrusted certificates fail cleanly and are never retried into success; ``--insecure``
works but says so; ``HydraClient(ca_file=...)`` trusts a private CA, in both modes.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from hydra_tui import HydraClient
from hydra_tui.devserver import DevServer
from hydra_tui.errors import NetworkError
from tests.support.cli_runs import MiB, assert_one_line_error, files_under
from tests.support.helpers import cli, file_sha256, payload, run, sha256

DATA = payload(3 * MiB + 5, seed=101)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[DevServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with DevServer(ssl_context=context) as srv:
        srv.add("t.bin", DATA)
        yield srv


@pytest.fixture
def ca_pem(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_untrusted_certificate_fails_cleanly(
    tls_server: DevServer, out_dir: Path, mode: str
) -> None:
    url = tls_server.url("t.bin")
    args = ["-s", url] if mode == "stream" else ["--no-ui", url, "-o", str(out_dir)]
    proc = cli(*args)
    line = assert_one_line_error(proc, 1, "TLS", "certificate")
    assert "t.bin" in line
    assert proc.stdout == b""
    assert files_under(out_dir) == []
    # the handshake failed: no HTTP request ever reached the server
    assert tls_server.stats("t.bin").requests == 0


@pytest.mark.parametrize("mode", ["disk", "stream"])
def test_insecure_succeeds_with_a_warning(tls_server: DevServer, out_dir: Path, mode: str) -> None:
    url = tls_server.url("t.bin")
    if mode == "stream":
        proc = cli("-s", url, "--insecure", "-t", "4", "--chunk-size", "512K")
        assert sha256(proc.stdout) == sha256(DATA)
    else:
        proc = cli("--no-ui", url, "-o", str(out_dir), "--insecure", "-t", "4")
        assert file_sha256(out_dir / "t.bin") == sha256(DATA)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    warnings = [line for line in err.splitlines() if "insecure" in line.lower()]
    assert warnings and "warning" in warnings[0].lower()


def test_ca_file_disk(tls_server: DevServer, out_dir: Path, ca_pem: Path) -> None:
    url = tls_server.url("t.bin")

    async def go() -> Path:
        async with HydraClient(threads=4, ca_file=ca_pem) as client:
            result = await client.download(url, out_dir)
            assert result.sha256 == sha256(DATA)
            return result.path

    path = run(go())
    assert file_sha256(path) == sha256(DATA)
    assert files_under(out_dir) == [Path("t.bin")]


def test_ca_file_stream(tls_server: DevServer, ca_pem: Path) -> None:
    url = tls_server.url("t.bin")

    async def go() -> str:
        h = hashlib.sha256()
        async with HydraClient(threads=4, ca_file=ca_pem, chunk_size=512 * 1024) as client:
            async for _name, chunks in client.stream(url):
                async for chunk in chunks:
                    h.update(chunk)
        return h.hexdigest()

    assert run(go()) == sha256(DATA)


def test_certificate_for_another_host_is_refused(
    ca: trustme.CA, ca_pem: Path, out_dir: Path
) -> None:
    """A trusted CA does not make a certificate valid for a host it does not name."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("files.example.org").configure_cert(context)
    with DevServer(ssl_context=context) as srv:
        url = srv.add("t.bin", DATA)

        async def go() -> None:
            async with HydraClient(threads=2, ca_file=ca_pem, retries=3) as client:
                await client.download(url, out_dir)

        with pytest.raises(NetworkError, match="TLS") as info:
            run(go())
        assert "127.0.0.1" in str(info.value) or "hostname" in str(info.value).lower()
        assert files_under(out_dir) == []


def test_https_url_to_a_plain_http_port(server: DevServer, out_dir: Path) -> None:
    url = server.add("p.bin", DATA).replace("http://", "https://")
    # the devserver waits for a request line that never comes: the handshake times out
    proc = cli("--no-ui", url, "-o", str(out_dir), "--retries", "1", "--timeout", "1")
    assert_one_line_error(proc, 1, "TLS")
    assert files_under(out_dir) == []
