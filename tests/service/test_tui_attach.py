"""The TUI as a client of the service: Textual's pilot drives a ``HydraApp`` over a
``ServiceBackend`` attached to a real ``hydra-tui daemon``; every result checked byte for
byte."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hydra_tui.config.presets import resolve
from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.errors import HydraError
from hydra_tui.service.attach import ServiceBackend
from hydra_tui.tui.app import HydraApp
from tests.support.helpers import file_sha256, payload, sha256
from tests.support.service import Daemon, hydra, ls, service_pid

MiB = 1024 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def until(pilot: Pilot[int], cond: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def attached(
    initial: list[tuple[str, DownloadOptions]] | None = None, *, quit_stops: bool = False
) -> tuple[HydraApp, ServiceBackend]:
    backend = ServiceBackend()
    app = HydraApp(
        backend, initial=initial or [], stop_service=backend.stop_service, quit_stops=quit_stops
    )
    return app, backend


@pytest.mark.anyio
async def test_q_detaches_downloads_go_on_a_second_tui_sees_the_queue_and_graphs_Q_stops(
    server: DevServer, out_dir: Path
) -> None:
    data = payload(3 * MiB + 11, seed=221)
    url = server.add("a.bin", data, Faults(rate=256 * 1024))
    options = DownloadOptions(output_dir=out_dir, threads=2)
    with Daemon() as daemon:
        app, backend = attached([(url, options)])
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: len(backend.snapshots()) == 1)
            (id,) = [s.id for s in backend.snapshots()]
            await until(pilot, lambda: len(backend.get(id).snapshot().history) >= 3)
            history = backend.get(id).snapshot().history
            await pilot.press("q")
        assert app.return_code == 0
        assert daemon.proc.poll() is None  # detached: the service downloads on
        assert [(r["id"], r["state"]) for r in ls()] == [(id, "downloading")]

        second, backend2 = attached()
        async with second.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: [s.id for s in backend2.snapshots()] == [id])
            snap = backend2.get(id).snapshot()
            # the graph from before this TUI attached: the service kept it
            assert snap.history[: len(history)] == history
            assert snap.chunks and snap.done > 0
            server.set_faults("a.bin", Faults())
            await until(pilot, lambda: backend2.get(id).snapshot().state is DownloadState.DONE)
            assert file_sha256(out_dir / "a.bin") == sha256(data)
            await pilot.press("Q")
        daemon.proc.communicate(timeout=30)  # it stops by itself
        assert daemon.proc.returncode == 0
        assert service_pid() is None


@pytest.mark.anyio
async def test_two_tuis_at_once_share_one_queue(server: DevServer, out_dir: Path) -> None:
    a, b = payload(MiB + 5, seed=222), payload(MiB // 2 + 1, seed=223)
    url_a, url_b = server.add("a.bin", a), server.add("b.bin", b)
    options = DownloadOptions(output_dir=out_dir)
    with Daemon() as daemon:
        one, backend1 = attached([(url_a, options)])
        two, backend2 = attached([(url_b, options)])
        async with one.run_test() as pilot1, two.run_test() as pilot2:
            for pilot, backend in ((pilot1, backend1), (pilot2, backend2)):
                await until(pilot, lambda b=backend: len(b.snapshots()) == 2)  # type: ignore[misc]
                await until(
                    pilot,
                    lambda b=backend: all(  # type: ignore[misc]
                        s.state is DownloadState.DONE for s in b.snapshots()
                    ),
                )
            assert [s.id for s in backend1.snapshots()] == [s.id for s in backend2.snapshots()]
            await pilot1.press("q")
            await pilot2.press("q")
        assert file_sha256(out_dir / "a.bin") == sha256(a)
        assert file_sha256(out_dir / "b.bin") == sha256(b)
        assert daemon.proc.poll() is None
        daemon.stop()


@pytest.mark.anyio
async def test_on_quit_stop_makes_q_pause_everything_and_stop_the_service(
    server: DevServer, out_dir: Path
) -> None:
    data = payload(2 * MiB + 3, seed=224)
    url = server.add("s.bin", data, Faults(rate=128 * 1024))
    with Daemon() as daemon:
        app, backend = attached([(url, DownloadOptions(output_dir=out_dir))], quit_stops=True)
        async with app.run_test() as pilot:
            await until(pilot, lambda: any(s.done > 0 for s in backend.snapshots()))
            (id,) = [s.id for s in backend.snapshots()]
            await pilot.press("q")
        daemon.proc.communicate(timeout=30)  # it stops by itself
        assert daemon.proc.returncode == 0
    server.set_faults("s.bin", Faults())
    with Daemon() as daemon:  # the queue was saved with the download paused
        assert [(r["id"], r["state"]) for r in ls()] == [(id, "paused")]
        hydra("resume", id)
        assert hydra("wait", id).returncode == 0
        assert file_sha256(out_dir / "s.bin") == sha256(data)
        daemon.stop()


def test_hydra_tui_stop_pauses_saves_and_stops(server: DevServer, out_dir: Path) -> None:
    data = payload(2 * MiB + 9, seed=225)
    url = server.add("t.bin", data, Faults(rate=128 * 1024))
    with Daemon() as daemon:
        (id,) = hydra("add", "-o", str(out_dir), url).stdout.split()
        stopped = hydra("stop")
        assert stopped.returncode == 0 and stopped.stderr == ""
        # ``stop`` returns once the service has exited
        daemon.proc.communicate(timeout=5)
        assert daemon.proc.returncode == 0
    assert service_pid() is None
    again = hydra("stop")
    assert again.returncode == 0 and again.stderr == "hydra-tui: no service is running\n"
    server.set_faults("t.bin", Faults())
    with Daemon() as daemon:
        assert [(r["id"], r["state"]) for r in ls()] == [(id, "paused")]
        hydra("resume", "all")
        assert hydra("wait", id).returncode == 0
        assert file_sha256(out_dir / "t.bin") == sha256(data)
        daemon.stop()


def test_on_quit_in_config_toml(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\non-quit = "stop"\n')
    settings, _ = resolve({}, preset=None, config_file=config)
    assert settings.on_quit == "stop"
    config.write_text('[defaults]\non-quit = "later"\n')
    with pytest.raises(HydraError):
        resolve({}, preset=None, config_file=config)


def test_a_bare_hydra_tui_command_line_parses() -> None:
    from hydra_tui.cli.main import _asks_jsonl

    assert _asks_jsonl([]) is False  # raised ValueError: `hydra-tui` alone crashed
    assert _asks_jsonl(["--progress", "jsonl"]) is True


def test_hydra_tui_url_twice_queues_it_once(server: DevServer, out_dir: Path) -> None:
    from hydra_tui.cli.tui_launch import _not_queued
    from hydra_tui.service.client import ServiceClient

    url = server.add("once.bin", payload(1000, seed=226), Faults(rate=1024))
    other = server.url("other.bin")
    with Daemon() as daemon:
        hydra("add", "-o", str(out_dir), url)
        options = DownloadOptions(output_dir=out_dir)
        with ServiceClient.connect() as client:
            assert _not_queued(client, [url, other], options) == [other]
            elsewhere = DownloadOptions(output_dir=out_dir / "elsewhere")
            assert _not_queued(client, [url], elsewhere) == [url]
        daemon.stop()


def test_j_on_an_attaching_command_line_sets_the_services_downloads_at_once(
    server: DevServer, out_dir: Path
) -> None:
    from hydra_tui.cli.tui_launch import prepare_service
    from hydra_tui.service.client import ServiceClient

    data = [payload(200_000, seed=227 + n) for n in range(3)]
    urls = [server.add(f"j{n}.bin", d, Faults(rate=40_000)) for n, d in enumerate(data)]
    options = DownloadOptions(output_dir=out_dir)
    with Daemon() as daemon:
        with ServiceClient.connect() as client:
            assert prepare_service(client, [], options, jobs=1) == []
        for url in urls:
            hydra("add", "-o", str(out_dir), url)
        deadline = time.monotonic() + 60
        rows = ls()
        while not any(r["state"] in ("probing", "downloading") for r in rows):
            assert time.monotonic() < deadline, rows
            time.sleep(0.05)  # polling the service for an outcome, bounded by the deadline
            rows = ls()
        assert sorted(r["state"] for r in rows)[1:] == ["queued", "queued"], rows  # one at a time
        with ServiceClient.connect() as client:
            assert prepare_service(client, urls, options, jobs=3) == []  # all queued there
        while not all(r["state"] == "done" for r in rows):
            assert time.monotonic() < deadline, rows
            time.sleep(0.05)
            rows = ls()
        daemon.stop()
    for n, d in enumerate(data):
        assert file_sha256(out_dir / f"j{n}.bin") == sha256(d)
