"""Every download setting, declared once: its key, flags, checker, texts and engine field.

One ``Option`` per ``Settings`` field, in the order ``config show`` and the starter
config.toml list them. The rest is derived from this table::

    cli/args.py        the "download settings" command-line options and their --help
    config/starter.py  the commented config.toml of ``hydra-tui config init``
    COERCERS           the known keys of config files, presets and ``Settings``, and
                       their checkers (``fields``), used by config/presets.py and model.py
    download_options   (``Settings.download_options``) the engine's options: each
                       setting into its ``engine`` fields (``Option.engine_values``)
    preset_values      (config/model.py) a download's settings as a preset: each option
                       read back from ``DownloadOptions`` (``Option.setting_of``) and
                       kept as its ``in_preset`` says

What stays written elsewhere: ``Settings`` (typed fields and defaults, for mypy; what a
field means is said here only) and ``DownloadOptions`` (the engine never imports config);
tests/config/test_option_table.py holds both to this table. ``ENGINE_ONLY`` lists the
``DownloadOptions`` fields that are deliberately not settings.

Imports only ``fields`` and the version: ``hydra_tui.cli.args`` builds its parser from it
(``DownloadOptions`` is named for mypy only; the two User-Agent mappings, which need
the engine's default, import it when called).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from hydra_tui._version import __version__
from hydra_tui.config import fields

if TYPE_CHECKING:
    from hydra_tui.engine.options import DownloadOptions

__all__ = [
    "COERCERS",
    "ENGINE_ONLY",
    "FIELD_NAMES",
    "OPTIONS",
    "InPreset",
    "Kind",
    "Option",
    "cli_order",
    "coerce",
]

#: how the command line takes an option: ``value`` (``--retries 3``), ``switch``
#: (``--insecure``/``--no-insecure``), ``choice`` (one of ``choices``), ``list``
#: (repeatable, each value checked by ``item_check``), ``flag`` (``--no-ui`` sets
#: True, its ``negation`` sets False)
Kind: TypeAlias = Literal["value", "switch", "choice", "list", "flag"]

#: how a setting goes into a preset saved from a download's options (the TUI's ``s``,
#: ``preset_values``): ``always``; ``set`` (when its value is truthy: a limit, a list, a
#: User-Agent other than the default); ``changed`` (when it differs from the value in a
#: built-in ``DownloadOptions()``); ``never`` (kept out on purpose: see the option)
InPreset: TypeAlias = Literal["always", "set", "changed", "never"]


@dataclass(frozen=True, slots=True)
class Option:
    """One user-settable download option."""

    #: the ``Settings`` field; the TOML key is spelled with ``-`` (``_`` is accepted too)
    name: str
    #: checks and normalizes a TOML value or a command-line string (``fields``)
    check: Callable[[object], object]
    #: command-line spellings, as argparse lists them in --help
    flags: tuple[str, ...]
    #: the --help text
    help: str
    #: the comment above the key in the starter config.toml, without the ``# `` of each
    #: line (the command-line spelling at the end is aligned by hand)
    starter: str
    #: the key's value in the starter file, as TOML (commented out: the built-in value)
    example: str
    kind: Kind = "value"
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    #: ``list``: the checker of one command-line value
    item_check: Callable[[object], object] | None = None
    #: ``flag``: the opposite option (spelling, help), which sets False
    negation: tuple[str, str] | None = None
    #: listed in --help right after this option instead of in table order
    cli_after: str | None = None
    #: the ``DownloadOptions`` fields this setting decides (``Settings.download_options``)
    engine: tuple[str, ...] = ()
    #: the ``engine`` fields' values for a (checked) setting; None: the one ``engine``
    #: field takes the value as it is
    to_engine: Callable[[object], dict[str, object]] | None = None
    #: reads the setting back from a ``DownloadOptions`` (as a value its checker takes);
    #: None: the one ``engine`` field, same value
    from_engine: Callable[[DownloadOptions], object] | None = None
    #: with ``engine`` fields, required (tests/config/test_preset_values.py): how the
    #: setting goes into a preset saved from a download; None for the others, which a
    #: download does not hold
    in_preset: InPreset | None = None

    @property
    def key(self) -> str:
        """The TOML key, as the starter file and ``config show`` spell it."""
        return self.name.replace("_", "-")

    def engine_values(self, value: object) -> dict[str, object]:
        """What this setting, at ``value``, sets in a ``DownloadOptions`` (nothing for
        an option the engine does not see)."""
        if self.to_engine is not None:
            return self.to_engine(value)
        if not self.engine:
            return {}
        (name,) = self.engine  # several fields: to_engine must say
        return {name: value}

    def setting_of(self, options: DownloadOptions) -> object:
        """This setting's value in a download's options: ``Settings.download_options``
        read backwards (only for an option with ``engine`` fields)."""
        if self.from_engine is not None:
            return self.from_engine(options)
        (name,) = self.engine  # several fields, or none: from_engine must say
        return getattr(options, name)


def _threads_for_engine(value: object) -> dict[str, object]:
    """``auto`` is a ceiling of ``AUTO_THREADS_CEILING`` that grows from a small start."""
    auto = value == "auto"
    return {
        "threads": fields.AUTO_THREADS_CEILING if auto else value,
        "auto_threads": auto,
    }


def _user_agent_for_engine(value: object) -> dict[str, object]:
    """None sends ``hydra-tui/<version>``."""
    from hydra_tui.engine.options import default_user_agent

    return {"user_agent": value or default_user_agent()}


def _user_agent_of(options: DownloadOptions) -> str | None:
    """None for the default User-Agent, as ``Settings.user_agent`` spells it."""
    from hydra_tui.engine.options import default_user_agent

    agent = options.user_agent
    return None if not agent or agent == default_user_agent() else agent


OPTIONS: tuple[Option, ...] = (
    Option(
        "threads",
        fields.threads,
        ("-t", "--threads"),
        metavar="N|auto",
        help=f"connections per download: 1-{fields.MAX_THREADS}, or auto to grow up to "
        f"{fields.AUTO_THREADS_CEILING} (default {fields.DEFAULT_THREADS})",
        starter="""\
Connections per download: 1 to 1024, or "auto" to start small and grow while the
throughput grows (up to 16).                                           (-t/--threads)""",
        example=str(fields.DEFAULT_THREADS),
        engine=("threads", "auto_threads"),
        to_engine=_threads_for_engine,
        from_engine=lambda o: "auto" if o.auto_threads else o.threads,
        in_preset="always",
    ),
    Option(
        "output",
        fields.output,
        ("-o", "--output"),
        metavar="DIR",
        help="folder to write into (default: current folder)",
        starter="""\
Folder downloads are written into; ~ is expanded.                      (-o/--output)""",
        example='"."',
        engine=("output_dir",),
        from_engine=lambda o: str(o.output_dir),
        in_preset="always",
    ),
    Option(
        "max_downloads",
        fields.max_downloads,
        ("-j", "--max-downloads"),
        metavar="N",
        help="downloads at once (default 4)",
        starter="""\
How many downloads run at once; the others wait in the queue.    (-j/--max-downloads)""",
        example="4",
    ),
    Option(
        "buffer",
        fields.buffer,
        ("-b", "--buffer"),
        metavar="SIZE",
        help="--stream memory budget, at least 1MiB (default threads x 8MiB)",
        starter="""\
Memory budget of --stream, at least 1MiB; "auto" is threads x 8MiB.    (-b/--buffer)""",
        example='"auto"',
        engine=("buffer",),
        in_preset="set",
    ),
    Option(
        "chunk_size",
        fields.chunk_size,
        ("--chunk-size",),
        metavar="SIZE",
        help="size of each range request (default: from file size and threads)",
        starter="""\
Size of each planned range request; "auto" picks one from the file size and threads.
                                                                         (--chunk-size)""",
        example='"auto"',
        engine=("chunk_size",),
        in_preset="set",
    ),
    Option(
        "limit_rate",
        fields.limit_rate,
        ("--limit-rate",),
        metavar="RATE",
        help="bandwidth ceiling per download, e.g. 5M; 0 for unlimited",
        starter="""\
Bandwidth ceiling of one download, across its connections: "5M/s";
"unlimited" (or 0) lifts a limit set in [defaults] from within a preset. (--limit-rate)""",
        example='"unlimited"',
        engine=("limit_rate",),
        in_preset="set",
    ),
    Option(
        "retries",
        fields.retries,
        ("--retries",),
        metavar="N",
        help="attempts per range without progress (default 5)",
        starter="""\
Attempts per range without progress before a download fails.             (--retries)""",
        example="5",
        engine=("retries",),
        in_preset="always",
    ),
    Option(
        "timeout",
        fields.timeout,
        ("--timeout",),
        metavar="SECONDS",
        help="connect timeout (default 15)",
        starter="""\
Seconds to establish a connection.                                        (--timeout)""",
        example="15",
        engine=("connect_timeout",),
        in_preset="always",
    ),
    Option(
        "stall_timeout",
        fields.stall_timeout,
        ("--stall-timeout",),
        metavar="SECONDS",
        help="restart a connection idle this long (default 20)",
        starter="""\
Seconds without a byte before a connection counts as stalled and is restarted.
                                                                     (--stall-timeout)""",
        example="20",
        engine=("stall_timeout",),
        in_preset="always",
    ),
    Option(
        "headers",
        fields.headers,
        ("-H", "--header"),
        kind="list",
        item_check=fields.parse_header,
        metavar="HEADER",
        help='request header "Name: value", repeatable; "Name:" drops one from config',
        starter="""\
Extra request headers, as a table or a list of "Name: value" strings. A header given
on the command line replaces one of the same name; -H "Name:" removes it.  (-H/--header)""",
        example='{ "X-Token" = "abc" }',
        engine=("headers",),
        from_engine=lambda o: [f"{k}: {v}" for k, v in o.headers],
        in_preset="set",
    ),
    Option(
        "user_agent",
        fields.user_agent,
        ("-A", "--user-agent"),
        metavar="TEXT",
        help=f"User-Agent header (default hydra-tui/{__version__})",
        starter="""\
User-Agent header; "" sends hydra-tui/<version>.                       (-A/--user-agent)""",
        example='""',
        engine=("user_agent",),
        to_engine=_user_agent_for_engine,
        from_engine=_user_agent_of,
        in_preset="set",
    ),
    Option(
        "insecure",
        fields.boolean("insecure"),
        ("--insecure",),
        kind="switch",
        help="do not verify TLS certificates (test servers only)",
        starter="""\
Skip TLS certificate checks. Only for self-signed test servers.          (--insecure)""",
        example="false",
        engine=("verify_tls",),
        to_engine=lambda insecure: {"verify_tls": not insecure},
        from_engine=lambda o: not o.verify_tls,
        # a preset must never turn verification off without the user saying so
        in_preset="never",
    ),
    Option(
        "ca_certificate",
        fields.ca_certificate,
        ("--ca-certificate", "--cacert"),
        metavar="FILE",
        help="trust the CA certificates in this PEM file instead of the default roots",
        starter="""\
A PEM file of CA certificates to trust instead of the default roots (for a private
CA); "" uses the defaults (or SSL_CERT_FILE).           (--ca-certificate/--cacert)""",
        example='""',
        engine=("ca_file",),
        # another CA widens what verification accepts: as insecure, never saved from a download
        in_preset="never",
    ),
    Option(
        "progress",
        fields.progress,
        ("--progress",),
        kind="choice",
        choices=fields.PROGRESS_MODES,
        help="headless progress format (default auto)",
        starter="""\
Progress without the TUI: "auto" (a bar on a terminal, plain lines otherwise),
"plain", "jsonl" (one JSON object per line, for scripts) or "none".       (--progress)""",
        example='"auto"',
    ),
    Option(
        "quiet",
        fields.boolean("quiet"),
        ("-q", "--quiet"),
        kind="switch",
        help="no progress or warnings on the terminal (errors and log file kept)",
        starter="""\
No progress and no warnings on the terminal; errors and the log file are kept.
                                                                         (-q/--quiet)""",
        example="false",
    ),
    Option(
        "no_ui",
        fields.boolean("no_ui"),
        ("--no-ui",),
        kind="flag",
        negation=("--ui", "use the TUI even if config.toml sets no-ui"),
        help="download without the TUI",
        starter="""\
Download without the TUI, showing headless progress on stderr.              (--no-ui)""",
        example="false",
    ),
    Option(
        "speed_limit",
        fields.speed_limit,
        ("--speed-limit", "--lowest-speed-limit"),
        metavar="RATE",
        help="restart connections when the download is under RATE for --speed-time; "
        "after --retries restarts it fails; 0 turns it off (default 1K)",
        starter="""\
Low-speed limit: a download under this rate for speed-time seconds has its connections
restarted, and fails after `retries` restarts; 0 turns it off.       (--speed-limit)""",
        example='"1K/s"',
        cli_after="stall_timeout",
        engine=("speed_limit",),
        in_preset="changed",
    ),
    Option(
        "speed_time",
        fields.speed_time,
        ("--speed-time",),
        metavar="SECONDS",
        help="how long a download may stay under --speed-limit (default 60)",
        starter="""\
Seconds a download may stay under speed-limit.                          (--speed-time)""",
        example="60",
        cli_after="speed_limit",
        engine=("speed_time",),
        in_preset="changed",
    ),
    Option(
        "accept_html",
        fields.boolean("accept_html"),
        ("--accept-html",),
        kind="switch",
        help="save an HTML page even where it looks like an error page",
        starter="""\
Save an HTML page even where it looks like an error page standing in for the file.
                                                                       (--accept-html)""",
        example="false",
        cli_after="speed_time",
        engine=("accept_html",),
        in_preset="changed",
    ),
    Option(
        "on_quit",
        fields.on_quit,
        ("--on-quit",),
        kind="choice",
        choices=fields.ON_QUIT_MODES,
        help="what q does in the TUI: detach (the service downloads on) or stop it",
        starter="""\
What q does in the TUI: "detach" (the service goes on downloading; run hydra-tui to
attach again) or "stop" (pause every download and stop the service, as Q does).""",
        example='"detach"',
    ),
)

#: one checker per ``Settings`` field, in the order ``config show`` prints them
COERCERS: Mapping[str, Callable[[object], object]] = {o.name: o.check for o in OPTIONS}
FIELD_NAMES: tuple[str, ...] = tuple(COERCERS)

#: ``DownloadOptions`` fields that are not settings, and why
ENGINE_ONLY: Mapping[str, str] = {
    "filename": "one download's file name (-O, out=): meaningless for several URLs",
    "md5": "one file's digest (--md5)",
    "sha256": "one file's digest (--sha256)",
    "checksum_list": "read from --checksum-file for the URLs of one command",
    "url_cmd": "renews one URL (--url-cmd)",
    "mirrors": "more URLs of one file (--mirror)",
    "metalink": "the <file> of a .meta4 download",
    "proxy": "--proxy: a command-line option only, the environment's proxy otherwise",
    "limit_rate_total": "--limit-rate-total: the whole engine's, not one download's",
    "log_requests": "-v: a debugging aid",
    "backoff_base": "tuned in the engine, not by users",
    "backoff_max": "tuned in the engine, not by users",
    "raw_http": "an engine implementation choice (tests turn it off)",
}


def coerce(name: str, value: object) -> object:
    """Check one field's value (idempotent on already-checked values)."""
    return COERCERS[name](value)


def cli_order() -> list[Option]:
    """The options in the order --help lists them (``cli_after`` moves a few)."""
    ordered = [o for o in OPTIONS if o.cli_after is None]
    for option in OPTIONS:
        if option.cli_after is not None:
            at = next(i for i, o in enumerate(ordered) if o.name == option.cli_after)
            ordered.insert(at + 1, option)
    return ordered
