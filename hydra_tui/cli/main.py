"""``hydra-tui``: parse the command line, then run the TUI, a headless download, a stream,
the demo or a config command.

Every ``HydraError`` becomes one line on stderr and its exit code; SIGINT/SIGTERM stop
cleanly (resume state saved) with 130/143. Heavy modules are imported only by the mode
that needs them: ``--version`` loads nothing, ``--stream`` never loads Textual.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hydra_tui.cli.event_loop import run_async
from hydra_tui.errors import HydraError, Interrupted, UsageError

if TYPE_CHECKING:
    from hydra_tui.cli.args import ParsedArgs
    from hydra_tui.config.model import Settings
    from hydra_tui.engine.options import DownloadOptions

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """The console entry point; returns the exit status."""
    raw = sys.argv[1:] if argv is None else argv
    _errors_as_json[0] = _asks_jsonl(raw)
    try:
        return _main(argv)
    except HydraError as exc:
        _error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        _error(Interrupted(signal.SIGINT))
        return 130


#: ``--progress=jsonl``: every line on stderr is a JSON object, errors too
_errors_as_json = [False]


def _asks_jsonl(args: list[str]) -> bool:
    """Does the command line ask for jsonl (known before parsing, for usage errors)?"""
    pairs = zip(args, [*args[1:], ""][: len(args)], strict=True)  # none: plain `hydra-tui`
    return any(a == "--progress=jsonl" or (a == "--progress" and b == "jsonl") for a, b in pairs)


def _error(exc: BaseException) -> None:
    from hydra_tui.engine.http.urls import redact_text

    message = redact_text(str(exc))
    if _errors_as_json[0]:
        from hydra_tui.cli.progress import json_line

        code = exc.exit_code if isinstance(exc, HydraError) else 1
        sys.stderr.write(json_line("error", message=message, exit_code=code))
    else:
        sys.stderr.write(f"hydra-tui: {message}\n")
    sys.stderr.flush()


def _main(argv: list[str] | None) -> int:
    if (sys.argv[1:] if argv is None else argv) in (["--version"], ["-v"]):
        # what argparse's version action prints, without building the parser; a lone
        # -v is hydrastream's --version (with anything else, -v is --verbose)
        from hydra_tui._version import __version__

        sys.stdout.write(f"hydra-tui {__version__}\n")
        return 0
    from hydra_tui.service import SERVICE_COMMANDS

    raw = sys.argv[1:] if argv is None else argv
    if raw and raw[0] in SERVICE_COMMANDS:
        from hydra_tui.cli.service_commands import run as run_service_command

        return run_service_command(raw)
    from hydra_tui.cli.args import parse

    args = parse(argv)
    if args.command == "config":
        from hydra_tui.cli import config_commands as commands

        return commands.run(args, sys.stdout)
    from hydra_tui.cli.logsetup import setup_logging
    from hydra_tui.config.presets import resolve

    settings, _sources = resolve(args.cli, preset=args.preset, config_file=args.config_file)
    jsonl = settings.progress == "jsonl"
    _errors_as_json[0] = jsonl
    log_path = setup_logging(quiet=settings.quiet, verbose=args.verbose, jsonl=jsonl)
    import logging

    log = logging.getLogger("hydra_tui")
    if settings.insecure:
        log.warning(
            "--insecure: TLS certificates are NOT verified; anyone on the path can alter data"
        )
    if args.continue_:
        log.warning("-c/--continue is not needed: an interrupted download always resumes")
    if args.command == "demo":
        from hydra_tui.cli.demo import run_demo

        headless = settings.no_ui or not _interactive()
        output = settings.output if "output" in args.cli else None  # -o on this command line
        return run_demo(
            settings, headless=headless, log_path=log_path, small=args.demo_small,
            fast=args.demo_fast, output=output,
        )  # fmt: skip
    options = _checked_against(args, settings.download_options(**_digests(args), **args.engine))
    from hydra_tui.cli.progress import progress_for

    if args.metalinks:
        args = _with_metalinks(args, options)
    if args.dry_run:
        from hydra_tui.cli.dry_run import run_dry

        return run_async(run_dry(args.urls, options, per_url=args.per_url, out=sys.stdout))
    if args.stream:
        from hydra_tui.cli.stream_run import run_stream

        return run_async(
            run_stream(
                args.urls,
                options,
                progress=progress_for(settings),
                err=sys.stderr,
                save=args.save,
            ),
            resumable=args.save is not None,
        )
    _check_output_folder(settings.output)
    headless = settings.no_ui or not _interactive() or bool(args.per_url)
    if args.command == "download" and headless:
        from hydra_tui.cli.disk_run import run_disk

        return run_async(
            run_disk(
                args.urls,
                options,
                jobs=settings.max_downloads,
                progress=progress_for(settings),
                err=sys.stderr,
                per_url=args.per_url,
            )
        )
    return _run_tui(args, settings, log_path)


def _digests(args: ParsedArgs) -> dict[str, str | None]:
    return {"md5": args.md5, "sha256": args.sha256}


def _checked_against(args: ParsedArgs, options: DownloadOptions) -> DownloadOptions:
    """``options`` with ``--checksum-file``'s list, read (or fetched) once, up front."""
    if args.checksum_file is None:
        return options
    import dataclasses

    from hydra_tui.cli.checksum_source import load_checksum_list

    found = run_async(load_checksum_list(args.checksum_file, options))
    return dataclasses.replace(options, checksum_list=found)


def _with_metalinks(args: ParsedArgs, options: DownloadOptions) -> ParsedArgs:
    """``args`` with each ``.meta4`` replaced by its files (``metalink_source``)."""
    import dataclasses

    from hydra_tui.cli.metalink_source import load_metalink, metalink_downloads
    from hydra_tui.engine.http.urls import redact_url

    urls, per_url = list(args.urls), dict(args.per_url)
    for where in args.metalinks:
        for url, extra in metalink_downloads(run_async(load_metalink(where, options))):
            if url in per_url or url in urls:
                raise UsageError(f"{redact_url(url)} is listed twice")
            urls.append(url)
            per_url[url] = extra
    return dataclasses.replace(args, urls=urls, per_url=per_url, metalinks=[])


def _check_output_folder(folder: Path) -> None:
    """``-o out.bin`` naming an existing file is a mistake, not a folder to create."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"output folder {folder} is an existing file (-o/-d name a folder; "
            "-O FILE names the downloaded file)"
        )


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _run_tui(args: ParsedArgs, settings: Settings, log_path: object) -> int:
    from hydra_tui.cli.tui_launch import launch_tui

    options = _checked_against(args, settings.download_options(**_digests(args), **args.engine))
    return launch_tui(
        args.urls, options, settings=settings, preset=args.preset, log_path=log_path,
        exit_when_done=args.exit_when_done,
        jobs=settings.max_downloads if "max_downloads" in args.cli else None,
    )  # fmt: skip
