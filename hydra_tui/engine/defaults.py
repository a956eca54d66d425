"""Built-in values that the command line needs without loading the engine.

A leaf module (no imports): ``hydra_tui.config.fields`` reads it while ``hydra-tui add``
parses its command line, where ``engine.options`` and httpx stay unloaded.
"""

from __future__ import annotations

__all__ = ["DEFAULT_THREADS"]

#: ``-t``'s default, for the command line, config files and the API alike
DEFAULT_THREADS = 8
