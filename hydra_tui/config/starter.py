"""The commented ``config.toml`` that ``hydra-tui config init`` writes.

Every key is present but commented out, set to its built-in value, so the file changes
nothing until the user edits it; a test uncomments every line and checks it still loads.
The keys, their comments and example values come from ``option_table``.
"""

from __future__ import annotations

from hydra_tui.config.option_table import OPTIONS

__all__ = ["STARTER_CONFIG"]

_HEAD = """\
# hydra-tui configuration. This file is yours: hydra-tui reads it and never rewrites it.
#
# Precedence, highest first: command line > --preset NAME > [defaults] > built-in.
# Keys may be spelled with - or _ (max-downloads = max_downloads).
# Sizes: "64MiB", "1G", "500K" (K, M, G and KiB, MiB, GiB are 1024-based; KB, MB, GB are
# 1000-based) or a plain number of bytes. Rates are sizes per second: "5M" or "5M/s".
# Check the result with: hydra-tui config show [--preset NAME]

[defaults]
"""

_TAIL = """\
# Presets bundle options under a name: hydra-tui --preset genomics URL
# `hydra-tui config save-preset NAME [options]` saves presets into presets.toml, next to
# this file; a preset defined in both files is taken from presets.toml.
#
# [presets.genomics]
# threads = 32
# output = "~/data/genomics"
# limit-rate = "50M/s"
# headers = ["Authorization: Bearer TOKEN"]
"""


def _block(comment: str, key: str, example: str) -> str:
    lines = [f"# {line}" for line in comment.splitlines()]
    return "\n".join([*lines, f"# {key} = {example}", "", ""])


STARTER_CONFIG = _HEAD + "".join(_block(o.starter, o.key, o.example) for o in OPTIONS) + _TAIL
