"""What users of curl, wget, aria2c and hydrastream type, understood by hydra-tui.

Options (``-O``, ``-d``, ``--user``, ``--cookie``, ``--proxy``, ``--dry-run``, …) are
added to the main parser by ``add_habit_options``; ``check_habits`` turns aria2c's
``-x N``/``-s N`` into a hint before argparse reads ``16`` as a URL, and ``request_headers``
turns credentials, cookies and a referer into request headers. Only the standard
library is imported here: ``--version`` must stay instant.
"""

from __future__ import annotations

import argparse
import base64
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from hydra_tui.config import fields
from hydra_tui.errors import UsageError

if TYPE_CHECKING:
    from http.cookiejar import Cookie

__all__ = [
    "InputEntry",
    "add_habit_options",
    "check_habits",
    "cookie_header",
    "parse_input_lines",
    "request_headers",
]

#: aria2c's connection options, which hydra-tui spells ``-t N``
_ARIA2_CONNECTIONS = ("-x", "--max-connection-per-server", "-s", "--split")
#: hydrastream's short option for ``--no-ui`` (argparse cannot have a two-letter short one)
_HYDRASTREAM_ALIASES = {"-nu": "--no-ui"}


def check_habits(args: Sequence[str]) -> list[str]:
    """Rewrite hydrastream's ``-nu``; raise a hint for aria2c's ``-x N``/``-s N``.

    ``-s`` alone is ``--stream``; ``-s 16`` (a number after it) is aria2c's split count.
    """
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            out.extend(args[i:])
            break
        name, eq, value = arg.partition("=")
        if name[:2] in ("-x", "-s") and name[2:].isdigit():  # -x16
            name, eq, value = name[:2], "=", name[2:]
        if name in _ARIA2_CONNECTIONS:
            number = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            if number.isdigit():
                raise UsageError(
                    f"{name} {number} is aria2c's connection count; hydra-tui uses "
                    f"-t {number} (connections per download)"
                )
        out.append(_HYDRASTREAM_ALIASES.get(arg, arg))
    return out


def add_habit_options(parser: argparse.ArgumentParser) -> None:
    """Options borrowed from curl, wget and aria2c (command-only: not in config files)."""
    group = parser.add_argument_group("options other tools taught users")
    add = group.add_argument
    add("-O", "--output-document", metavar="FILE",
        help="save the (one) download as FILE (wget); - streams it to stdout")  # fmt: skip
    add("-d", "--dir", dest="dir", metavar="DIR",
        help="folder to write into: the same as -o DIR (aria2c)")  # fmt: skip
    add("-c", "--continue", dest="continue_", action="store_true",
        help="accepted for wget/curl habits: resuming is always automatic")  # fmt: skip
    add("--user", metavar="USER", help="HTTP basic auth user name")
    add("--password", metavar="PASS",
        help="HTTP basic auth password; - asks for it (or reads one line of stdin)")  # fmt: skip
    add("--referer", metavar="URL", help="send this Referer header")
    add("--cookie", metavar="NAME=VALUE[;...]|FILE", action="append",
        help="send cookies: a 'name=value; n2=v2' string or a Netscape cookies.txt")  # fmt: skip
    add("--cookie-jar", metavar="FILE", action="append",
        help="read cookies from a Netscape-format cookies.txt (curl, wget2)")  # fmt: skip
    add("--proxy", metavar="URL",
        help="use this HTTP(S) proxy (instead of HTTP(S)_PROXY from the environment)")  # fmt: skip
    add("--limit-rate-total", metavar="RATE",
        help="one bandwidth ceiling for the whole run (--limit-rate is per download)")  # fmt: skip
    add("-v", "--verbose", action="store_true",
        help="log each request, response status, range and reconnect on stderr "
        "(-v alone prints the version, as hydrastream's -v)")  # fmt: skip
    add("--dry-run", action="store_true",
        help="probe each URL and print name, size, ranges, validators and the plan; "
        "download nothing")  # fmt: skip
    # hydrastream's --chunk-timeout: how long a chunk request may go without finishing;
    # here a connection idle that long is restarted (--stall-timeout)
    add(
        "--chunk-timeout",
        dest="stall_timeout",
        metavar="SECONDS",
        default=argparse.SUPPRESS,
        type=_checked_seconds,
        help=argparse.SUPPRESS,
    )


def _checked_seconds(text: str) -> float:
    try:
        return fields.stall_timeout(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _password(user: str, password: str | None, stdin: TextIO) -> str:
    if password is not None and password != "-":
        return password
    if password is None:
        return ""
    if stdin.isatty():
        import getpass

        return getpass.getpass(f"password for {user}: ")
    line = stdin.readline()
    if not line:
        raise UsageError("--password -: no password on standard input")
    return line.rstrip("\r\n")


def request_headers(ns: argparse.Namespace, urls: Sequence[str], stdin: TextIO) -> list[str]:
    """``Name: value`` headers for ``--user``/``--password``, ``--referer`` and cookies."""
    headers: list[str] = []
    if ns.password is not None and ns.user is None:
        raise UsageError("--password needs --user")
    if ns.user is not None:
        if ns.password == "-" and ns.input_file == "-":
            raise UsageError("--password - and -i - both want standard input")
        secret = _password(ns.user, ns.password, stdin)
        token = base64.b64encode(f"{ns.user}:{secret}".encode()).decode("ascii")
        headers.append(f"Authorization: Basic {token}")
    if ns.referer is not None:
        if any(c in ns.referer for c in "\r\n\0"):
            raise UsageError("--referer has a line break or NUL in it")
        headers.append(f"Referer: {ns.referer}")
    cookies = [*(ns.cookie or []), *(f"@{path}" for path in ns.cookie_jar or [])]
    value = cookie_header(cookies, urls) if cookies else ""
    if value:
        headers.append(f"Cookie: {value}")
    return headers


_PAIR_RE = re.compile(r"^\s*[^=;\s]+=[^;]*(;\s*[^=;\s]+=[^;]*)*;?\s*$")


def cookie_header(sources: Sequence[str], urls: Sequence[str]) -> str:
    """One Cookie value from ``name=value`` strings and cookie files (``@FILE`` or a path).

    A file's cookies are sent only when their domain and path match every URL: one
    header goes to every URL, so a cookie for another site must never ride along.
    """
    import http.cookiejar  # only with cookies: it loads urllib.request

    parts: list[str] = []
    for source in sources:
        path = source[1:] if source.startswith("@") else source
        if not source.startswith("@") and _PAIR_RE.match(source):
            parts.extend(p.strip() for p in source.split(";") if p.strip())
            continue
        jar = http.cookiejar.MozillaCookieJar(path)
        try:
            # expiry 0 is a session cookie in curl's and wget's files: keep it
            jar.load(ignore_discard=True, ignore_expires=True)
        except FileNotFoundError:
            raise UsageError(f"cookie file not found: {path}") from None
        except (OSError, http.cookiejar.LoadError) as exc:
            raise UsageError(f"cannot read cookie file {path}: {exc}") from None
        now = time.time()
        for cookie in jar:
            if cookie.expires and cookie.expires < now:
                continue
            if urls and all(_matches(cookie, url) for url in urls):
                parts.append(f"{cookie.name}={cookie.value or ''}")
    return "; ".join(parts)


def _matches(cookie: Cookie, url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    domain = cookie.domain.lower().lstrip(".")
    if not (host == domain or (cookie.domain.startswith(".") and host.endswith("." + domain))):
        return False
    if cookie.secure and parts.scheme != "https":
        return False
    return (parts.path or "/").startswith(cookie.path or "/")


class InputEntry:
    """One URL of an ``-i`` list and its aria2c-style options (``out=``, ``dir=``, …)."""

    __slots__ = ("options", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        #: DownloadOptions overrides: filename, output_dir, sha256, md5
        self.options: dict[str, Any] = {}


_OPTION_LINE_RE = re.compile(r"^[A-Za-z][\w-]*=")
_DIGESTS = {"sha-256": ("sha256", 64), "sha256": ("sha256", 64), "md5": ("md5", 32)}


def parse_input_lines(lines: list[str], name: str) -> list[tuple[int, str, InputEntry]]:
    """aria2c's input-file format: a URL line, then indented ``key=value`` lines for it
    (an indented line that is not ``key=value`` is a URL, as it always was).

    Returns ``(line number, url text, entry)`` for each URL line; options are set on the
    entry. ``out``, ``dir`` and ``checksum=sha-256=HEX`` (or ``md5=HEX``) are understood.
    """
    found: list[tuple[int, str, InputEntry]] = []
    current: InputEntry | None = None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if line[:1] in (" ", "\t") and _OPTION_LINE_RE.match(text):
            if current is None:
                raise UsageError(f"{name}, line {number}: an option line before any URL")
            _entry_option(current, text, f"{name}, line {number}")
            continue
        current = InputEntry(text)
        found.append((number, text, current))
    return found


def _entry_option(entry: InputEntry, text: str, where: str) -> None:
    key, eq, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not eq or not value:
        raise UsageError(f"{where}: expected key=value, got {text!r}")
    if key == "out":
        out = Path(value)
        if out.name in ("", ".", "..") or out.is_absolute():
            raise UsageError(f"{where}: out= must be a file name, got {value!r}")
        entry.options["filename"] = out.name
        if out.parent != Path():
            entry.options["subdir"] = out.parent
    elif key == "dir":
        entry.options["output_dir"] = Path(value).expanduser()
    elif key == "checksum":
        algo, eq2, digest = value.partition("=")
        kind = _DIGESTS.get(algo.strip().lower())
        digest = digest.strip().lower()
        if kind is None or not eq2:
            raise UsageError(f"{where}: checksum= must be sha-256=HEX or md5=HEX")
        field_name, length = kind
        if len(digest) != length or not all(c in "0123456789abcdef" for c in digest):
            raise UsageError(f"{where}: {algo} needs {length} hex digits")
        entry.options[field_name] = digest
    else:
        raise UsageError(f"{where}: unknown option {key!r} (out, dir and checksum are known)")
