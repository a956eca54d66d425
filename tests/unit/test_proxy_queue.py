"""``ProxyQueue`` turns the queue's changes into control messages, one implementation for
the process and service backends; only the ids of new entries differ."""

from __future__ import annotations

import re
from typing import Any

from hydra_tui.engine.backends.proxy import ProxyQueue
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.service.attach import ServiceBackend

OPTIONS = DownloadOptions()


class _Recording(ProxyQueue):
    prefix = "r"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[Any, ...]] = []

    def _send(self, message: tuple[Any, ...]) -> None:
        self.sent.append(message)


def test_add_move_remove_and_call_become_messages() -> None:
    queue = _Recording()
    a = queue.add("http://h/a", OPTIONS)
    b = queue.add("http://h/b", OPTIONS, id="mine", paused=True)
    queue.move(b.id, 0)
    queue.call(a.id, "pause")
    queue.remove(a.id, delete_files=True)
    assert queue.sent == [
        ("add", "http://h/a", OPTIONS, "r1", False),
        ("add", "http://h/b", OPTIONS, "mine", True),
        ("move", "mine", 0),
        ("call", "r1", "pause", ()),
        ("remove", "r1", True),
    ]
    assert [c.id for c in queue.controls()] == ["mine"]


def test_an_id_already_taken_here_gets_a_fresh_one() -> None:
    queue = _Recording()
    queue.add("http://h/a", OPTIONS, id="r2")
    assert queue.add("http://h/b", OPTIONS).id == "r1"
    assert queue.add("http://h/c", OPTIONS).id == "r3"
    assert queue.add("http://h/d", OPTIONS, id="r2").id == "r4"


def test_the_service_backend_makes_random_ids() -> None:
    """Not ``q1``: another TUI attached to the same service would count from 1 too."""
    backend = ServiceBackend()  # not attached: its messages wait in the outbox
    first, second = backend.add("http://h/a", OPTIONS), backend.add("http://h/b", OPTIONS)
    assert re.fullmatch(r"[0-9a-f]{16}", first.id)
    assert first.id != second.id
    assert backend.add("http://h/c", OPTIONS, id="given").id == "given"
