"""The service and the shell commands never load Textual or Rich (the service is headless,
and ``add`` must start fast)."""

from __future__ import annotations

import subprocess
import sys

# click hidden: httpx imports its own CLI (rich) when click is importable, and the test
# extra's moto[server] brings click (tests/test_import_hygiene.py)
CODE = """
import sys
sys.modules["click"] = None
import hydra_tui.cli.service_commands, hydra_tui.service.daemon, hydra_tui.service.rpc_http
import hydra_tui.cli.daemon
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print(",".join(bad))
"""


def test_the_service_imports_no_ui() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
