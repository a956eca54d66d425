"""The Python API without ``async`` (``hydra_tui.download``, ``hydra_tui.stream``)."""
