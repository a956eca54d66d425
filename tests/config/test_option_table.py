"""The option table is the one declaration of every setting; what is derived from it
(the command line, the starter config.toml, the known keys) reads exactly as it did when
each was written by hand: the golden files were recorded before the table existed."""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path

import pytest

import hydra_tui
from hydra_tui.cli import config_commands
from hydra_tui.cli.args import parse
from hydra_tui.config import option_table
from hydra_tui.config.model import Settings
from hydra_tui.config.starter import STARTER_CONFIG
from hydra_tui.engine.options import DownloadOptions

GOLDEN = Path(__file__).parent / "golden"
OPTIONS = option_table.OPTIONS


def golden(name: str) -> str:
    text = (GOLDEN / name).read_text(encoding="utf-8")
    return text.replace("{version}", hydra_tui.__version__)


# argparse lays out help differently from one Python to the next (3.13 writes "-t,
# --threads N"): the help files were recorded with 3.11
@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="help recorded with Python 3.11")
@pytest.mark.parametrize(
    ("argv", "name"),
    [
        ([], "help.txt"),
        (["demo"], "demo-help.txt"),
        (["config", "show"], "config-show-help.txt"),
        (["config", "save-preset"], "config-save-preset-help.txt"),
    ],
)
def test_help_reads_as_before_the_table(
    argv: list[str], name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        parse([*argv, "--help"])
    assert capsys.readouterr().out == golden(name)


def test_starter_config_reads_as_before_the_table() -> None:
    assert golden("starter.toml") == STARTER_CONFIG


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("", "config-show.txt"),
        (
            "-t auto --limit-rate 5M -H 'X: y' --insecure --speed-limit 2K --on-quit stop"
            " -q --no-ui",
            "config-show-given.txt",
        ),
    ],
)
def test_config_show_reads_as_before_the_table(
    given: str, name: str, xdg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(["config", "show", *shlex.split(given)])
    assert config_commands.run(args, sys.stdout) == 0
    _header, _, rows = capsys.readouterr().out.partition("\n\n")
    assert rows == golden(name)


def test_every_option_is_a_settings_field_in_order() -> None:
    assert tuple(f.name for f in dataclasses.fields(Settings)) == option_table.FIELD_NAMES
    assert len(set(option_table.FIELD_NAMES)) == len(OPTIONS)


def test_every_engine_field_is_an_option_or_deliberately_not_one() -> None:
    engine_fields = {f.name for f in dataclasses.fields(DownloadOptions)}
    from_table = [name for option in OPTIONS for name in option.engine]
    assert len(from_table) == len(set(from_table)), "two options set one engine field"
    assert set(from_table) <= engine_fields
    assert set(option_table.ENGINE_ONLY) <= engine_fields
    assert not set(from_table) & set(option_table.ENGINE_ONLY)
    assert set(from_table) | set(option_table.ENGINE_ONLY) == engine_fields


def test_download_options_takes_each_setting_into_its_engine_fields(tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text("")
    changed = {
        "threads": "auto", "output": "x", "buffer": "2MiB", "chunk_size": "1MiB",
        "limit_rate": "1M", "retries": 1, "timeout": 1, "stall_timeout": 1,
        "headers": ["A: b"], "user_agent": "me/1", "insecure": True, "ca_certificate": str(pem),
        "speed_limit": 0, "speed_time": 1, "accept_html": True,
    }  # fmt: skip
    assert set(changed) == {o.name for o in OPTIONS if o.engine}
    built_in = Settings().download_options()
    for option in OPTIONS:
        if option.engine:
            options = Settings(**{option.name: changed[option.name]}).download_options()
            moved = {n for n in option.engine if getattr(options, n) != getattr(built_in, n)}
            assert moved == set(option.engine), option.name
            # download_options is derived: a setting touches its declared fields only
            others = {
                f.name
                for f in dataclasses.fields(DownloadOptions)
                if f.name not in option.engine
                and getattr(options, f.name) != getattr(built_in, f.name)
            }
            assert others == set(), option.name
    for option in OPTIONS:
        setting = Settings(**{option.name: changed[option.name]}) if option.engine else None
        value = getattr(setting or Settings(), option.name)
        assert set(option.engine_values(value)) == set(option.engine), option.name


def test_every_option_is_on_the_command_line_with_its_flags() -> None:
    from hydra_tui.cli.args import build_parser

    dest_of = {flag: a.dest for a in build_parser()._actions for flag in a.option_strings}
    for option in OPTIONS:
        flags = [*option.flags, *option.negation[:1]] if option.negation else option.flags
        assert {dest_of[flag] for flag in flags} == {option.name}, option.name


def test_help_order_moves_only_what_it_names() -> None:
    names = [o.name for o in option_table.cli_order()]
    assert sorted(names) == sorted(option_table.FIELD_NAMES)
    for option in OPTIONS:
        if option.cli_after is not None:
            assert names.index(option.name) == names.index(option.cli_after) + 1


def test_a_preset_saved_from_the_tui_holds_only_settings() -> None:
    # preset_values is derived from the table (tests/config/test_preset_values.py); the
    # TUI's launcher still exports it
    from hydra_tui.cli.tui_launch import preset_values

    options = dataclasses.replace(
        DownloadOptions(), auto_threads=True, limit_rate=1, buffer=1 << 20, chunk_size=4096,
        headers=(("A", "b"),), user_agent="me/1", speed_limit=0, speed_time=1.0,
        accept_html=True,
    )  # fmt: skip
    assert set(preset_values(options)) <= set(option_table.FIELD_NAMES)
