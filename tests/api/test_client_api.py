"""The Python API speaks the command line's words; against the devserver, sha256-checked."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

import hydra_tui
from hydra_tui import HydraClient, errors
from hydra_tui.devserver import DevServer, Faults
from tests.support.helpers import file_sha256, payload, sha256

MiB = 1024 * 1024


def test_cli_words(server: DevServer, tmp_path: Path) -> None:
    data = payload(3 * MiB, seed=80)
    url = server.add("w.bin", data)
    result = hydra_tui.download(
        url, tmp_path, threads="auto", headers={"X-Token": "abc"}, timeout=5,
        limit_rate="64M", retries=2, stall_timeout=10,
    )  # fmt: skip
    assert result.path == tmp_path / "w.bin" and result.sha256 == sha256(data)
    assert file_sha256(result.path) == sha256(data)
    assert all(r.headers.get("x-token") == "abc" for r in server.requests)
    client = HydraClient(threads="auto", headers=["A: 1", ("B", "2")], timeout=3, insecure=True)
    opts = client.options
    assert opts.auto_threads and opts.headers == (("A", "1"), ("B", "2"))
    assert opts.connect_timeout == 3.0 and not opts.verify_tls
    assert not HydraClient(verify=False).options.verify_tls
    assert HydraClient(limit_rate="5M").options.limit_rate == 5 * MiB


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"thread": 4}, "did you mean 'threads'"),
        ({"limit": "5M"}, "did you mean 'limit_rate'"),
        ({"ca_cert": "x.pem"}, "did you mean 'ca_certificate'"),
        ({"header": {"A": "b"}}, "did you mean 'headers'"),
    ],
)
def test_unknown_keywords_name_the_right_one(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(TypeError, match=needle):
        HydraClient(**kwargs)
    with pytest.raises(TypeError, match=needle):
        hydra_tui.download("http://127.0.0.1:9/x", ".", **kwargs)


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[DevServer, Path]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    with DevServer(ssl_context=context) as srv:
        yield srv, pem


def test_ca_certificate_and_verify(tls: tuple[DevServer, Path], tmp_path: Path) -> None:
    srv, pem = tls
    data = payload(2 * MiB, seed=81)
    url = srv.add("tls.bin", data)
    with pytest.raises(hydra_tui.NetworkError):
        hydra_tui.download(url, tmp_path / "a", retries=0)
    got = hydra_tui.download(url, tmp_path / "b", ca_certificate=pem)
    assert file_sha256(got.path) == sha256(data)
    got = hydra_tui.download(url, tmp_path / "c", verify=str(pem))
    assert file_sha256(got.path) == sha256(data)
    got = hydra_tui.download(url, tmp_path / "d", insecure=True)
    assert file_sha256(got.path) == sha256(data)


def test_progress_callback_gets_the_jsonl_events(server: DevServer, tmp_path: Path) -> None:
    data = payload(2 * MiB, seed=82)
    url = server.add("cb.bin", data, Faults(rate=2 * MiB))
    events: list[dict[str, Any]] = []
    result = hydra_tui.download(url, tmp_path, threads=2, on_progress=events.append)
    assert file_sha256(result.path) == sha256(data)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "progress" in kinds
    done = events[-1]
    assert done["path"] == str(result.path) and done["size"] == len(data) and done["speed"] > 0
    moving = [e for e in events if e["event"] == "progress" and e["done"] > 0]
    assert moving and all(e["speed"] > 0 for e in moving)


def test_callback_hears_errors_and_exceptions_come_from_hydra_tui(
    server: DevServer, tmp_path: Path
) -> None:
    events: list[dict[str, Any]] = []
    with pytest.raises(hydra_tui.HTTPStatusError):
        hydra_tui.download(server.url("gone.bin"), tmp_path, on_progress=events.append)
    assert [e["event"] for e in events] == ["error"]
    assert "404" in events[0]["message"] and events[0]["exit_code"] == 1
    for name in errors.__all__:
        assert getattr(hydra_tui, name) is getattr(errors, name)
        assert name in hydra_tui.__all__


def test_sync_stream_is_an_iterator_of_bytes(server: DevServer) -> None:
    data = payload(5 * MiB + 3, seed=83)
    url = server.add("s.bin", data, Faults(reset=0.1, seed=2))
    chunks = hydra_tui.stream(url, threads=4, buffer="2MiB", chunk_size="512K")
    digest = hashlib.sha256()
    for chunk in chunks:
        assert isinstance(chunk, bytes)
        digest.update(chunk)
    assert digest.hexdigest() == sha256(data)
    with pytest.raises(hydra_tui.ChecksumMismatch):
        for _ in hydra_tui.stream(url, md5="0" * 32):
            pass


def test_leaving_a_sync_stream_early_closes_its_connections(server: DevServer) -> None:
    data = payload(8 * MiB, seed=84)
    url = server.add("early.bin", data, Faults(rate=8 * MiB))
    chunks = hydra_tui.stream(url, threads=4)
    first = next(chunks)
    assert data.startswith(first)
    chunks.close()  # type: ignore[attr-defined]
    assert server.stats("early.bin").bytes_sent < len(data)


def test_stream_names_files_as_download_does(server: DevServer, tmp_path: Path) -> None:
    data = payload(MiB, seed=85)
    url = server.add("x.cgi", data, Faults(content_disposition='attachment; filename="real.tar"'))

    async def main() -> tuple[str, bytes, Path]:
        async with HydraClient(threads=2) as client:
            async for streamed_name, chunks in client.stream(url):
                name, body = streamed_name, b"".join([c async for c in chunks])
            saved = await client.download(url, tmp_path)
        return name, body, saved.path

    name, body, path = asyncio.run(main())
    assert name == "real.tar" == path.name
    assert sha256(body) == sha256(data) == file_sha256(path)
