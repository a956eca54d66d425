"""The engine and the stream path are headless: importing them never loads Textual."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "hydra_tui",
    "hydra_tui.client",
    "hydra_tui.cli.main",
    "hydra_tui.cli.headless",
    "hydra_tui.cli.disk_run",
    "hydra_tui.cli.stream_run",
    "hydra_tui.cli.progress",
    "hydra_tui.engine.plan.aimd",
    "hydra_tui.engine.context",
    "hydra_tui.engine.disk",
    "hydra_tui.engine.download",
    "hydra_tui.engine.io.filename",
    "hydra_tui.engine.http.headers",
    "hydra_tui.engine.backends.manager",
    "hydra_tui.engine.plan.planner",
    "hydra_tui.engine.http.probe",
    "hydra_tui.engine.plan.ranges",
    "hydra_tui.engine.plan.ratelimit",
    "hydra_tui.engine.io.reorder",
    "hydra_tui.engine.io.resume",
    "hydra_tui.engine.one_connection",
    "hydra_tui.engine.io.sinks",
    "hydra_tui.engine.snapshot",
    "hydra_tui.engine.stream",
    "hydra_tui.engine.transfer",
    "hydra_tui.devserver",
]


def _runs_clean(code: str) -> None:
    """Run ``code`` in a fresh interpreter (nothing imported yet); its asserts must hold."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_modules_do_not_import_textual(module: str) -> None:
    # httpx imports its own command line (rich) when click is importable; flask brings
    # click with the test extra's moto[server]. That import is httpx's, not ours: hide
    # click so that the test sees what our modules import.
    code = (
        f"import sys; sys.modules['click'] = None; import {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "assert not bad, bad\n"
    )
    _runs_clean(code)


def test_devserver_never_imports_the_engine() -> None:
    code = (
        "import sys, hydra_tui.devserver, hydra_tui.devserver.demo\n"
        "bad = sorted(m for m in sys.modules if m.startswith('hydra_tui.engine'))\n"
        "assert not bad, bad\n"
    )
    _runs_clean(code)


def test_the_tuis_process_does_not_load_the_engine_proper() -> None:
    # the engine runs in a process of its own: the UI's would import it (~0.1 s of
    # start-up, the first byte that much later) only to leave it unused
    code = (
        "import sys, hydra_tui.cli.tui_launch, hydra_tui.engine.backends.process, hydra_tui.tui\n"
        "bad = sorted(m for m in sys.modules if m in ('hydra_tui.engine.backends.manager',"
        " 'hydra_tui.engine.transfer', 'httpx'))\n"
        "assert not bad, bad\n"
    )
    _runs_clean(code)


def test_parsing_an_add_command_line_does_not_import_httpx() -> None:
    # ``hydra-tui add`` must return within 150 ms (issue 22); httpx's import alone is a
    # large part of that, and the service that fetches the URLs has it loaded already
    code = (
        "import sys\n"
        "from hydra_tui.cli.args import parse\n"
        "parse(['-t', '4', 'https://example.org/a.iso', 'http://127.0.0.1:8080/b?x=1'])\n"
        "assert 'httpx' not in sys.modules\n"
        "assert 'http.cookiejar' not in sys.modules  # loads urllib.request: only with cookies\n"
    )
    _runs_clean(code)
