"""Start-up stays cheap: ``--version`` builds no parser, ``--stream`` loads no disk code."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import hydra_tui


def _run(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def test_version_prints_what_argparse_prints_without_building_a_parser() -> None:
    lines = _run("""
        import sys
        from hydra_tui.cli.main import main
        status = main(["--version"])
        loaded = [m for m in ("hydra_tui.cli.args", "argparse", "httpx") if m in sys.modules]
        print("status:", status, "loaded:", loaded)
        from hydra_tui.cli.args import parse
        try:
            parse(["--version"])
        except SystemExit as exc:
            print("argparse exit:", exc.code)
    """)
    version = f"hydra-tui {hydra_tui.__version__}"
    assert lines == [version, "status: 0 loaded: []", version, "argparse exit: 0"]


def test_the_stream_path_loads_no_disk_code() -> None:
    lines = _run("""
        import sys
        import hydra_tui.cli.stream_run
        print([m for m in ("hydra_tui.engine.disk", "hydra_tui.engine.io.commit",
                           "hydra_tui.engine.stream", "textual") if m in sys.modules])
    """)
    assert lines == ["[]"]
