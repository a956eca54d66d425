from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

import hydra_tui
from hydra_tui.config import fields, option_table
from hydra_tui.config.model import Settings
from hydra_tui.engine.options import DEFAULT_THREADS, DownloadOptions
from hydra_tui.errors import UsageError

MIB = 1024 * 1024


def test_checkers_cover_exactly_the_settings_fields() -> None:
    assert set(option_table.FIELD_NAMES) == {f.name for f in dataclasses.fields(Settings)}


def test_every_field_is_described_once_in_the_option_table() -> None:
    # the texts live in the table (--help line, starter comment), not in a third wording
    # on Settings: a field docstring there would drift from them
    described = {o.name for o in option_table.OPTIONS if o.help.strip() and o.starter.strip()}
    assert described == set(option_table.FIELD_NAMES)
    body = ast.parse(inspect.getsource(Settings)).body[0]
    assert isinstance(body, ast.ClassDef)
    field_docstrings = [
        stmt.target.id
        for stmt, following in zip(body.body, body.body[1:], strict=False)
        if isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
    ]
    assert field_docstrings == []


def test_defaults_match_the_engine() -> None:
    s = Settings()
    options = DownloadOptions()
    assert fields.DEFAULT_THREADS == DEFAULT_THREADS == s.threads
    assert s.retries == options.retries == 5
    assert s.timeout == options.connect_timeout == 15
    assert s.stall_timeout == options.stall_timeout == 20
    assert s.max_downloads == 4
    assert s.output == Path()
    assert (s.buffer, s.limit_rate, s.chunk_size, s.user_agent) == (None, None, None, None)
    assert (s.insecure, s.quiet, s.no_ui, s.progress, s.headers) == (
        False,
        False,
        False,
        "auto",
        (),
    )


@pytest.mark.parametrize("threads", [0, 1025, 100000, -1])
def test_threads_out_of_range(threads: int) -> None:
    with pytest.raises(UsageError, match="threads must be between 1 and 1024"):
        Settings(threads=threads)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("threads", True, "threads must be an integer"),
        ("threads", "eight", "threads must be an integer"),
        ("buffer", 1000, "buffer must be at least 1 MiB"),
        ("buffer", "512K", "buffer must be at least 1 MiB"),
        ("buffer", -5, "must not be negative"),
        ("buffer", "-5M", "buffer is invalid"),
        ("chunk_size", 10, "chunk_size must be at least 4 KiB"),
        ("limit_rate", "fast", "limit_rate is invalid"),
        ("limit_rate", -1, "must not be negative"),
        ("retries", -1, "retries must be between 0 and 1000"),
        ("timeout", 0, "timeout must be more than 0"),
        ("stall_timeout", float("nan"), "stall_timeout must be more than 0"),
        ("max_downloads", 0, "max_downloads must be between 1 and 256"),
        ("progress", "fancy", "progress must be one of auto, plain, jsonl, none"),
        ("insecure", "yes", "insecure must be true or false"),
        ("headers", ["no colon"], 'header must look like "Name: value"'),
        ("headers", ["Bad Name: x"], 'header must look like "Name: value"'),
        ("headers", {"X-A": 3}, "header X-A must have a string value"),
        ("user_agent", "a\nb", "user_agent must be a single-line string"),
        ("output", "", "output must be a folder path"),
    ],
)
def test_bad_values_have_clear_messages(field: str, value: object, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        Settings(**{field: value})  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_values_are_normalized() -> None:
    s = Settings(
        threads="auto",
        buffer="64MiB",  # type: ignore[arg-type]
        limit_rate="5M/s",  # type: ignore[arg-type]
        chunk_size="auto",  # type: ignore[arg-type]
        output="~/x",  # type: ignore[arg-type]
        headers=["A: 1", "B:2"],  # type: ignore[arg-type]
        timeout="2.5",  # type: ignore[arg-type]
    )
    assert s.buffer == 64 * MIB
    assert s.limit_rate == 5 * MIB
    assert s.chunk_size is None
    assert s.output == Path("~/x").expanduser()
    assert s.headers == (("A", "1"), ("B", "2"))
    assert s.timeout == 2.5
    assert Settings(limit_rate=0).limit_rate is None


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().threads = 3  # type: ignore[misc]


def test_download_options_auto_threads_and_tls() -> None:
    options = Settings(threads="auto", insecure=True).download_options()
    assert options.threads == fields.AUTO_THREADS_CEILING == 16
    assert options.auto_threads is True
    assert options.verify_tls is False


def test_download_options_maps_every_setting() -> None:
    s = Settings(
        threads=12,
        output=Path("out"),
        buffer=2 * MIB,
        limit_rate=1000,
        retries=2,
        timeout=3,
        stall_timeout=4,
        headers=(("X-A", "1"),),
        user_agent="me/1",
        chunk_size=8192,
    )
    o = s.download_options(md5="ab" * 16, filename="f.bin")
    assert (o.threads, o.auto_threads, o.output_dir) == (12, False, Path("out"))
    assert (o.buffer, o.limit_rate, o.retries) == (2 * MIB, 1000, 2)
    assert (o.connect_timeout, o.stall_timeout) == (3.0, 4.0)
    assert (o.headers, o.user_agent, o.chunk_size) == ((("X-A", "1"),), "me/1", 8192)
    assert (o.verify_tls, o.md5, o.filename) == (True, "ab" * 16, "f.bin")


def test_default_user_agent_carries_the_version() -> None:
    assert Settings().download_options().user_agent == f"hydra-tui/{hydra_tui.__version__}"


def test_unknown_override_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Settings().download_options(no_such_field=1)
