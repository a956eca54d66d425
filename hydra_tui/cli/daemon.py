"""``hydra-tui daemon [options]``: run the service in the foreground (for systemd, launchd
or a terminal); ``hydra-tui add`` starts the same thing in the background."""

from __future__ import annotations

import argparse
import functools
import logging

from hydra_tui.errors import UsageError

__all__ = ["build_daemon_parser", "run_daemon"]

log = logging.getLogger("hydra_tui.service")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_daemon_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hydra-tui daemon",
        description="Run the download service in the foreground (one per user).",
        allow_abbrev=False,
    )
    add = parser.add_argument
    add("-j", "--max-downloads", type=int, default=None, metavar="N",
        help="downloads at once (default: from config.toml, else 4)")  # fmt: skip
    add("-v", "--verbose", action="store_true", help="log more")
    rpc = parser.add_argument_group("aria2-compatible JSON-RPC (off by default)")
    rpc.add_argument("--enable-rpc", action="store_true",
                     help="serve aria2's JSON-RPC on http://HOST:PORT/jsonrpc")  # fmt: skip
    rpc.add_argument("--rpc-listen-port", type=int, default=6800, metavar="PORT",
                     help="TCP port (default 6800; 0 picks a free one)")  # fmt: skip
    rpc.add_argument("--rpc-secret", default=None, metavar="TOKEN",
                     help="clients send token:TOKEN (required unless --rpc-no-secret)")  # fmt: skip
    rpc.add_argument("--rpc-no-secret", action="store_true",
                     help="allow RPC without a secret: anyone who reaches the port can "
                     "download to your disk")  # fmt: skip
    rpc.add_argument("--rpc-listen-all", action="store_true",
                     help="listen on every interface, not only 127.0.0.1")  # fmt: skip
    return parser


def run_daemon(argv: list[str]) -> int:
    from hydra_tui.cli.event_loop import run_async
    from hydra_tui.cli.logsetup import setup_logging
    from hydra_tui.config.presets import resolve

    ns = build_daemon_parser().parse_args(argv)
    if ns.enable_rpc:
        if ns.rpc_secret is None and not ns.rpc_no_secret:
            raise UsageError("--enable-rpc needs --rpc-secret TOKEN (or --rpc-no-secret)")
        if ns.rpc_secret is not None and not ns.rpc_secret:
            raise UsageError("--rpc-secret: the secret must not be empty")
        if not 0 <= ns.rpc_listen_port <= 65535:
            raise UsageError(f"--rpc-listen-port: {ns.rpc_listen_port} is not a TCP port")
    setup_logging(quiet=False, verbose=ns.verbose, jsonl=False)
    settings, _ = resolve({}, preset=None, config_file=None)
    from hydra_tui.service.daemon import Extra, Service

    extra: Extra | None = None
    if ns.enable_rpc:
        from hydra_tui.service.rpc_http import serve_rpc

        if ns.rpc_no_secret:
            log.warning("--rpc-no-secret: the RPC answers anyone who reaches its port")
        host = "0.0.0.0" if ns.rpc_listen_all else "127.0.0.1"
        if ns.rpc_listen_all:
            log.warning("--rpc-listen-all: the RPC listens on every network interface")
        extra = functools.partial(
            serve_rpc, host=host, port=ns.rpc_listen_port, secret=ns.rpc_secret
        )
    service = Service(
        settings.download_options(),
        max_active=ns.max_downloads or settings.max_downloads,
        extra=extra,
    )

    async def main() -> int:
        await service.serve()
        return 0

    return run_async(main())
