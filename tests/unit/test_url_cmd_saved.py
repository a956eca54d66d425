"""A saved queue (the TUI's and the service's) restarts a download with its --url-cmd,
so a queue resumed the next day renews its expired URLs as the first run did."""

from __future__ import annotations

from hydra_tui.engine.options import DownloadOptions
from hydra_tui.service import saved_queue
from hydra_tui.tui import queue_store


def test_the_tui_queue_keeps_the_url_cmd() -> None:
    options = DownloadOptions(url_cmd="presign model.bin")
    back = queue_store.options_from_json(queue_store.options_to_json(options))
    assert back.url_cmd == "presign model.bin"


def test_the_service_queue_keeps_the_url_cmd() -> None:
    options = DownloadOptions(url_cmd="presign model.bin")
    back = saved_queue.options_from_json(saved_queue.options_to_json(options))
    assert back.url_cmd == "presign model.bin"
