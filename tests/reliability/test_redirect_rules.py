"""Issue 19 item 10: what crosses a redirect.

A ``-H Cookie`` is sent to the origin the user named on every request that goes there
(the redirect hop included, as the range requests already did) and to no other origin.
An https page redirected to plain http is followed with a warning. Leaving
``async with HydraClient()`` while a download runs cancels it cleanly (item 6)."""

from __future__ import annotations

import asyncio
import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from hydra_tui import HydraClient
from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import MiB
from tests.support.helpers import cli, file_sha256, payload, run, sha256

COOKIE = "session=abc123"


def test_cookie_follows_a_same_host_redirect_and_every_range(
    server: DevServer, out_dir: Path
) -> None:
    data = payload(4 * MiB + 1, seed=1971)
    target = server.add("real.bin", data)
    start = server.add("link.bin", b"", Faults(redirect_to=target))
    proc = cli("--no-ui", "-t", "4", "--chunk-size", "512K", "-H", f"Cookie: {COOKIE}",
               "-o", str(out_dir), start)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    saved = [p for p in out_dir.iterdir()]
    assert len(saved) == 1 and file_sha256(saved[0]) == sha256(data)
    asked = [r for r in server.requests if r.path in ("/link.bin", "/real.bin")]
    assert len([r for r in asked if r.path == "/real.bin"]) > 2  # the probe and ranges
    assert all(r.headers.get("cookie") == COOKIE for r in asked), [
        (r.path, r.headers.get("cookie")) for r in asked
    ]


def test_cookie_never_goes_to_another_origin(out_dir: Path) -> None:
    data = payload(3 * MiB, seed=1972)
    with DevServer() as first, DevServer() as second:
        target = second.add("far.bin", data)
        start = first.add("near.bin", b"", Faults(redirect_to=target))
        proc = cli("--no-ui", "-t", "4", "-H", f"Cookie: {COOKIE}", "-o", str(out_dir), start)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        assert all(r.headers.get("cookie") == COOKIE for r in first.requests)
        assert second.requests
        assert all(r.headers.get("cookie") is None for r in second.requests)
    saved = [p for p in out_dir.iterdir()]
    assert len(saved) == 1 and file_sha256(saved[0]) == sha256(data)


@pytest.fixture
def tls_server() -> Iterator[tuple[DevServer, Path]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with DevServer(ssl_context=context) as srv:
        yield srv, Path()


def test_https_to_http_redirect_warns(
    server: DevServer, tls_server: tuple[DevServer, Path], out_dir: Path
) -> None:
    secure, _ = tls_server
    data = payload(MiB, seed=1973)
    plain = server.add("plain.bin", data)
    start = secure.add("secure.bin", b"", Faults(redirect_to=plain))
    proc = cli("--no-ui", "--insecure", "-o", str(out_dir), start)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    warning = [x for x in proc.stderr.decode().splitlines() if "plain http" in x]
    assert len(warning) == 1 and "warning" in warning[0], proc.stderr.decode()
    saved = [p for p in out_dir.iterdir()]
    assert len(saved) == 1 and file_sha256(saved[0]) == sha256(data)


def test_leaving_the_client_cancels_a_running_download(
    server: DevServer, out_dir: Path, tmp_path: Path
) -> None:
    data = payload(8 * MiB, seed=1974)
    url = server.add("slow.bin", data, Faults(rate=2 * MiB))

    async def main() -> asyncio.Task[object]:
        async with HydraClient(threads=2, state_dir=tmp_path / "state") as client:
            task: asyncio.Task[object] = asyncio.create_task(client.download(url, out_dir))
            while server.stats("slow.bin").bodies < 2:  # polling the server's state
                await asyncio.sleep(0.01)
        return task

    loop_errors: list[object] = []

    async def watched() -> asyncio.Task[object]:
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
        return await main()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        task = run(watched())
    assert task.cancelled()
    assert loop_errors == []
    assert not (out_dir / "slow.bin").exists()
    assert (out_dir / "slow.bin.part").exists()  # kept for a resume
