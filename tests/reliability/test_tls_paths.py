"""HTTPS on both HTTP paths: the lean reader (``engine/http/rawhttp.py``) and httpx, which
takes over behind a proxy (a loopback ``CONNECT`` tunnel from the devserver).

Each broken certificate (unknown CA, self-signed, another host, expired) and a server
that offers only TLS 1.0 fail with one named line and exit 1 on both paths, before any
HTTP request reaches the server. ``--ca-certificate``/``--cacert`` and ``SSL_CERT_FILE``
are honoured, ranges reuse keep-alive TLS connections, and a proxy still verifies.
Every download is checked by sha256.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from hydra_tui import HydraClient
from hydra_tui.devserver import DevServer, TunnelProxy
from tests.support.cli_runs import MiB, assert_one_line_error, files_under
from tests.support.helpers import cli, file_sha256, payload, run, sha256

DATA = payload(12 * MiB + 7, seed=171)
HINT = ("--ca-certificate", "--insecure")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_pem(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_context() -> ssl.SSLContext:
    return ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)


def _broken(kind: str, ca: trustme.CA, folder: Path) -> ssl.SSLContext:
    """A server context whose certificate (or protocol) a client must refuse."""
    context = _server_context()
    if kind == "unknown-ca":
        trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    elif kind == "self-signed":
        # the CA's own certificate and key: a certificate that signs itself
        cert, key = folder / "self.pem", folder / "self.key"
        ca.cert_pem.write_to_path(str(cert))
        ca.private_key_pem.write_to_path(str(key))
        context.load_cert_chain(cert, key)
    elif kind == "wrong-host":
        ca.issue_cert("files.example.org").configure_cert(context)
    elif kind == "expired":
        past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)
        ca.issue_cert(
            "127.0.0.1", not_before=past - datetime.timedelta(days=30), not_after=past
        ).configure_cert(context)
    return context


@contextlib.contextmanager
def _tls10_server(ca: trustme.CA) -> Iterator[tuple[str, list[str]]]:
    """A server that offers only TLS 1.0, as an old one would: it answers a newer
    client's hello with a ``protocol_version`` alert (asyncio's server TLS drops that
    alert, so this one is a blocking stdlib server). Yields its URL and the TLS
    versions of the handshakes it completed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 is, rightly
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0 otherwise
    ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    done: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed: the test is over
            with conn, contextlib.suppress(OSError):
                conn.settimeout(10)
                with context.wrap_socket(conn, server_side=True) as tls:
                    done.append(str(tls.version()))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}/t.bin", done
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        thread.join(10)


@pytest.fixture(params=["lean", "httpx"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``lean``: no proxy; ``httpx``: HTTPS_PROXY names a tunnel, which only httpx uses."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    if request.param == "lean":
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        yield "lean"
        return
    with TunnelProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("https_proxy", proxy.url)
        yield "httpx"
        # every connection went through the tunnel: httpx carried the download
        assert proxy.tunnels, "the proxy was not used"


@pytest.mark.parametrize(
    ("kind", "trust_ours", "words"),
    [
        ("unknown-ca", False, ("unknown CA", *HINT)),
        ("self-signed", False, ("self-signed", *HINT)),
        ("wrong-host", True, ("another", *HINT)),
        ("expired", True, ("expired", *HINT)),
        ("tls1.0", True, ("1.2",)),
    ],
)
def test_broken_tls_fails_in_one_named_line(
    ca: trustme.CA,
    ca_pem: Path,
    out_dir: Path,
    tmp_path: Path,
    path: str,
    kind: str,
    trust_ours: bool,
    words: tuple[str, ...],
) -> None:
    trust = ["--ca-certificate", str(ca_pem)] if trust_ours else []
    args = ["--no-ui", "-o", str(out_dir), "--retries", "2", "--timeout", "5", *trust]
    if kind == "tls1.0":
        with _tls10_server(ca) as (url, handshakes):
            proc = cli(url, *args)
        assert handshakes == []
    else:
        with DevServer(ssl_context=_broken(kind, ca, tmp_path)) as srv:
            proc = cli(srv.add("t.bin", DATA), *args)
            assert srv.requests == []  # refused in the handshake: no request was sent
    line = assert_one_line_error(proc, 1, "TLS", "127.0.0.1", *words)
    assert line.count("TLS") == 1, line
    assert files_under(out_dir) == []


@pytest.mark.parametrize("flag", ["--ca-certificate", "--cacert"])
def test_private_ca_with_keep_alive_across_ranges(
    ca: trustme.CA, ca_pem: Path, out_dir: Path, path: str, flag: str
) -> None:
    context = _server_context()
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with DevServer(ssl_context=context) as srv:
        url = srv.add("ka.bin", DATA)
        proc = cli(
            "--no-ui", url, "-o", str(out_dir), "-t", "4", "--chunk-size", "1M", flag, str(ca_pem)
        )
        assert proc.returncode == 0, proc.stderr.decode()
        assert file_sha256(out_dir / "ka.bin") == sha256(DATA)
        stats = srv.stats("ka.bin")
    assert stats.range_requests >= 12
    # the probe's connection and the four workers' (a steal may cost one more):
    # a handshake per connection, not per range
    assert stats.connections <= 6, stats


def test_https_ranges_are_read_by_the_lean_reader(
    ca: trustme.CA, ca_pem: Path, out_dir: Path
) -> None:
    context = _server_context()
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with DevServer(ssl_context=context) as srv:
        url = srv.add("lean.bin", DATA)

        async def go(raw_http: bool) -> tuple[str, int]:
            async with HydraClient(threads=4, ca_file=ca_pem, raw_http=raw_http) as client:
                result = await client.download(url, out_dir / str(raw_http))
                pool = client.ctx.raw_pool
                assert pool is not None
                return file_sha256(result.path), pool.dialed

        digest, dialed = run(go(True))
        assert digest == sha256(DATA)
        assert 1 <= dialed <= 6  # the probe's and the workers' TLS connections
        assert run(go(False)) == (sha256(DATA), 0)  # the control: all through httpx


def test_ssl_cert_file_is_honoured(
    ca: trustme.CA, ca_pem: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = _server_context()
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with DevServer(ssl_context=context) as srv:
        url = srv.add("env.bin", DATA)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_pem))
        proc = cli("-s", url, "-t", "4", "--chunk-size", "1M")
        assert proc.returncode == 0, proc.stderr.decode()
        assert sha256(proc.stdout) == sha256(DATA)


def test_missing_ca_certificate_is_a_usage_error(out_dir: Path, tmp_path: Path) -> None:
    proc = cli(
        "--no-ui",
        "https://127.0.0.1:9/x",
        "-o",
        str(out_dir),
        "--cacert",
        str(tmp_path / "nope.pem"),
    )
    assert_one_line_error(proc, 2, "nope.pem")
    assert files_under(out_dir) == []
