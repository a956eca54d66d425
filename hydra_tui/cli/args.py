"""The command line: argparse parsers for downloads, ``demo`` and ``config``.

``parse`` returns a ``ParsedArgs``; its ``cli`` holds only the options the user typed
(every setting uses ``default=argparse.SUPPRESS``), so an option left out never hides a
preset's or config file's value. Usage errors raise ``UsageError`` (one line, exit 2)
instead of argparse's print-and-exit; only ``--help`` and ``--version`` exit directly.

A positional URL list and subcommands do not mix in argparse, so ``demo`` and ``config``
are recognized as the first word and parsed by their own parsers. This module imports
only the standard library and small hydra_tui modules: ``--version`` must stay instant.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO
from urllib.parse import urlsplit

from hydra_tui._version import __version__
from hydra_tui.cli.habits import (
    InputEntry,
    add_habit_options,
    check_habits,
    parse_input_lines,
    request_headers,
)
from hydra_tui.config import fields, option_table
from hydra_tui.engine.http.urls import host_problem, redact_url
from hydra_tui.errors import UsageError

__all__ = [
    "SUBCOMMANDS",
    "Command",
    "ConfigAction",
    "ParsedArgs",
    "build_config_parser",
    "build_demo_parser",
    "build_parser",
    "parse",
    "read_input_file",
    "validate_url",
]

Command = Literal["download", "tui", "demo", "config"]
ConfigAction = Literal["path", "init", "show", "save-preset"]
SUBCOMMANDS = ("demo", "config")
PROG = "hydra-tui"

USAGE = f"""\
{PROG} [options] [URL ...]
       {PROG} demo [options]
       {PROG} config {{path,init,show,save-preset}} [options]"""

EPILOG = f"""\
examples:
  {PROG}                                       attach the TUI to the service (started if
                                                  none runs): q detaches, Q stops it
  {PROG} https://example.org/big.iso           add this to the service's queue and attach
  {PROG} add URL · ls · pause|resume|rm ID|all  the queue from any shell
  {PROG} wait ID                               block until done; exit status as --no-ui
  {PROG} stop                                  pause everything, save the queue, stop
  {PROG} --no-ui -t 16 -o ~/isos URL           headless, 16 connections, into ~/isos
  {PROG} -s URL | tar -xz                      stream in order into tar, nothing on disk
  {PROG} --no-ui -i urls.txt -j 2              a list of URLs (one per line), two at a time
  grep .iso list.txt | {PROG} --no-ui -i -     URLs from stdin
  {PROG} --md5 HEX URL                         fail unless the file matches the digest
  {PROG} config save-preset genomics -t 32 -o ~/data --limit-rate 50M
  {PROG} --preset genomics URL                 use a saved preset (CLI options still win)
  {PROG} config show --preset genomics         what applies, and where it came from
  {PROG} demo                                  try it against a built-in local test server

precedence: command line > --preset NAME > [defaults] in config.toml > built-in.
sizes: 64MiB, 1G, 500K (1024-based) or 1MB (1000-based); rates: 5M or 5M/s.
"""

_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True, slots=True)
class ParsedArgs:
    """What the user asked for; settings still need ``presets.resolve(cli, …)``."""

    #: download (URLs, -i, --no-ui or --stream), tui (none of those), demo or config
    command: Command
    #: URLs from the command line then from ``-i``, validated as http(s)
    urls: list[str] = field(default_factory=list)
    #: only the settings options the user gave, keyed by ``Settings`` field name
    cli: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    config_file: Path | None = None
    #: ``-s``: write the (single) download in order to stdout
    stream: bool = False
    #: expected digests, lower-case hex
    md5: str | None = None
    sha256: str | None = None
    #: ``--checksum-file``: a path or http(s) URL of a sha256sum/md5sum-style list
    checksum_file: str | None = None
    #: ``-s URL --save FILE``: also keep the stream as FILE (resumable)
    save: Path | None = None
    #: ``-i`` argument as given (``-`` is stdin); its URLs are already in ``urls``
    input_file: str | None = None
    #: ``config`` subcommand action, and the NAME of ``config save-preset NAME``
    config_action: ConfigAction | None = None
    #: ``demo --small``: files 64 times smaller
    demo_small: bool = False
    #: ``demo --fast``: today's throttles (about fifteen seconds, not a minute)
    demo_fast: bool = False
    #: ``--exit-when-done``: the TUI quits once every download has finished
    exit_when_done: bool = False
    preset_name: str | None = None
    #: per-URL ``DownloadOptions`` overrides (``-O FILE``, ``out=``/``dir=``/``checksum=``
    #: lines of an ``-i`` list)
    per_url: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``DownloadOptions`` fields set by command-only options (``--proxy``, cookies, …)
    engine: dict[str, Any] = field(default_factory=dict)
    #: ``--dry-run``: probe and describe, download nothing
    dry_run: bool = False
    #: ``-c``/``--continue`` was given (resuming is automatic; said once)
    continue_: bool = False
    #: ``-v``/``--verbose``
    verbose: bool = False
    #: ``.meta4`` paths or URLs among the arguments (expanded by ``metalink_source``)
    metalinks: list[str] = field(default_factory=list)
    #: ``config save-preset --replace``: start the preset afresh instead of merging
    replace_preset: bool = False


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are exceptions, so the CLI prints one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _new_parser(prog: str, **kwargs: Any) -> _Parser:
    return _Parser(prog=prog, formatter_class=_Formatter, allow_abbrev=False, **kwargs)


def _checked(checker: Callable[[object], object]) -> Callable[[str], object]:
    """Turn a field checker into an argparse ``type`` (argparse names the option)."""

    def convert(text: str) -> object:
        try:
            return checker(text)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _hex_digest(length: int) -> Callable[[str], str]:
    def convert(text: str) -> str:
        value = text.strip()
        if len(value) != length or not _HEX_RE.match(value):
            raise argparse.ArgumentTypeError(f"expected {length} hex digits, got {value!r}")
        return value.lower()

    return convert


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    """Options that map to ``Settings`` fields (also used by ``config save-preset``), one
    per entry of ``option_table``, in the order --help lists them."""
    group = parser.add_argument_group("download settings (can also live in config.toml)")
    for option in option_table.cli_order():
        _add_setting(group, option)


def _add_setting(group: argparse._ArgumentGroup, option: option_table.Option) -> None:
    # default=SUPPRESS: an option left out is absent from the namespace (see ``parse``)
    common: dict[str, Any] = {"dest": option.name, "default": argparse.SUPPRESS}
    if option.kind == "value":
        common.update(type=_checked(option.check), metavar=option.metavar)
    elif option.kind == "list":
        check = option.item_check or option.check
        common.update(action="append", type=_checked(check), metavar=option.metavar)
    elif option.kind == "switch":
        common.update(action=argparse.BooleanOptionalAction)
    elif option.kind == "choice":
        common.update(choices=option.choices)
    else:  # "flag": --no-ui sets True, its negation --ui sets False
        common.update(action="store_const", const=True)
    group.add_argument(*option.flags, help=option.help, **common)
    if option.negation is not None:
        flag, help_text = option.negation
        common.update(const=False)
        group.add_argument(flag, help=help_text, **common)


def _add_config_options(parser: argparse.ArgumentParser, *, preset: bool = True) -> None:
    group = parser.add_argument_group("configuration")
    if preset:
        group.add_argument(
            "--preset", metavar="NAME", help="apply a preset from config.toml or presets.toml"
        )
    group.add_argument(
        "--config", dest="config_file", type=Path, metavar="FILE",
        help="read this config file instead of the default config.toml",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The main parser: ``hydra-tui [options] [URL ...]``."""
    parser = _new_parser(
        PROG,
        usage=USAGE,
        description="A terminal download manager: many connections per file, in-order\n"
        "streaming, and a live view of every connection.",
        epilog=EPILOG,
    )
    parser.add_argument("urls", nargs="*", metavar="URL", help="http(s) URLs to download")
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {__version__}", help="print the version"
    )
    what = parser.add_argument_group("what to download")
    what.add_argument("-i", "--input-file", metavar="FILE",
        help="read URLs from FILE, one per line (# comments); - reads stdin")  # fmt: skip
    what.add_argument("-s", "--stream", action="store_true",
        help="write the downloads in order to stdout, one after another like cat")  # fmt: skip
    what.add_argument("--md5", type=_hex_digest(32), metavar="HEX",
        help="expected MD5 of the file (one URL); exit 3 on mismatch")  # fmt: skip
    what.add_argument("--sha256", type=_hex_digest(64), metavar="HEX",
        help="expected SHA-256 of the file (one URL); exit 3 on mismatch")  # fmt: skip
    what.add_argument("--save", metavar="FILE",
        help="with -s: also save the stream as FILE; rerun after a crash to resume")  # fmt: skip
    what.add_argument("--url-cmd", metavar="CMD",
        help="when the URL expires mid-download (401/403/410), run CMD: it prints a "
        "fresh URL for the same file (one URL)")  # fmt: skip
    what.add_argument("--checksum-file", metavar="FILE|URL",
        help="verify each file against its line in a SHA256SUMS/MD5SUMS-style list")  # fmt: skip
    what.add_argument("--mirror", action="append", default=[], metavar="URL",
        help="another URL of the same file, fetched at once (repeatable; one URL)")  # fmt: skip
    what.add_argument("--exit-when-done", action="store_true",
        help="TUI: quit when every download has finished (exit 1 if one failed)")  # fmt: skip
    _add_settings_options(parser)
    add_habit_options(parser)
    _add_config_options(parser)
    return parser


def build_demo_parser() -> argparse.ArgumentParser:
    """``hydra-tui demo``: downloads from a local test server, with the usual settings."""
    parser = _new_parser(
        f"{PROG} demo",
        description="Start a local test server (throttled, sometimes misbehaving) and "
        "download from it, to see hydra-tui work without the network.",
    )
    parser.add_argument("--small", action="store_true", dest="demo_small",
        help="files 64 times smaller, for a quick look")  # fmt: skip
    parser.add_argument("--fast", action="store_true", dest="demo_fast",
        help="four times faster: about fifteen seconds instead of a minute")  # fmt: skip
    _add_settings_options(parser)
    for action in parser._actions:  # the demo's own folder, not the current one
        if "--output" in action.option_strings:
            action.help = (
                "folder to write into (default: a demo folder in the user cache dir, "
                "kept between runs: quit and run the demo again to resume)"
            )
    _add_config_options(parser)
    return parser


def build_config_parser() -> argparse.ArgumentParser:
    """``hydra-tui config ACTION``."""
    parser = _new_parser(
        f"{PROG} config",
        description="Inspect and edit hydra-tui's configuration.",
    )
    actions = parser.add_subparsers(
        dest="config_action", metavar="{path,init,show,save-preset}", parser_class=_Parser
    )
    actions.required = True

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        return actions.add_parser(
            name, help=help_text, description=help_text, formatter_class=_Formatter,
            allow_abbrev=False,
        )  # fmt: skip

    _add_config_options(action("path", "print the path of config.toml"), preset=False)
    _add_config_options(
        action("init", "write a commented starter config.toml (never overwrites)"), preset=False
    )
    show = action("show", "print the effective settings and where each one came from")
    _add_settings_options(show)
    _add_config_options(show)
    save = action("save-preset", "save the given options as a preset in presets.toml")
    save.add_argument("preset_name", metavar="NAME", help="preset name (letters, digits, - _)")
    save.add_argument("--replace", action="store_true", dest="replace_preset",
        help="start the preset afresh instead of merging into it")  # fmt: skip
    _add_settings_options(save)
    _add_config_options(save, preset=False)
    return parser


def validate_url(text: str) -> str:
    """Accept http(s) URLs with a host; anything else is a one-line UsageError."""
    url = text.strip()
    shown = redact_url(url)
    if url in SUBCOMMANDS:
        raise UsageError(f"{shown!r} is not a URL; subcommands come first: {PROG} {url} ...")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise UsageError(f"invalid URL {shown!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        hint = ""
        if not parts.scheme and "." in url.split("/", 1)[0]:
            hint = f" (did you mean https://{url}?)"
        raise UsageError(f"not an http(s) URL: {shown!r}{hint}")
    if not parts.hostname:
        raise UsageError(f"URL has no host: {shown!r}")
    problem = host_problem(parts.hostname)
    if problem is not None:
        raise UsageError(f"invalid URL {shown!r}: {problem}")
    if any(c.isspace() for c in url):
        raise UsageError(f"URL contains whitespace: {shown!r}")
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise UsageError(f"URL contains control characters: {shown!r}")
    if not plain_enough_for_httpx(url, parts.hostname):
        import httpx  # a costly import (bench/PROFILE.md): only where its judgement counts

        try:
            httpx.URL(url)
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise UsageError(f"invalid URL {shown!r}: {exc}") from None
    return url


_IPV4_LIKE = re.compile(r"[0-9]+(\.[0-9]+){3}")  # as httpx tells an IPv4 host


def plain_enough_for_httpx(url: str, host: str) -> bool:
    """Would httpx surely parse ``url`` (already through ``validate_url``'s checks)?

    httpx rejects an ASCII URL of that kind only for a bad IPv4 or IPv6 address, a bad
    ``xn--`` label or a URL over 64 KiB, and importing it would be most of what
    ``hydra-tui add`` costs; tests/config/test_cli_args.py holds httpx to this.
    """
    return (
        url.isascii()
        and len(url) < 65536
        and "xn--" not in host
        and "[" not in url
        and (not _IPV4_LIKE.fullmatch(host) or _is_ipv4(host))
    )


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def read_input_file(path_or_dash: str, stdin: TextIO) -> list[str]:
    """URLs from a file (``-`` = stdin): one per line, blank lines and ``#`` comments skipped."""
    return [entry.url for entry in read_input_entries(path_or_dash, stdin)]


def read_input_entries(path_or_dash: str, stdin: TextIO) -> list[InputEntry]:
    """The URLs of an ``-i`` list with their aria2c-style option lines (``  out=NAME``)."""
    name = "<stdin>" if path_or_dash == "-" else path_or_dash
    try:
        if path_or_dash == "-":
            lines = stdin.read().splitlines()
        else:
            lines = Path(path_or_dash).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read input file {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"input file {name} is not UTF-8 text (byte {exc.start})") from None
    entries: list[InputEntry] = []
    for number, text, entry in parse_input_lines(lines, name):
        try:
            url = validate_url(text)
        except UsageError as exc:
            raise UsageError(f"{name}, line {number}: {exc}") from None
        entry.url = url
        entries.append(entry)
    return entries


def _settings_from(ns: argparse.Namespace) -> dict[str, Any]:
    """Only the settings the user typed: SUPPRESS left the others off the namespace."""
    values = vars(ns)
    cli = {name: values[name] for name in option_table.FIELD_NAMES if name in values}
    for option in option_table.OPTIONS:
        if option.kind == "list" and option.name in cli:
            cli[option.name] = tuple(cli[option.name])
    return cli


def _parse_config(args: list[str]) -> ParsedArgs:
    ns = build_config_parser().parse_args(args)
    return ParsedArgs(
        command="config",
        cli=_settings_from(ns),
        preset=getattr(ns, "preset", None),
        config_file=ns.config_file,
        config_action=ns.config_action,
        preset_name=getattr(ns, "preset_name", None),
        replace_preset=getattr(ns, "replace_preset", False),
    )


def _parse_main(args: list[str], stdin: TextIO) -> ParsedArgs:
    ns = build_parser().parse_intermixed_args(check_habits(args))
    # a Metalink 4 file (a path or a URL): expanded into its files by metalink_source
    metalinks = [u for u in ns.urls if _names_metalink(u)]
    urls = [validate_url(url) for url in ns.urls if url not in metalinks]
    per_url: dict[str, dict[str, Any]] = {}
    if ns.input_file is not None:
        entries = read_input_entries(ns.input_file, stdin)
        if not entries and not urls:
            raise UsageError(f"no URLs in {'<stdin>' if ns.input_file == '-' else ns.input_file}")
        for entry in entries:
            urls.append(entry.url)
            if entry.options:
                per_url[entry.url] = entry.options
    urls = list(dict.fromkeys(urls))  # the same URL twice would race for one file
    cli = _settings_from(ns)
    stream = ns.stream
    if ns.dir is not None:
        if "output" in cli:
            raise UsageError("-d/--dir and -o/--output both name the folder: give one")
        cli["output"] = fields.output(ns.dir)
    if ns.output_document is not None:
        stream = _output_document(ns.output_document, urls, cli, per_url) or stream
    extra = request_headers(ns, urls, stdin)
    if extra:
        given = cli.get("headers", ())
        cli["headers"] = tuple(fields.parse_header(h) for h in extra) + tuple(given)
    engine: dict[str, Any] = {}
    if ns.proxy is not None:
        engine["proxy"] = _proxy_url(ns.proxy)
    if ns.limit_rate_total is not None:
        try:
            engine["limit_rate_total"] = fields.limit_rate(ns.limit_rate_total)
        except UsageError as exc:
            raise UsageError(f"--limit-rate-total: {exc}") from None
    if ns.verbose:
        engine["log_requests"] = True
    if ns.url_cmd is not None:
        if len(urls) != 1:
            raise UsageError(f"--url-cmd renews one URL: it needs exactly one, got {len(urls)}")
        engine["url_cmd"] = ns.url_cmd
    if ns.mirror:
        if len(urls) != 1 or metalinks:
            got = len(urls) + len(metalinks)
            raise UsageError(f"--mirror adds sources to one URL: it needs exactly one, got {got}")
        engine["mirrors"] = tuple(validate_url(m) for m in ns.mirror)
    if (ns.mirror or metalinks) and stream:
        raise UsageError("mirrors and metalinks download to disk: not with -s/--stream")
    headless = stream or ns.dry_run or cli.get("no_ui") is True or bool(metalinks)
    command: Command = (
        "download" if urls or metalinks or ns.input_file is not None or headless else "tui"
    )
    if command == "download" and not urls and not metalinks:
        what = "--stream" if stream else "--dry-run" if ns.dry_run else "--no-ui"
        raise UsageError(f"{what} needs URLs (or -i FILE); run without options for the TUI")
    save = None if ns.save is None else _save_path(ns.save, urls, stream, ns.output_document)
    for option in ("md5", "sha256"):
        if getattr(ns, option) is not None and len(urls) != 1:
            raise UsageError(f"--{option} needs exactly one URL, got {len(urls)}")
    return ParsedArgs(
        command=command,
        urls=urls,
        cli=cli,
        preset=ns.preset,
        config_file=ns.config_file,
        stream=stream,
        md5=ns.md5,
        sha256=ns.sha256,
        checksum_file=ns.checksum_file,
        save=save,
        input_file=ns.input_file,
        exit_when_done=ns.exit_when_done,
        per_url=per_url,
        engine=engine,
        dry_run=ns.dry_run,
        continue_=ns.continue_,
        verbose=ns.verbose,
        metalinks=metalinks,
    )


def _names_metalink(text: str) -> bool:
    """A ``.meta4`` (or ``.metalink``, to refuse Metalink 3 in one clear line) path or
    URL, query and fragment aside; never raises on a bad URL. Other URLs are found to be
    metalinks by their Content-Type when probed (``cli/metalink_source.py``)."""
    path = text.strip().split("#", 1)[0].split("?", 1)[0]
    return path.lower().endswith((".meta4", ".metalink"))


def _output_document(
    document: str, urls: list[str], cli: dict[str, Any], per_url: dict[str, dict[str, Any]]
) -> bool:
    """``-O FILE`` names the one download's file (``-O -``: stream it); True for ``-``."""
    if len(urls) != 1:
        raise UsageError(
            f"-O/--output-document names one file: it needs exactly one URL, got {len(urls)}"
        )
    if document == "-":
        return True
    if "output" in cli:
        raise UsageError("-O FILE is a path of its own: give it without -o/-d")
    path = Path(document).expanduser()
    if path.name in ("", ".", "..") or document.endswith(("/", "\\")):
        raise UsageError(f"-O needs a file name, got {document!r} (-o DIR names a folder)")
    if path.is_dir():
        raise UsageError(f"-O {document}: that is a folder (use -o {document})")
    per_url.setdefault(urls[0], {}).update(filename=path.name, output_dir=path.parent)
    return False


def _save_path(document: str, urls: list[str], stream: bool, output: str | None) -> Path:
    """``--save FILE``: one streamed URL, a file name (not a folder)."""
    if not stream:
        raise UsageError("--save keeps a stream: give it with -s/--stream")
    if len(urls) != 1:
        raise UsageError(f"--save names one file: it needs exactly one URL, got {len(urls)}")
    if output not in (None, "-"):
        raise UsageError("--save and -O FILE both name the file: give one")
    path = Path(document).expanduser()
    if path.name in ("", ".", "..") or document.endswith(("/", "\\")):
        raise UsageError(f"--save needs a file name, got {document!r}")
    if path.is_dir():
        raise UsageError(f"--save {document}: that is a folder")
    return path


def _proxy_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
        raise UsageError(f"--proxy needs a URL like http://host:port, got {text!r}")
    if parts.scheme.lower().startswith("socks"):
        import importlib.util

        if importlib.util.find_spec("socksio") is None:
            raise UsageError("a socks5:// --proxy needs: pip install 'hydra-tui[socks]'")
    return text.strip()


_GLOBAL_FIRST = ("--config", "--preset", "--progress")
_GLOBAL_FLAGS = ("-q", "--quiet", "--no-quiet", "--no-ui", "--ui")


def _subcommand_first(args: list[str]) -> list[str]:
    """``--config F config show`` → ``config show --config F``: global options may come
    before the subcommand as well as after it."""
    i = 0
    while i < len(args) and args[i] not in SUBCOMMANDS:
        arg = args[i]
        if arg in _GLOBAL_FLAGS or (arg.partition("=")[0] in _GLOBAL_FIRST and "=" in arg):
            i += 1
        elif arg in _GLOBAL_FIRST and i + 1 < len(args):
            i += 2
        else:
            return args
    if i == 0 or i >= len(args):
        return args
    sub = args[i]
    rest = args[i + 1 :]
    if sub == "config":
        # the action comes first: config show --config F
        action = rest[:1]
        return [sub, *action, *args[:i], *rest[1:]]
    return [sub, *args[:i], *rest]


def parse(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> ParsedArgs:
    """Parse ``argv`` (default ``sys.argv[1:]``); ``stdin`` is read for ``-i -``."""
    args = _subcommand_first(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] == "demo":
        ns = build_demo_parser().parse_args(args[1:])
        return ParsedArgs(
            command="demo",
            cli=_settings_from(ns),
            preset=ns.preset,
            config_file=ns.config_file,
            demo_small=ns.demo_small,
            demo_fast=ns.demo_fast,
        )
    if args and args[0] == "config":
        return _parse_config(args[1:])
    return _parse_main(args, sys.stdin if stdin is None else stdin)
