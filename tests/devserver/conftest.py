"""Fixtures for the devserver tests: a running server with one well-known resource."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hydra_tui.devserver import DevServer
from tests.support.raw_http import DATA


@pytest.fixture
def srv() -> Iterator[DevServer]:
    """A running server serving ``DATA`` as ``data.bin`` with no faults."""
    with DevServer() as server:
        server.add("data.bin", DATA)
        yield server
