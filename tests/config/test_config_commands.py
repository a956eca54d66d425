from __future__ import annotations

import io
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from hydra_tui.cli import config_commands as commands
from hydra_tui.cli.args import parse
from hydra_tui.config import option_table, presets
from hydra_tui.config.model import Settings
from hydra_tui.config.starter import STARTER_CONFIG
from hydra_tui.errors import ConfigError, HydraError

WriteConfig = Callable[..., Path]


def run(*argv: str) -> str:
    out = io.StringIO()
    assert commands.run(parse(["config", *argv]), out) == 0
    return out.getvalue()


def test_path_prints_config_toml(xdg: Path) -> None:
    assert run("path") == f"{xdg / 'config.toml'}\n"
    assert not xdg.exists()


def test_path_honours_config_option(tmp_path: Path, xdg: Path) -> None:
    assert run("path", "--config", str(tmp_path / "x.toml")) == f"{tmp_path / 'x.toml'}\n"


def test_init_writes_a_starter_that_parses_and_changes_nothing(xdg: Path) -> None:
    assert run("init") == f"wrote {xdg / 'config.toml'}\n"
    text = (xdg / "config.toml").read_text(encoding="utf-8")
    assert text == STARTER_CONFIG
    assert tomllib.loads(text) == {"defaults": {}}
    settings, _ = presets.resolve({}, preset=None, config_file=None)
    assert settings == Settings()


def test_init_refuses_to_overwrite(xdg: Path) -> None:
    xdg.mkdir(parents=True)
    (xdg / "config.toml").write_text("# mine\n", encoding="utf-8")
    with pytest.raises(HydraError, match="already exists; not overwriting"):
        run("init")
    assert (xdg / "config.toml").read_text(encoding="utf-8") == "# mine\n"


def test_starter_documents_every_key() -> None:
    for name in option_table.FIELD_NAMES:
        key = name.replace("_", "-")
        assert re.search(rf"^# {re.escape(key)} = ", STARTER_CONFIG, re.MULTILINE), key


def test_starter_examples_are_valid_when_uncommented(tmp_path: Path, xdg: Path) -> None:
    # uncomment every example line (keys and the [presets.genomics] header)
    text = re.sub(r"^# (\[|[a-z-]+ = )", r"\1", STARTER_CONFIG, flags=re.MULTILINE)
    path = tmp_path / "uncommented.toml"
    path.write_text(text, encoding="utf-8")
    loaded = presets.load_config(path)
    assert loaded.defaults is not None
    assert set(loaded.defaults.values) == set(option_table.FIELD_NAMES)
    settings, _ = presets.resolve({}, preset=None, config_file=path)
    # the examples show the built-in values, except headers' illustration
    assert settings == Settings(headers=(("X-Token", "abc"),))
    assert "genomics" in loaded.presets


def test_show_reports_values_and_sources(write_config: WriteConfig, xdg: Path) -> None:
    path = write_config("[defaults]\nretries = 7\n[presets.fast]\nthreads = 32\n")
    output = run("show", "--preset", "fast", "-j", "6")
    lines = {line.split()[0]: line for line in output.splitlines() if line.strip()}
    assert lines["threads"].split()[1] == "32"
    assert lines["threads"].endswith(f"preset fast ({path})")
    assert lines["retries"].endswith(f"defaults ({path})")
    assert lines["max-downloads"].endswith("command line")
    assert lines["timeout"].endswith("built-in")
    assert "using preset  fast" in output
    assert "presets       fast" in output


def test_show_with_broken_config_raises_config_error(write_config: WriteConfig) -> None:
    write_config("[defaults]\nthreads = 0\n")
    with pytest.raises(ConfigError, match="threads must be between 1 and 1024"):
        run("show")


def test_save_preset_from_the_command_line(write_config: WriteConfig, xdg: Path) -> None:
    config = write_config("[presets.genomics]\nthreads = 2\n")
    before = config.read_bytes()
    output = run("save-preset", "genomics", "-t", "32", "-H", "X-A: 1", "--limit-rate", "5M")
    assert output.startswith(f"saved preset genomics in {xdg / 'presets.toml'}\n")
    assert "also defines [presets.genomics]" in output
    assert config.read_bytes() == before
    settings, _ = presets.resolve({}, preset="genomics", config_file=None)
    assert (settings.threads, settings.headers, settings.limit_rate) == (
        32,
        (("X-A", "1"),),
        5 * 1024 * 1024,
    )
