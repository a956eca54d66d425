"""``hydra-tui demo``: the app at work with no network, against the built-in server.

The loopback server is throttled and misbehaves (429s, resets, one slow connection), so
the chunk grid and the AIMD graphs have something to show. Files go to a scratch folder
under the user cache dir unless ``-o`` is given; headless, every file is then checked
against the server's digest.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

from hydra_tui.config.model import Settings

__all__ = ["run_demo"]


def _demo_dir(settings: Settings) -> Path:
    if settings.output != Path():
        return settings.output
    import platformdirs

    folder = Path(platformdirs.user_cache_dir("hydra-tui", appauthor=False)) / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_demo(settings: Settings, *, headless: bool, log_path: object, small: bool = False) -> int:
    """Serve the demo files on 127.0.0.1 and download them (TUI, or headless)."""
    from hydra_tui.devserver import synthetic_sha256
    from hydra_tui.devserver.demo import demo_resources, start_demo_server

    files = demo_resources()
    if small:
        files = [dataclasses.replace(f, size=max(1, f.size // 64)) for f in files]
    out = _demo_dir(settings)
    options = settings.download_options(output_dir=out)
    server = start_demo_server()
    try:
        for f in files:  # (re)register at the chosen sizes
            server.add_synthetic(f.name, f.size, f.seed, f.faults)
        urls = [server.url(f.name) for f in files]
        sys.stderr.write(f"demo server on {server.base_url}, saving into {out}\n")
        if not headless:
            from hydra_tui.tui_launch import launch_tui

            return launch_tui(
                urls, options, settings=settings, preset=None, log_path=log_path,
                persist=False, title="hydra-tui demo",
            )  # fmt: skip
        from hydra_tui.cli import progress_for, run_async
        from hydra_tui.engine.sinks import hash_file
        from hydra_tui.headless import run_disk

        status = run_async(
            run_disk(
                urls,
                options,
                jobs=settings.max_downloads,
                progress=progress_for(settings),
                err=sys.stderr,
            )
        )
        if status == 0:
            for f in files:
                got = hash_file(out / f.name, "sha256")
                ok = got == synthetic_sha256(f.seed, f.size)
                sys.stderr.write(f"{'verified' if ok else 'MISMATCH'}: {f.name} sha256 {got}\n")
                if not ok:
                    status = 1
        return status
    finally:
        server.stop()
