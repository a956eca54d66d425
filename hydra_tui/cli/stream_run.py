"""``--stream``: every URL in order to stdout, which carries nothing but the data.

Progress, logs and errors go to stderr. A reader that goes away (``| head -c 100``) ends
the run quietly with status 141, the status a shell reports for a process ended by
SIGPIPE. A failure stops the run: bytes already on stdout cannot be taken back, so the
next file is never spliced onto a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from hydra_tui.cli.headless import url_options
from hydra_tui.cli.progress import reporting
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.download import Download
from hydra_tui.engine.io.checksums import check_digests, new_hashers
from hydra_tui.errors import HydraError, LocalIOError

if TYPE_CHECKING:
    from hydra_tui.cli.progress import Progress
    from hydra_tui.engine.options import DownloadOptions

__all__ = ["EXIT_SIGPIPE", "run_stream"]

EXIT_SIGPIPE = 141


async def run_stream(
    urls: list[str],
    options: DownloadOptions,
    *,
    progress: Progress,
    err: TextIO,
    out_fd: int | None = None,
    state_dir: os.PathLike[str] | None = None,
    save: os.PathLike[str] | None = None,
) -> int:
    """Stream every URL, one after another, to ``out_fd`` (stdout); return the status.

    ``save`` (one URL): also keep the stream as that file, resuming an interrupted run
    by replaying what it saved (``engine/io/kept_stream.py``)."""
    from pathlib import Path

    from hydra_tui.cli.pipe_writer import PipeWriter
    from hydra_tui.engine.http.error_map import local_reason
    from hydra_tui.engine.io.kept_stream import KeptStream
    from hydra_tui.engine.stream import stream_blocks

    fd = sys.stdout.fileno() if out_fd is None else out_fd
    writer = PipeWriter(fd)
    status = 0
    try:
        async with EngineContext(
            options,
            max_connections=max(16, options.threads * 2),
            state_dir=None if state_dir is None else Path(state_dir),
            resume=save is not None,
        ) as ctx:
            for url in urls:
                kept = None
                if save is None:
                    dl = Download(ctx, url, options)
                    source = stream_blocks(dl, verify=False)
                else:
                    keep = {"filename": Path(save).name, "output_dir": Path(save).parent}
                    dl = Download(ctx, url, url_options(options, keep))
                    kept = KeptStream(dl)
                    source = kept.blocks()
                # made once the probe named the file (a checksum file's line is picked
                # by name); the writer thread hashes what it writes, in order
                hashers: dict[str, Any] | None = None
                try:
                    # aclosing: leaving early closes the download now, not at shutdown
                    async with (
                        reporting(progress, [dl]),
                        contextlib.aclosing(source) as blocks,
                    ):
                        async for block in blocks:
                            if hashers is None:
                                hashers = new_hashers(dl.expected_digests)
                            await writer.write(block, list(hashers.values()))
                    await writer.flush()
                    hashed = hashers or new_hashers(dl.expected_digests)
                    found = {alg: h.hexdigest() for alg, h in hashed.items()}
                    where = None if kept is None else kept.part
                    dl.checksum = check_digests(dl.expected_digests, found, kept=where)
                    if kept is not None:
                        kept.publish()
                except BrokenPipeError:
                    _silence_stdout(fd)
                    return EXIT_SIGPIPE
                except OSError as exc:
                    why = local_reason(exc)
                    failure = LocalIOError(f"cannot write to standard output: {why}")
                    dl.fail(failure)
                    progress.report_error(url, failure, err, dl.snapshot())
                    return 1
                except HydraError as exc:
                    # bytes already on stdout cannot be taken back: stop here rather
                    # than splice the next file onto a truncated one
                    dl.fail(exc)
                    progress.report_error(url, exc, err, dl.snapshot())
                    status = exc.exit_code
                finally:
                    if kept is not None:
                        kept.close()
                    progress.finished(dl.snapshot())
                if status:
                    break
    finally:
        writer.close()
        progress.close()
    return status


def _silence_stdout(fd: int) -> None:
    """Point stdout at /dev/null so interpreter shutdown does not complain of EPIPE."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
