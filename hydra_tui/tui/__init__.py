"""The Textual front end: ``run_tui`` for the CLI, ``HydraApp`` for tests and embedding.

Importing this package imports Textual; the engine and the stream path never do.
"""

from hydra_tui.tui.app import HydraApp, run_tui
from hydra_tui.tui.queue_store import QueueStore, SavedEntry

__all__ = ["HydraApp", "QueueStore", "SavedEntry", "run_tui"]
