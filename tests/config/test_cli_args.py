from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hydra_tui
from hydra_tui.cli import args as cli_args
from hydra_tui.cli.args import parse, read_input_file, validate_url
from hydra_tui.config import option_table
from hydra_tui.errors import UsageError

URL = "https://example.org/big.iso"


def usage_error(*argv: str, stdin: str = "") -> str:
    with pytest.raises(UsageError) as info:
        parse(list(argv), stdin=io.StringIO(stdin))
    message = str(info.value)
    assert "\n" not in message
    return message


# --- command detection ------------------------------------------------------------------


def test_no_arguments_is_the_tui() -> None:
    args = parse([])
    assert (args.command, args.urls, args.cli) == ("tui", [], {})


def test_options_without_urls_still_open_the_tui() -> None:
    args = parse(["-t", "4", "--preset", "fast"])
    assert (args.command, args.cli, args.preset) == ("tui", {"threads": 4}, "fast")


def test_urls_mean_download() -> None:
    args = parse([URL, "http://example.com/b"])
    assert args.command == "download"
    assert args.urls == [URL, "http://example.com/b"]


def test_demo_and_config_are_subcommands() -> None:
    demo = parse(["demo", "-t", "3", "--no-ui"])
    assert (demo.command, demo.cli, demo.urls) == ("demo", {"threads": 3, "no_ui": True}, [])
    config = parse(["config", "show", "--preset", "x"])
    assert (config.command, config.config_action, config.preset) == ("config", "show", "x")
    save = parse(["config", "save-preset", "fast", "-t", "8"])
    assert (save.config_action, save.preset_name, save.cli) == (
        "save-preset",
        "fast",
        {"threads": 8},
    )


def test_subcommand_after_a_url_gets_a_hint() -> None:
    assert "subcommands come first: hydra-tui demo" in usage_error(URL, "demo")


def test_global_options_may_come_before_a_subcommand() -> None:
    args = parse(["-q", "--preset", "p", "demo", "--small"])
    assert args.command == "demo" and args.preset == "p" and args.cli == {"quiet": True}
    args = parse(["--config", "c.toml", "config", "show", "-t", "3"])
    assert args.config_action == "show" and args.config_file == Path("c.toml")
    assert args.cli == {"threads": 3}


def test_config_without_action() -> None:
    assert "hydra-tui config --help" in usage_error("config")


# --- explicit-only mapping --------------------------------------------------------------


def test_only_given_options_are_in_cli() -> None:
    args = parse([URL, "-q", "--retries", "2"])
    assert args.cli == {"quiet": True, "retries": 2}


def test_every_setting_has_an_option() -> None:
    parser = cli_args.build_parser()
    dests = {action.dest for action in parser._actions}
    assert set(option_table.FIELD_NAMES) <= dests


def test_all_options_typed() -> None:
    args = parse(
        [
            URL,
            "-t", "auto", "-o", "out", "-j", "2", "-b", "64M", "--chunk-size", "1M",
            "--limit-rate", "5M/s", "--retries", "1", "--timeout", "3", "--stall-timeout", "4.5",
            "-A", "me/1", "--insecure", "--progress", "jsonl", "-q", "--no-ui",
        ]
    )  # fmt: skip
    mib = 1024 * 1024
    assert args.cli == {
        "threads": "auto",
        "output": Path("out"),
        "max_downloads": 2,
        "buffer": 64 * mib,
        "chunk_size": mib,
        "limit_rate": 5 * mib,
        "retries": 1,
        "timeout": 3.0,
        "stall_timeout": 4.5,
        "user_agent": "me/1",
        "insecure": True,
        "progress": "jsonl",
        "quiet": True,
        "no_ui": True,
    }


def test_negations_override_a_config_file() -> None:
    assert parse([URL, "--no-quiet", "--no-insecure", "--ui"]).cli == {
        "quiet": False,
        "insecure": False,
        "no_ui": False,
    }


def test_header_is_repeatable() -> None:
    args = parse(["-H", "X-A: 1", URL, "--header", "X-B:2", "-H", "X-A: 3"])
    assert args.cli == {"headers": (("X-A", "1"), ("X-B", "2"), ("X-A", "3"))}


def test_options_and_urls_intermix() -> None:
    args = parse(["http://a.example/1", "-t", "4", "http://a.example/2"])
    assert args.urls == ["http://a.example/1", "http://a.example/2"]
    assert args.cli == {"threads": 4}


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("threads", ["0", "100000", "-3", "many"])
def test_bad_threads(threads: str) -> None:
    message = usage_error("-t", threads, URL)
    assert message.startswith("argument -t/--threads: threads must be")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ftp://example.org/x"], "not an http(s) URL: 'ftp://example.org/x'"),
        (["example.org/x"], "did you mean https://example.org/x?"),
        (["http:///path"], "URL has no host"),
        (["http://h:99999/"], "invalid URL"),
        (["--bogus", URL], "unrecognized arguments: --bogus"),
        (["--thread", "3", URL], "unrecognized arguments"),  # no abbreviations
        (["-b", "10K", URL], "buffer must be at least 1 MiB"),
        (["--chunk-size", "-5", URL], "chunk_size is invalid"),
        (["--progress", "fancy", URL], "invalid choice: 'fancy'"),
        (["-H", "novalue", URL], 'header must look like "Name: value"'),
        (["--md5", "xyz", URL], "argument --md5: expected 32 hex digits"),
        (["--sha256", "ab" * 16, URL], "expected 64 hex digits"),
        (["--md5", "a" * 32, URL, "http://example.org/2"], "--md5 needs exactly one URL"),
        (["-s"], "--stream needs URLs"),
        (["--no-ui"], "--no-ui needs URLs"),
    ],
)
def test_usage_errors_are_one_line(argv: list[str], expected: str) -> None:
    assert expected in usage_error(*argv)


def test_digests_are_lowercased() -> None:
    args = parse(["--md5", "AB" * 16, "--sha256", "CD" * 32, URL])
    assert (args.md5, args.sha256) == ("ab" * 16, "cd" * 32)


def test_stream_one_url() -> None:
    args = parse(["-s", URL])
    assert (args.command, args.stream, args.urls) == ("download", True, [URL])


def test_config_file_option() -> None:
    assert parse(["--config", "c.toml"]).config_file == Path("c.toml")


# --- input file -------------------------------------------------------------------------

LIST = """\
\ufeff# my list
https://example.org/a.iso

   http://example.org/b.iso
  # indented comment
"""


def test_input_file_skips_comments_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text(LIST, encoding="utf-8")
    assert read_input_file(str(path), io.StringIO()) == [
        "https://example.org/a.iso",
        "http://example.org/b.iso",
    ]


def test_input_file_dash_reads_stdin() -> None:
    args = parse(["-i", "-", URL], stdin=io.StringIO("# x\nhttp://example.org/c\n"))
    assert args.command == "download"
    assert args.urls == [URL, "http://example.org/c"]
    assert args.input_file == "-"


def test_input_file_junk_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("http://example.org/a\n\nnot a url\n", encoding="utf-8")
    message = usage_error("-i", str(path))
    assert message.startswith(f"{path}, line 3: not an http(s) URL: 'not a url'")


def test_input_file_junk_on_stdin() -> None:
    assert usage_error("-i", "-", stdin="ftp://x/y\n").startswith("<stdin>, line 1: ")


def test_input_file_missing(tmp_path: Path) -> None:
    assert "cannot read input file" in usage_error("-i", str(tmp_path / "nope.txt"))


def test_input_file_empty() -> None:
    assert usage_error("-i", "-", stdin="# nothing\n") == "no URLs in <stdin>"


def test_validate_url_strips_and_accepts_ports() -> None:
    assert validate_url("  HTTPS://h.example:8443/x?y=1#f ") == "HTTPS://h.example:8443/x?y=1#f"


_URL_TEXT = st.text(
    alphabet=st.sampled_from("aZ09-._~:/?#[]@!$&'()*+,;=% <>\"{}|\\^`x\u00e9\u2603"),
    max_size=30,
)


@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=st.one_of(
        _URL_TEXT,
        st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){3}", fullmatch=True),
        st.from_regex(r"(xn--[a-z0-9-]{0,8}\.)?[a-z]{1,8}", fullmatch=True),
    ),
    rest=_URL_TEXT,
)
def test_every_url_validate_url_passes_without_httpx_httpx_parses(
    scheme: str, host: str, rest: str
) -> None:
    """The fast path (no httpx import for ``hydra-tui add``) never lets through a URL
    httpx would refuse; the engine would otherwise fail on it later, not in one line."""
    url = f"{scheme}://{host}{rest}"
    try:
        validate_url(url)
    except UsageError:
        return
    httpx.URL(url.strip())  # raises if the fast path let a bad one through


def test_urls_httpx_refuses_are_still_refused_in_one_line() -> None:
    for url in ("http://999.1.1.1/x", "http://0.0.0.0000/x", "http://[::zz]/x"):
        with pytest.raises(UsageError, match="invalid URL"):
            validate_url(url)


# --- help and version -------------------------------------------------------------------


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for example in ("| tar -xz", "--preset genomics", "-i urls.txt", "hydra-tui demo"):
        assert example in out


def test_subcommand_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["config", "save-preset", "--help"])
    assert "--limit-rate" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"hydra-tui {hydra_tui.__version__}\n"


def test_version_path_imports_nothing_heavy() -> None:
    code = textwrap.dedent("""
        import sys
        from hydra_tui.cli.args import parse
        try:
            parse(["--version"])
        except SystemExit:
            pass
        heavy = [m for m in ("httpx", "textual", "rich", "tomli_w", "platformdirs",
                             "hydra_tui.engine.options") if m in sys.modules]
        print("heavy:", heavy)
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == [f"hydra-tui {hydra_tui.__version__}", "heavy: []"]
