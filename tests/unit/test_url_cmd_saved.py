"""A saved queue (the TUI's and the service's) restarts a download with its --url-cmd,
so a queue resumed the next day renews its expired URLs as the first run did."""

from __future__ import annotations

from hydra_tui.engine.io import queue_file
from hydra_tui.engine.options import DownloadOptions
from tests.support.service import through_the_service_queue


def test_the_tui_queue_keeps_the_url_cmd() -> None:
    options = DownloadOptions(url_cmd="presign model.bin")
    back = queue_file.options_from_json(queue_file.options_to_json(options))
    assert back.url_cmd == "presign model.bin"


def test_the_service_queue_keeps_the_url_cmd() -> None:
    options = DownloadOptions(url_cmd="presign model.bin")
    back = through_the_service_queue("http://127.0.0.1:9/model.bin", options).options
    assert back.url_cmd == "presign model.bin"
