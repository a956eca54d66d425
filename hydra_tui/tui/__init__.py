"""The Textual front end: ``run_tui`` for the CLI, ``HydraApp`` for tests and embedding.

Importing this package imports Textual; the engine and the stream path never do.
"""

from hydra_tui.engine.io.queue_file import QueueStore, SavedEntry
from hydra_tui.tui.app import HydraApp, run_tui

__all__ = ["HydraApp", "QueueStore", "SavedEntry", "run_tui"]
