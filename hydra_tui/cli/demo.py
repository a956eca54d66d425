"""``hydra-tui demo``: the app at work with no network, against the built-in server.

The loopback server is throttled and misbehaves (429s, resets, one slow connection), so
the chunk grid and the AIMD graphs have something to show. By default it lasts about a
minute, time to try every key (``--fast``: about fifteen seconds).

Files go to a demo folder under the user cache dir unless ``-o`` is given on the command
line (``[defaults] output`` of config.toml is for real downloads, not for the demo). The
folder is kept between runs and the demo files never change (same bytes, same validators),
so quitting the demo and running ``hydra-tui demo`` again resumes its ``.part`` files.
Finished demo files in the demo folder are deleted at the start (they would otherwise
pile up as ``NAME.1.ext`` copies); in a folder given with ``-o``, a finished demo file is
left alone and not downloaded again. Headless, every file is checked against the
server's digest.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

from hydra_tui.config.model import Settings

__all__ = ["DEMO_SLOWDOWN", "demo_folder", "run_demo"]

#: how much slower than ``--fast`` the default demo is (about a minute in all)
DEMO_SLOWDOWN = 4


def demo_folder() -> Path:
    """The demo's own folder under the user cache dir (kept between runs)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("hydra-tui", appauthor=False)) / "demo"


def _tidy(folder: Path, names: list[str]) -> None:
    """In the demo's own folder: delete finished demo files and their numbered copies
    (``NAME.1.ext``), keep the ``.part`` files (they resume)."""
    for name in names:
        stem, dot, ext = name.rpartition(".")
        copy = re.compile(re.escape(stem) + r"(\.\d+)?" + re.escape(dot + ext) + r"\Z")
        for path in folder.iterdir():
            if copy.match(path.name) and path.is_file() and not path.is_symlink():
                path.unlink()


def run_demo(
    settings: Settings,
    *,
    headless: bool,
    log_path: object,
    small: bool = False,
    fast: bool = False,
    output: Path | None = None,
) -> int:
    """Serve the demo files on 127.0.0.1 and download them (TUI, or headless).

    ``output``: the folder given with ``-o`` on the command line, else the demo folder.
    """
    from hydra_tui.devserver import synthetic_sha256
    from hydra_tui.devserver.demo import DEMO_DATE, demo_resources, start_demo_server

    files = demo_resources(slowdown=1 if fast else DEMO_SLOWDOWN)
    if small:
        files = [dataclasses.replace(f, size=max(1, f.size // 64)) for f in files]
    out = output if output is not None else demo_folder()
    out.mkdir(parents=True, exist_ok=True)
    if output is None:
        _tidy(out, [f.name for f in files])
    wanted = []
    for f in files:
        existing = out / f.name
        if output is not None and existing.is_file() and existing.stat().st_size == f.size:
            sys.stderr.write(f"already downloaded: {existing} (delete it to download it again)\n")
            continue
        wanted.append(f)
    resumed = [f.name for f in wanted if (out / f"{f.name}.part").exists()]
    options = settings.download_options(output_dir=out)
    server = start_demo_server()
    try:
        for f in files:  # (re)register at the chosen sizes and speeds
            server.add_synthetic(f.name, f.size, f.seed, f.faults, last_modified=DEMO_DATE)
        urls = [server.url(f.name) for f in wanted]
        sys.stderr.write(f"demo server on {server.base_url}, saving into {out}\n")
        if resumed:
            sys.stderr.write(f"resuming from the last demo run: {', '.join(resumed)}\n")
        if not headless:
            from hydra_tui.cli.tui_launch import launch_tui

            return launch_tui(
                urls, options, settings=settings, preset=None, log_path=log_path,
                persist=False, title="hydra-tui demo",
            )  # fmt: skip
        from hydra_tui.cli.disk_run import run_disk
        from hydra_tui.cli.event_loop import run_async
        from hydra_tui.cli.progress import progress_for
        from hydra_tui.engine.io.sinks import hash_file

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
            for f in wanted:
                got = hash_file(out / f.name, "sha256")
                ok = got == synthetic_sha256(f.seed, f.size)
                sys.stderr.write(f"{'verified' if ok else 'MISMATCH'}: {f.name} sha256 {got}\n")
                if not ok:
                    status = 1
        return status
    finally:
        server.stop()
