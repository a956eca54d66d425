"""The shell commands over the service: ``add``, ``ls``, ``pause``, ``resume``, ``rm``,
``wait``, ``stop`` and ``daemon`` itself.

``add`` takes the download options of a plain ``hydra-tui URL`` (same parser, same
presets and config), makes every path absolute (the service's folder is not the
shell's), starts a service if none runs, and prints one id per URL. Ids can be
shortened to any unique prefix, as git's hashes can.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.errors import ServiceUnavailable, UsageError
from hydra_tui.service.client import ServiceClient

__all__ = ["WAIT_POLL", "absolute_options", "exit_status", "resolve_ids", "run"]

#: how often ``wait`` asks the service how its downloads are doing
WAIT_POLL = 0.2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


def run(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    command, rest = argv[0], argv[1:]
    if command == "daemon":
        from hydra_tui.cli.daemon import run_daemon

        return run_daemon(rest)
    if command == "add":
        return _add(rest, out)
    parser = _Parser(prog=f"hydra-tui {command}", allow_abbrev=False)
    if command == "stop":
        parser.description = "Pause every download, save the queue and stop the service."
        parser.parse_args(rest)
        return _stop(err)
    if command == "ls":
        parser.add_argument("--json", action="store_true", help="one JSON array, for scripts")
        ns = parser.parse_args(rest)
        with ServiceClient.connect() as client:
            snaps = client.snapshots()
        _print_list(snaps, out, as_json=ns.json)
        return 0
    parser.add_argument("ids", nargs="+", metavar="ID", help="download ids (or prefixes), or all")
    ns = parser.parse_args(rest)
    with ServiceClient.connect() as client:
        ids = resolve_ids(ns.ids, client.snapshots())
        if command == "wait":
            return _wait(client, ids, err)
        by_id = {s.id: s for s in client.snapshots()}
        messages: list[tuple[object, ...]] = []
        for id in ids:
            if command == "pause":
                messages.append(("call", id, "pause", ()))
            elif command == "resume":
                finished = by_id[id].state in (DownloadState.FAILED, DownloadState.CANCELLED)
                messages.append(("call", id, "retry" if finished else "resume", ()))
            else:
                messages.append(("remove", id))
        client.request(messages)
    return 0


def _stop(err: TextIO) -> int:
    """Pause everything, stop the service and wait until it has exited."""
    try:
        client = ServiceClient.connect()
    except ServiceUnavailable:
        err.write("hydra-tui: no service is running\n")
        return 0
    with client:
        ids = [s.id for s in client.snapshots()]
        client.request([*(("call", id, "pause", ()) for id in ids), ("stop",)])
        client.wait_closed()
    return 0


def _add(argv: list[str], out: TextIO) -> int:
    from hydra_tui.cli.args import parse
    from hydra_tui.config.presets import resolve

    args = parse(argv)
    if not args.urls:
        raise UsageError("add: give at least one URL (see: hydra-tui add --help)")
    if args.stream or args.dry_run:
        raise UsageError("add: --stream and --dry-run do not go through the service")
    settings, _sources = resolve(args.cli, preset=args.preset, config_file=args.config_file)
    options = absolute_options(
        settings.download_options(md5=args.md5, sha256=args.sha256, **args.engine)
    )
    messages = [
        (
            "add",
            url,
            absolute_options(dataclasses.replace(options, **args.per_url.get(url, {}))),
            None,
            False,
        )
        for url in args.urls
    ]
    with ServiceClient.connect_or_start() as client:
        _snaps, replies = client.request(messages)
    for id in replies:
        out.write(f"{id}\n")
    out.flush()
    return 0


def absolute_options(options: DownloadOptions) -> DownloadOptions:
    ca = options.ca_file
    return dataclasses.replace(
        options,
        output_dir=options.output_dir.expanduser().absolute(),
        ca_file=None if ca is None else Path(ca).expanduser().absolute(),
    )


def resolve_ids(wanted: list[str], snaps: list[DownloadSnapshot]) -> list[str]:
    """Full ids for ``wanted`` (ids, unique prefixes, or ``all``); ``UsageError`` else."""
    ids = [s.id for s in snaps]
    if wanted == ["all"]:
        return ids
    out = []
    for text in wanted:
        matches = [i for i in ids if i == text] or [i for i in ids if i.startswith(text)]
        if len(matches) != 1:
            what = "no download has" if not matches else "more than one download has"
            raise UsageError(f"{what} the id {text!r} (see: hydra-tui ls)")
        out.append(matches[0])
    return out


def exit_status(snaps: list[DownloadSnapshot]) -> int:
    """As the headless download's: 0 all done, 3 a checksum mismatch, else 1."""
    codes = [0 if s.state is DownloadState.DONE else (s.exit_code or 1) for s in snaps]
    if not any(codes):
        return 0
    return 3 if 3 in codes else max(c for c in codes if c)


def _wait(client: ServiceClient, ids: list[str], err: TextIO) -> int:
    while True:
        by_id = {s.id: s for s in client.snapshots()}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise ServiceUnavailable(f"download {missing[0]} was removed while waiting")
        snaps = [by_id[i] for i in ids]
        if all(s.state.finished for s in snaps):
            break
        time.sleep(WAIT_POLL)
    for s in snaps:
        if s.state is not DownloadState.DONE:
            err.write(
                f"hydra-tui: {s.id}: {s.state.value}" + (f": {s.error}" if s.error else "") + "\n"
            )
    return exit_status(snaps)


def _print_list(snaps: list[DownloadSnapshot], out: TextIO, *, as_json: bool) -> None:
    if as_json:
        rows = [
            {"id": s.id, "url": s.url, "state": s.state.value, "name": s.name, "path": s.path,
             "size": s.size, "done": s.done, "speed": round(s.speed), "error": s.error,
             "exit_code": s.exit_code, "resumed_bytes": s.resumed_bytes}
            for s in snaps
        ]  # fmt: skip
        out.write(json.dumps(rows) + "\n")
        return
    from hydra_tui.units import format_size

    for s in snaps:
        size = format_size(s.size) if s.size is not None else "?"
        pct = f"{s.fraction * 100:5.1f}%" if s.fraction is not None else "    ?"
        out.write(f"{s.id}  {s.state.value:<11} {pct}  {size:>10}  {s.name or s.url}\n")
