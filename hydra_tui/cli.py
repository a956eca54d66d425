"""``hydra-tui``: parse the command line, then run the TUI, a headless download, a stream,
the demo or a config command.

Every ``HydraError`` becomes one line on stderr and its exit code; SIGINT/SIGTERM stop
cleanly (resume state saved) with 130/143. Heavy modules are imported only by the mode
that needs them: ``--version`` loads nothing, ``--stream`` never loads Textual.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TextIO

from hydra_tui.errors import HydraError, Interrupted

if TYPE_CHECKING:
    from hydra_tui.cli_args import ParsedArgs
    from hydra_tui.config.model import Settings
    from hydra_tui.progress import Progress

__all__ = ["main", "progress_for", "run_async", "use_uvloop"]


def main(argv: list[str] | None = None) -> int:
    """The console entry point; returns the exit status."""
    try:
        return _main(argv)
    except HydraError as exc:
        _error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        _error(Interrupted(signal.SIGINT))
        return 130


def _error(exc: BaseException) -> None:
    sys.stderr.write(f"hydra-tui: {exc}\n")
    sys.stderr.flush()


def _main(argv: list[str] | None) -> int:
    if (sys.argv[1:] if argv is None else argv) == ["--version"]:
        # what argparse's version action prints, without building the parser
        from hydra_tui import __version__

        sys.stdout.write(f"hydra-tui {__version__}\n")
        return 0
    from hydra_tui.cli_args import parse

    args = parse(argv)
    if args.command == "config":
        from hydra_tui.config import commands

        return commands.run(args, sys.stdout)
    from hydra_tui.config.presets import resolve
    from hydra_tui.logsetup import setup_logging

    settings, _sources = resolve(args.cli, preset=args.preset, config_file=args.config_file)
    log_path = setup_logging(quiet=settings.quiet)
    if settings.insecure:
        import logging

        logging.getLogger("hydra_tui").warning(
            "--insecure: TLS certificates are NOT verified; anyone on the path can alter data"
        )
    if args.command == "demo":
        from hydra_tui.demo import run_demo

        headless = settings.no_ui or not _interactive()
        output = settings.output if "output" in args.cli else None  # -o on this command line
        return run_demo(
            settings, headless=headless, log_path=log_path, small=args.demo_small,
            fast=args.demo_fast, output=output,
        )  # fmt: skip
    if args.stream:
        from hydra_tui.headless import run_stream

        options = settings.download_options(md5=args.md5, sha256=args.sha256)
        return run_async(
            run_stream(args.urls, options, progress=progress_for(settings), err=sys.stderr),
            resumable=False,
        )
    if args.command == "download" and (settings.no_ui or not _interactive()):
        from hydra_tui.headless import run_disk

        options = settings.download_options(md5=args.md5, sha256=args.sha256)
        return run_async(
            run_disk(
                args.urls,
                options,
                jobs=settings.max_downloads,
                progress=progress_for(settings),
                err=sys.stderr,
            )
        )
    return _run_tui(args, settings, log_path)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def progress_for(settings: Settings, err: TextIO = sys.stderr) -> Progress:
    from hydra_tui.progress import JsonlProgress, PlainProgress, Progress

    mode = settings.progress
    if mode == "jsonl":
        return JsonlProgress(err)
    if settings.quiet or mode == "none":
        return Progress()
    tty = err.isatty() and mode == "auto"
    return PlainProgress(err, tty=tty)


def _run_tui(args: ParsedArgs, settings: Settings, log_path: object) -> int:
    from hydra_tui.tui_launch import launch_tui

    options = settings.download_options(md5=args.md5, sha256=args.sha256)
    return launch_tui(
        args.urls, options, settings=settings, preset=args.preset, log_path=log_path,
        exit_when_done=args.exit_when_done,
    )  # fmt: skip


def use_uvloop() -> None:
    """uvloop as the event loop, chosen once at start-up (stdlib asyncio without it)."""
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run_async(coro: Coroutine[Any, Any, int], *, resumable: bool = True) -> int:
    """Run ``coro`` on uvloop; SIGINT/SIGTERM cancel it and become ``Interrupted``."""
    import asyncio

    use_uvloop()
    received: list[int] = []

    async def runner() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def stop(signum: int) -> None:
            if not received:
                received.append(signum)
                task.cancel()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop, signum)
        try:
            return await coro
        except asyncio.CancelledError:
            if received:
                raise Interrupted(received[0], resumable=resumable) from None
            raise

    return asyncio.run(runner())
