"""The Textual front end: ``run_tui`` for the CLI, ``HydraApp`` for tests and embedding.

Importing this package imports Textual; the engine and the stream path never do.
"""

from hydra_tui.tui.app import HydraApp, run_tui
from hydra_tui.tui.queue_store import QueueEntry, QueueStore

__all__ = ["HydraApp", "QueueEntry", "QueueStore", "run_tui"]
