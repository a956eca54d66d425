"""The service's queue file: the TUI's codec (engine/io/queue_file.py), so what the TUI's
queue keeps the service's keeps too, and files of the release before still load."""

from __future__ import annotations

import json
from pathlib import Path

from hydra_tui.engine.backends.fake import PreviewBackend
from hydra_tui.engine.io.checksums import ChecksumList
from hydra_tui.engine.io.queue_file import QueueStore
from hydra_tui.engine.mirrors.metalink import MetalinkFile
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState
from hydra_tui.service import paths
from hydra_tui.service.daemon import Service
from hydra_tui.tui import HydraApp
from tests.support.service import through_the_service_queue

URL = "http://127.0.0.1:9/f.iso"
MIRRORS = ("http://127.0.0.1:9/m1/f.iso", "http://127.0.0.1:9/m2/f.iso")


def test_a_service_queue_file_of_the_release_before_loads() -> None:
    # written by service/saved_queue.py ("paused" where the shared format has "state")
    folder = Path("/home/u/Downloads")
    literal = Path(__file__).parent / "queue_files" / "service-queue-v1.json"
    paths.queue_file().parent.mkdir(parents=True, exist_ok=True)
    paths.queue_file().write_bytes(literal.read_bytes())
    service = Service()
    service.restore()
    restored = {c.id: c for c in service.manager.controls()}
    assert sorted(restored) == ["q1", "q2"]
    assert restored["q1"].url == URL
    assert restored["q1"].options == DownloadOptions(
        threads=2,
        output_dir=folder,
        headers=(("X-Key", "1"),),
        url_cmd="presign f.iso",
        mirrors=MIRRORS,
    )
    assert restored["q1"].snapshot().state is DownloadState.PAUSED
    assert restored["q2"].url == "http://127.0.0.1:9/g.iso"
    assert restored["q2"].options == DownloadOptions(output_dir=folder)
    assert restored["q2"].snapshot().state is DownloadState.QUEUED
    assert not paths.queue_file().with_name("service-queue.json.corrupt").exists()


def test_a_service_entry_keeps_its_mirrors_through_the_file(tmp_path: Path) -> None:
    options = DownloadOptions(output_dir=tmp_path, mirrors=MIRRORS)
    control = through_the_service_queue(URL, options)
    assert control.id == "d1" and control.url == URL
    assert control.options.mirrors == MIRRORS
    assert control.options == options
    assert control.snapshot().state is DownloadState.PAUSED


def test_a_metalink_download_is_saved_with_its_mirrors(tmp_path: Path) -> None:
    # the service's own codec could not encode a MetalinkFile: its save raised TypeError
    metalink = MetalinkFile("f.iso", None, MIRRORS, size=3)
    options = DownloadOptions(output_dir=tmp_path, mirrors=MIRRORS, metalink=metalink)
    control = through_the_service_queue(URL, options, paused=False)
    assert control.options == DownloadOptions(output_dir=tmp_path, mirrors=MIRRORS)
    assert control.snapshot().state is DownloadState.QUEUED


def test_a_checksum_file_download_is_saved_with_its_lines(tmp_path: Path) -> None:
    # ``hydra-tui --checksum-file SUMS URL`` attached to the service: its first save raised
    # TypeError and the service died ("the service went away")
    sums = ChecksumList("SUMS", (("f.iso", "sha256", "ab" * 32),))
    options = DownloadOptions(output_dir=tmp_path, checksum_list=sums)
    control = through_the_service_queue(URL, options)
    assert control.options.checksum_list == sums
    assert control.options == options


def test_the_tui_and_the_service_save_the_same_options_json(tmp_path: Path) -> None:
    options = DownloadOptions(
        threads=3,
        output_dir=Path("rel/out"),  # both store it absolute
        headers=(("X-Key", "1"),),
        limit_rate=5000,
        connect_timeout=2.5,
        ca_file=Path("ca.pem"),
        url_cmd="presign f.iso",
        mirrors=MIRRORS,
    )
    backend = PreviewBackend()
    backend.add(URL, options, id="d1", paused=True)
    HydraApp(backend, queue_store=QueueStore(tmp_path / "queue.json")).persist()
    service = Service()
    service.manager.add(URL, options, id="d1", paused=True)
    service.save()
    (tui,) = json.loads((tmp_path / "queue.json").read_text())["entries"]
    (svc,) = json.loads(paths.queue_file().read_text())["entries"]
    assert tui["options"] == svc["options"]
    assert svc["options"]["output_dir"] == str(Path.cwd() / "rel/out")
    assert svc["options"]["mirrors"] == list(MIRRORS)
    assert tui == svc  # the entry too: id, url, state
