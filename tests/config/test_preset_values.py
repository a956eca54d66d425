"""A preset saved from a download (the TUI's ``s``) is derived from the option table:
each option reads itself back from ``DownloadOptions`` and declares whether it is saved.
Saved and resolved again through presets.toml, it gives the download's options back,
except what is never saved (``insecure``, ``ca_certificate``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from hydra_tui.config import option_table, presets
from hydra_tui.config.model import Settings, preset_values
from hydra_tui.engine.options import DownloadOptions, default_user_agent

ENGINE_OPTIONS = [o for o in option_table.OPTIONS if o.engine]
SAVED = [o for o in ENGINE_OPTIONS if o.in_preset != "never"]
NEVER_SAVED = {"insecure", "ca_certificate"}

#: Settings keyword arguments; "{pem}" becomes a CA file that exists
VARIETY: list[dict[str, Any]] = [
    {},
    {"threads": 1, "output": "downloads"},
    {"threads": "auto", "limit_rate": "5M", "headers": ["X-Token: abc"]},
    {
        "threads": 24, "output": "~/data/genomes", "buffer": "96MiB", "chunk_size": 5 << 20,
        "limit_rate": "2.5M", "retries": 0, "timeout": 2.5, "stall_timeout": 9,
        "headers": ["Cookie: a=1", "Cookie: b=2", "Accept: */*"], "user_agent": "me/1.0",
        "speed_limit": 0, "speed_time": 5, "accept_html": True,
    },
    {"speed_limit": "4K", "user_agent": "", "insecure": True, "ca_certificate": "{pem}"},
    {"threads": 3, "user_agent": default_user_agent(), "accept_html": True},
]  # fmt: skip


def _settings(given: dict[str, Any], pem: Path) -> Settings:
    return Settings(**{k: str(pem) if v == "{pem}" else v for k, v in given.items()})


@pytest.mark.parametrize("given", VARIETY)
def test_a_saved_preset_resolves_to_the_same_download_options(
    given: dict[str, Any], xdg: Path, tmp_path: Path
) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text("")
    original = _settings(given, pem).download_options()
    presets.save_preset("roundtrip", preset_values(original))
    resolved, _ = presets.resolve({}, preset="roundtrip", config_file=None)
    again = resolved.download_options()
    for option in SAVED:
        for name in option.engine:
            assert getattr(again, name) == getattr(original, name), (option.name, name)
    built_in = Settings().download_options()
    for option in ENGINE_OPTIONS:
        if option.in_preset == "never":
            for name in option.engine:
                assert getattr(again, name) == getattr(built_in, name), (option.name, name)


@pytest.mark.parametrize("given", VARIETY)
def test_each_option_reads_its_setting_back_from_download_options(
    given: dict[str, Any], tmp_path: Path
) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text("")
    options = _settings(given, pem).download_options()
    for option in ENGINE_OPTIONS:
        # the setting read back makes the same engine fields (not always the same
        # setting: user_agent "hydra-tui/<version>" and None send one header)
        read = Settings(**{option.name: option.setting_of(options)}).download_options()
        for name in option.engine:
            assert getattr(read, name) == getattr(options, name), (option.name, name)


def test_every_option_with_engine_fields_declares_how_it_goes_into_a_preset() -> None:
    # a new option fails here until someone decides: always, set, changed or never
    undecided = [o.name for o in ENGINE_OPTIONS if o.in_preset is None]
    assert undecided == []
    # a setting a download does not hold cannot be read back from one
    assert [o.name for o in option_table.OPTIONS if not o.engine and o.in_preset] == []
    # several engine fields make one setting only through an explicit reader
    assert [o.name for o in ENGINE_OPTIONS if len(o.engine) > 1 and not o.from_engine] == []


def test_verification_settings_are_never_saved(tmp_path: Path) -> None:
    never = {o.name for o in option_table.OPTIONS if o.in_preset == "never"}
    assert never == NEVER_SAVED
    pem = tmp_path / "ca.pem"
    pem.write_text("")
    options = Settings(insecure=True, ca_certificate=pem).download_options()
    assert not options.verify_tls
    assert not set(preset_values(options)) & NEVER_SAVED
    raw = dataclasses.replace(DownloadOptions(), verify_tls=False, ca_file=pem)
    assert not set(preset_values(raw)) & NEVER_SAVED


def test_which_keys_are_saved() -> None:
    always = ["threads", "output", "retries", "timeout", "stall_timeout"]
    assert sorted(preset_values(DownloadOptions())) == sorted(always)
    assert sorted(preset_values(Settings().download_options())) == sorted(always)
    changed = Settings(
        threads="auto", buffer="2MiB", chunk_size="1MiB", limit_rate="1M", headers=["A: b"],
        user_agent="me/1", speed_limit=0, speed_time=1, accept_html=True, insecure=True,
    ).download_options()  # fmt: skip
    assert list(preset_values(changed)) == [
        o.name for o in option_table.OPTIONS if o.name not in NEVER_SAVED and o.engine
    ]  # every saved option, in table order


def test_values_are_as_a_preset_writes_them() -> None:
    options = dataclasses.replace(
        DownloadOptions(), threads=16, auto_threads=True, output_dir=Path("/data"),
        headers=(("A", "b"), ("A", "c")), user_agent=default_user_agent(),
    )  # fmt: skip
    values = preset_values(options)
    assert values["threads"] == "auto"
    assert values["output"] == "/data"
    assert values["headers"] == ["A: b", "A: c"]
    assert "user_agent" not in values  # the default User-Agent is not a choice to keep
