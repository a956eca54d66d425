from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hydra_tui.config import presets
from hydra_tui.config.model import Settings
from hydra_tui.errors import ConfigError, UsageError

MIB = 1024 * 1024
WriteConfig = Callable[..., Path]

FOUR_LEVELS = """
    [defaults]
    threads = 4
    retries = 7
    max-downloads = 2
    headers = { "X-Token" = "abc", "Accept" = "*/*" }

    [presets.genomics]
    threads = 32
    buffer = "64MiB"
    headers = ["X-Token: genomics"]
"""


def test_precedence_all_four_levels(write_config: WriteConfig) -> None:
    path = write_config(FOUR_LEVELS)
    cli = {"threads": 64, "headers": (("Accept", ""),)}
    settings, sources = presets.resolve(cli, preset="genomics", config_file=None)

    assert settings.threads == 64  # command line beats preset and defaults
    assert settings.buffer == 64 * MIB  # preset beats built-in
    assert settings.retries == 7  # defaults beat built-in
    assert settings.max_downloads == 2
    assert settings.timeout == 15.0  # built-in
    # headers merge by name: the preset replaces X-Token, the command line deletes Accept
    assert settings.headers == (("X-Token", "genomics"),)

    assert sources["threads"] == "command line"
    assert sources["buffer"] == f"preset genomics ({path})"
    assert sources["retries"] == f"defaults ({path})"
    assert sources["timeout"] == "built-in"
    assert sources["headers"] == (f"command line + preset genomics ({path}) + defaults ({path})")


def test_without_preset_or_cli_defaults_apply(write_config: WriteConfig) -> None:
    write_config(FOUR_LEVELS)
    settings, sources = presets.resolve({}, preset=None, config_file=None)
    assert settings.threads == 4
    assert settings.headers == (("X-Token", "abc"), ("Accept", "*/*"))
    assert sources["threads"].startswith("defaults (")


def test_no_files_gives_built_in(xdg: Path) -> None:
    settings, sources = presets.resolve({}, preset=None, config_file=None)
    assert settings == Settings()
    assert set(sources.values()) == {"built-in"}


def test_keys_accept_dash_or_underscore(write_config: WriteConfig) -> None:
    write_config("""
        [defaults]
        max_downloads = 3
        stall-timeout = 9
        limit_rate = "1M/s"
        no-ui = true
    """)
    settings, _ = presets.resolve({"max-downloads": 5}, preset=None, config_file=None)
    assert settings.max_downloads == 5
    assert settings.stall_timeout == 9.0
    assert settings.limit_rate == MIB
    assert settings.no_ui is True


def test_preset_can_lift_a_default_limit(write_config: WriteConfig) -> None:
    write_config("""
        [defaults]
        limit-rate = "1M"
        buffer = "16M"
        [presets.fast]
        limit-rate = "unlimited"
        buffer = "auto"
    """)
    settings, _ = presets.resolve({}, preset="fast", config_file=None)
    assert settings.limit_rate is None
    assert settings.buffer is None


def test_explicit_config_file(tmp_path: Path, xdg: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[defaults]\nretries = 1\n", encoding="utf-8")
    settings, sources = presets.resolve({}, preset=None, config_file=other)
    assert settings.retries == 1
    assert sources["retries"] == f"defaults ({other})"


def test_presets_file_wins_over_config_file_for_the_same_name(
    write_config: WriteConfig, xdg: Path
) -> None:
    write_config("[presets.same]\nthreads = 2\nretries = 9\n")
    saved = presets.save_preset("same", {"threads": 3})
    settings, sources = presets.resolve({}, preset="same", config_file=None)
    assert settings.threads == 3
    assert settings.retries == 5  # whole-table replacement, no key merge
    assert sources["threads"] == f"preset same ({saved})"


# --- saving presets ---------------------------------------------------------------------


def test_save_then_resolve_round_trip(write_config: WriteConfig, xdg: Path) -> None:
    config = write_config("# my notes\n[defaults]\nretries = 8 # keep\n")
    before = config.read_bytes()
    values: dict[str, Any] = {
        "threads": "auto",
        "output": "~/data/genomics",
        "buffer": "96MiB",
        "chunk_size": 5 * MIB + 3,
        "limit-rate": "2.5M",
        "timeout": 2.5,
        "headers": ["X-Token: abc", "Cookie: a=1", "Cookie: b=2"],
        "user_agent": "me/1.0",
        "insecure": True,
        "progress": "jsonl",
        "max_downloads": 9,
        "quiet": True,
        "no_ui": False,
    }
    path = presets.save_preset("genomics", values)
    assert path == xdg / "presets.toml"
    assert config.read_bytes() == before  # config.toml is never rewritten

    settings, _ = presets.resolve({}, preset="genomics", config_file=None)
    normalized = {key.replace("-", "_"): value for key, value in values.items()}
    expected = Settings(retries=8, **normalized)
    assert settings == expected
    assert sorted(p.name for p in xdg.iterdir()) == ["config.toml", "presets.toml"]  # no temp


def test_save_keeps_other_presets_and_replaces_same_name(xdg: Path) -> None:
    presets.save_preset("a", {"threads": 2})
    presets.save_preset("b", {"threads": 3, "retries": 1})
    presets.save_preset("b", {"threads": 4})
    loaded = presets.load_config()
    assert loaded.presets["a"].values == {"threads": 2}
    assert loaded.presets["b"].values == {"threads": 4}


def test_save_refuses_to_overwrite_a_broken_presets_file(xdg: Path) -> None:
    xdg.mkdir(parents=True)
    broken = xdg / "presets.toml"
    broken.write_text("[presets.x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"presets\.toml: TOML syntax error"):
        presets.save_preset("y", {"threads": 2})
    assert broken.read_text(encoding="utf-8") == "[presets.x\n"


@pytest.mark.parametrize("name", ["", "-x", "has space", "a.b", "x" * 65])
def test_save_rejects_bad_names(xdg: Path, name: str) -> None:
    with pytest.raises(UsageError, match="preset name"):
        presets.save_preset(name, {"threads": 2})


def test_save_rejects_empty_and_unknown(xdg: Path) -> None:
    with pytest.raises(UsageError, match="would be empty"):
        presets.save_preset("x", {})
    with pytest.raises(UsageError, match="did you mean 'threads'"):
        presets.save_preset("x", {"thread": 2})
    with pytest.raises(UsageError, match="threads must be between 1 and 1024"):
        presets.save_preset("x", {"threads": 0})
    assert not (xdg / "presets.toml").exists()


def test_delete_preset(xdg: Path) -> None:
    presets.save_preset("a", {"threads": 2})
    assert presets.delete_preset("a") is True
    assert presets.delete_preset("a") is False
    assert presets.load_config().presets == {}


# --- errors: one line, naming the file and the key -------------------------------------


def _error(config: Path | None = None, preset: str | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        presets.resolve({}, preset=preset, config_file=config)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_syntax_error_names_file_and_line(write_config: WriteConfig) -> None:
    path = write_config("[defaults]\nthreads = 4\nretries = = 3\n")
    message = _error()
    assert message.startswith(f"{path}: TOML syntax error")
    assert "line 3" in message


def test_unknown_key_suggests(write_config: WriteConfig) -> None:
    path = write_config("[defaults]\nmax-download = 3\n")
    message = _error()
    assert message == (
        f"{path}: [defaults] unknown key 'max-download' (did you mean 'max-downloads'?)"
    )


def test_unknown_key_without_close_match_lists_keys(write_config: WriteConfig) -> None:
    write_config("[presets.x]\nzzz = 3\n")
    message = _error(preset="x")
    assert "[presets.x] unknown key 'zzz' (known keys: threads, output" in message


def test_same_key_twice_in_two_spellings(write_config: WriteConfig) -> None:
    write_config("[defaults]\nmax-downloads = 3\nmax_downloads = 4\n")
    assert "'max_downloads' and 'max-downloads' are the same key" in _error()


def test_wrong_type(write_config: WriteConfig) -> None:
    path = write_config('[defaults]\nthreads = "eight"\n')
    assert _error() == (
        f'{path}: [defaults] threads: threads must be an integer or "auto", got "eight"'
    )


def test_out_of_range_in_a_preset(write_config: WriteConfig) -> None:
    path = write_config("[presets.big]\nthreads = 100000\n")
    assert _error() == (
        f"{path}: [presets.big] threads: threads must be between 1 and 1024, got 100000"
    )


def test_bad_size_string(write_config: WriteConfig) -> None:
    path = write_config('[defaults]\nbuffer = "12QB"\n')
    message = _error()
    assert message.startswith(f"{path}: [defaults] buffer: buffer is invalid: '12QB'")
    assert "unknown unit" in message


def test_setting_outside_a_table(write_config: WriteConfig) -> None:
    write_config("threads = 4\n")
    assert "key 'threads' must be inside a table: [defaults] or [presets.NAME]" in _error()


def test_unknown_table_suggests(write_config: WriteConfig) -> None:
    write_config("[default]\nthreads = 4\n")
    assert "unknown table or key 'default' (did you mean [defaults]?)" in _error()


def test_preset_that_is_not_a_table(write_config: WriteConfig) -> None:
    write_config("[presets]\nfast = 3\n")
    assert "presets.fast must be a table [presets.fast], got 3" in _error()


def test_unknown_preset_lists_known_ones(write_config: WriteConfig, xdg: Path) -> None:
    write_config("[presets.genomics]\nthreads = 3\n[presets.fast]\nthreads = 9\n")
    presets.save_preset("slow", {"threads": 1})
    message = _error(preset="genomic")
    assert "unknown preset 'genomic'" in message
    assert "did you mean 'genomics'?" in message
    assert "known: fast, genomics, slow" in message
    assert str(xdg / "config.toml") in message


def test_unknown_preset_when_none_exist(xdg: Path) -> None:
    assert "unknown preset 'x': no presets are defined" in _error(preset="x")


def test_missing_explicit_config_file(tmp_path: Path, xdg: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert _error(config=missing) == f"{missing}: config file not found"


def test_config_path_is_a_folder(tmp_path: Path, xdg: Path) -> None:
    assert _error(config=tmp_path).startswith(f"{tmp_path}: cannot read")


def test_not_utf8(write_config: WriteConfig) -> None:
    path = write_config("")
    path.write_bytes(b'[defaults]\nuser-agent = "\xff"\n')
    assert _error().startswith(f"{path}: not UTF-8 text")


def test_unknown_cli_key_is_reported(xdg: Path) -> None:
    with pytest.raises(UsageError, match="not a setting: 'md5'"):
        presets.resolve({"md5": "x"}, preset=None, config_file=None)


def test_format_value_examples() -> None:
    fmt = presets.format_value
    assert fmt("buffer", 64 * MIB) == "64MiB"
    assert fmt("buffer", None) == "auto"
    assert fmt("limit_rate", 5 * MIB) == "5MiB/s"
    assert fmt("limit_rate", None) == "unlimited"
    assert fmt("timeout", 15.0) == "15s"
    assert fmt("insecure", True) == "true"
    assert fmt("headers", (("A", "1"), ("B", "2"))) == "A: 1, B: 2"
    assert fmt("user_agent", None).endswith("(default)")


def test_keys_are_case_sensitive_like_toml(write_config: WriteConfig) -> None:
    write_config("[defaults]\nThreads = 3\n")
    assert "unknown key 'Threads' (did you mean 'threads'?)" in _error()
