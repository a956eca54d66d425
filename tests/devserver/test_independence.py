"""The devserver is the engine's independent oracle: it never imports the engine or Textual."""

from __future__ import annotations

import subprocess
import sys


def test_devserver_imports_neither_engine_nor_textual() -> None:
    code = (
        "import sys, hydra_tui.devserver, hydra_tui.devserver.demo, hydra_tui.devserver.__main__;"
        "bad = sorted(m for m in sys.modules if m.startswith(('hydra_tui.engine', 'textual',"
        " 'httpx', 'rich')));"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
