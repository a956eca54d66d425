"""The TUI's engine with no UI: ``ProcessBackend`` driven by a script, for ``tui_ratio.py``.

    python bench/engine_only.py URL OUTPUT_DIR THREADS

Starts the engine's process as the TUI does, adds one download, polls the queue ten
times a second as the app does, and exits 0 once it is done (1 if it failed). Its ratio
to ``--no-ui`` is what the engine's own process costs; the TUI's ratio to it, what the
UI costs on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from hydra_tui.engine.backends.process import ProcessBackend
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadState


async def download(url: str, out: Path, threads: int) -> int:
    options = DownloadOptions(output_dir=out, threads=threads)
    backend = ProcessBackend(options)
    backend.start()
    engine = asyncio.create_task(backend.run())
    control = backend.add(url, options)
    try:
        # polled ten times a second, as the app polls
        while not (snapshot := backend.get(control.id).snapshot()).state.finished:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    finally:
        engine.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine
    return 0 if snapshot.state is DownloadState.DONE else 1


if __name__ == "__main__":  # ProcessBackend spawns: the guard keeps the child from rerunning this
    url, out, threads = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    sys.exit(asyncio.run(download(url, out, threads)))
