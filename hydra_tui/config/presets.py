"""Read ``config.toml`` and ``presets.toml``, layer them under the command line, save presets.

Precedence, highest first: command line > ``--preset NAME`` > ``[defaults]`` > built-in.
``headers`` is the one field that merges instead of replacing: a name given by a higher
layer replaces that name from the lower layers, and an empty value (``-H "X-Token:"``)
deletes it, as curl does with ``.curlrc``.

Two files, two owners. ``config.toml`` is the user's: it is only ever read (``tomllib``),
so its comments survive. ``presets.toml`` is the app's: ``save_preset`` rewrites it with
``tomli_w`` (temp file + ``os.replace``), so a crash leaves the old or the new file, never
half of one. A preset may live in either file; when both define the same name, the one
in ``presets.toml`` wins as a whole (no key-by-key merge), because it is the more recent,
explicit "save this" — ``config show`` names the file each value came from.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from hydra_tui.config import fields, locations, option_table
from hydra_tui.config.model import Settings
from hydra_tui.engine.options import default_user_agent
from hydra_tui.errors import ConfigError, LocalIOError, UsageError

__all__ = [
    "COMMAND_LINE",
    "Layer",
    "LoadedConfig",
    "apply_layers",
    "delete_preset",
    "format_value",
    "load_config",
    "resolve",
    "resolve_loaded",
    "save_preset",
    "to_toml_value",
]

COMMAND_LINE = "command line"
BUILT_IN = "built-in"
_PRESET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_PRESETS_HEADER = (
    "# hydra-tui presets, written by `hydra-tui config save-preset` and the TUI.\n"
    "# Edits are kept but comments are not: keep hand-written presets in config.toml.\n\n"
)


@dataclass(frozen=True, slots=True)
class Layer:
    """One table of checked values and the words ``config show`` uses for its origin."""

    label: str
    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """Both files, parsed and checked; missing files are simply empty."""

    config_file: Path
    presets_file: Path
    defaults: Layer | None
    presets: Mapping[str, Layer]
    #: names defined in config.toml (some may be shadowed by presets.toml)
    config_presets: frozenset[str] = frozenset()

    def preset(self, name: str) -> Layer:
        """The named preset, or a one-line ConfigError listing the known ones."""
        if name in self.presets:
            return self.presets[name]
        where = f"looked in {self.config_file} and {self.presets_file}"
        if not self.presets:
            raise ConfigError(f"unknown preset {name!r}: no presets are defined ({where})")
        close = difflib.get_close_matches(name, list(self.presets), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = ", ".join(sorted(self.presets))
        raise ConfigError(f"unknown preset {name!r} ({hint}known: {known}; {where})")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read_toml(path: Path, *, required: bool) -> dict[str, Any] | None:
    """Parse a TOML file; None if it is absent and optional."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: config file not found") from None
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)"
        raise ConfigError(f"{path}: TOML syntax error: {_one_line(str(exc))}") from exc


def _suggest(key: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(fields.normalize_key(key), choices, n=1, cutoff=0.6)
    if close:
        best = close[0].replace("_", "-") if "-" in key else close[0]
        return f" (did you mean {best!r}?)"
    return f" (known keys: {', '.join(choices)})"


def _check_table(path: Path, label: str, raw: Mapping[str, Any]) -> dict[str, object]:
    """Check one settings table; errors name the file, the table and the key."""
    values: dict[str, object] = {}
    spelled: dict[str, str] = {}
    for key, value in raw.items():
        name = fields.normalize_key(key)
        if name not in option_table.COERCERS:
            raise ConfigError(
                f"{path}: [{label}] unknown key {key!r}{_suggest(key, option_table.FIELD_NAMES)}"
            )
        if name in values:
            raise ConfigError(f"{path}: [{label}] {key!r} and {spelled[name]!r} are the same key")
        try:
            values[name] = option_table.coerce(name, value)
        except UsageError as exc:
            raise ConfigError(f"{path}: [{label}] {key}: {_one_line(str(exc))}") from None
        spelled[name] = key
    return values


def _check_presets(path: Path, raw: object) -> dict[str, Layer]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'presets' must be tables like [presets.NAME]")
    layers: dict[str, Layer] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"{path}: presets.{name} must be a table [presets.{name}], got {fields.show(table)}"
            )
        label = f"presets.{name}"
        layers[name] = Layer(f"preset {name} ({path})", _check_table(path, label, table))
    return layers


def _check_top_level(path: Path, doc: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in doc:
        if key in allowed:
            continue
        if fields.normalize_key(key) in option_table.COERCERS:
            where = " or ".join(f"[{a}]" if a == "defaults" else "[presets.NAME]" for a in allowed)
            raise ConfigError(f"{path}: key {key!r} must be inside a table: {where}")
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean [{close[0]}]?)" if close else ""
        raise ConfigError(f"{path}: unknown table or key {key!r}{hint}")


def load_config(
    config_file: Path | None = None, *, presets_file: Path | None = None
) -> LoadedConfig:
    """Read both files; an explicit ``config_file`` (``--config``) must exist."""
    config_path = config_file if config_file is not None else locations.config_file()
    presets_path = presets_file if presets_file is not None else locations.presets_file()
    defaults: Layer | None = None
    presets: dict[str, Layer] = {}

    doc = _read_toml(config_path, required=config_file is not None)
    config_presets: frozenset[str] = frozenset()
    if doc is not None:
        _check_top_level(config_path, doc, ("defaults", "presets"))
        if "defaults" in doc:
            if not isinstance(doc["defaults"], dict):
                raise ConfigError(f"{config_path}: 'defaults' must be a table [defaults]")
            values = _check_table(config_path, "defaults", doc["defaults"])
            defaults = Layer(f"defaults ({config_path})", values)
        presets.update(_check_presets(config_path, doc.get("presets", {})))
    config_presets = frozenset(presets)

    saved = _read_toml(presets_path, required=False)
    if saved is not None:
        _check_top_level(presets_path, saved, ("presets",))
        presets.update(_check_presets(presets_path, saved.get("presets", {})))
    return LoadedConfig(config_path, presets_path, defaults, presets, config_presets)


def apply_layers(layers: Iterable[Layer]) -> tuple[Settings, dict[str, str]]:
    """Stack layers (lowest first) over the built-in defaults; say where each field came from."""
    values: dict[str, Any] = {}
    sources = dict.fromkeys(option_table.FIELD_NAMES, BUILT_IN)
    headers: fields.Headers = ()
    header_sources: list[str] = []
    for layer in layers:
        for name, value in layer.values.items():
            if name == "headers":
                headers = fields.merge_headers(headers, fields.headers(value))
                header_sources.insert(0, layer.label)
            else:
                values[name] = value
                sources[name] = layer.label
    if header_sources:
        values["headers"] = headers
        sources["headers"] = " + ".join(header_sources)
    return Settings(**values), sources


def _check_values(values: Mapping[str, Any]) -> dict[str, object]:
    """Check values given by a program or the command line (field names as keys)."""
    checked: dict[str, object] = {}
    for key, value in values.items():
        name = fields.normalize_key(key)
        if name not in option_table.COERCERS:
            raise UsageError(f"not a setting: {key!r}{_suggest(key, option_table.FIELD_NAMES)}")
        checked[name] = option_table.coerce(name, value)
    return checked


def resolve(
    cli: Mapping[str, Any],
    *,
    preset: str | None,
    config_file: Path | None,
    presets_file: Path | None = None,
) -> tuple[Settings, dict[str, str]]:
    """The effective settings and, per field, the layer that set it.

    ``cli`` holds only the options the user typed (field names as keys), so that an
    option left out does not hide the preset's or the file's value.
    """
    loaded = load_config(config_file, presets_file=presets_file)
    return resolve_loaded(loaded, cli, preset=preset)


def resolve_loaded(
    loaded: LoadedConfig, cli: Mapping[str, Any], *, preset: str | None
) -> tuple[Settings, dict[str, str]]:
    """``resolve`` over files already read (the TUI keeps one ``LoadedConfig``)."""
    layers: list[Layer] = []
    if loaded.defaults is not None:
        layers.append(loaded.defaults)
    if preset is not None:
        layers.append(loaded.preset(preset))
    layers.append(Layer(COMMAND_LINE, _check_values(cli)))
    return apply_layers(layers)


def _size_text(n: int, suffix: str = "") -> str | int:
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor}{unit}{suffix}"
    return n


def to_toml_value(name: str, value: object) -> Any:
    """A checked value as written to presets.toml; it reads back to the same value."""
    if name in ("buffer", "chunk_size") and (value is None or isinstance(value, int)):
        return "auto" if value is None else _size_text(value)
    if name == "limit_rate" and (value is None or isinstance(value, int)):
        return "unlimited" if value is None else _size_text(value, "/s")
    if name in ("user_agent", "ca_certificate"):
        return str(value) if value else ""
    if name == "headers" and isinstance(value, tuple):
        return [f"{n}: {v}" for n, v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def format_value(name: str, value: object) -> str:
    """A value for ``config show``: the way one would type it."""
    shown = to_toml_value(name, value)
    if name == "headers":
        return ", ".join(shown) if shown else "(none)"
    if name == "user_agent" and not shown:
        return f"{default_user_agent()} (default)"
    if name == "ca_certificate" and not shown:
        return "(default trust roots)"
    if isinstance(shown, bool):
        return "true" if shown else "false"
    if isinstance(shown, float):
        return f"{shown:g}s"
    return str(shown)


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a torn write."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise LocalIOError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    tmp_path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp_path.replace(path)  # os.replace: atomic within one folder
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        raise LocalIOError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _load_presets_doc(path: Path) -> dict[str, Any]:
    """The raw presets.toml, checked first so a broken file is reported, not overwritten."""
    doc = _read_toml(path, required=False) or {}
    _check_top_level(path, doc, ("presets",))
    _check_presets(path, doc.get("presets", {}))
    return doc


def save_preset(name: str, values: Mapping[str, Any], *, presets_file: Path | None = None) -> Path:
    """Write preset ``name`` (replacing a preset of that name) into presets.toml.

    Other presets are kept as they were written. ``values`` uses field names as keys
    (``-`` or ``_``); values may be raw (``"64MiB"``) or already checked.
    """
    if not _PRESET_NAME_RE.match(name):
        raise UsageError(
            f"preset name {name!r} must be 1-64 letters, digits, '-' or '_', starting with "
            "a letter or digit"
        )
    if not values:
        raise UsageError(f"preset {name!r} would be empty: give at least one option to save")
    checked = _check_values(values)
    path = presets_file if presets_file is not None else locations.presets_file()
    doc = _load_presets_doc(path)
    table = {key.replace("_", "-"): to_toml_value(key, value) for key, value in checked.items()}
    doc.setdefault("presets", {})[name] = table
    _write_atomic(path, (_PRESETS_HEADER + tomli_w.dumps(doc)).encode("utf-8"))
    return path


def saved_preset(name: str, *, presets_file: Path | None = None) -> dict[str, Any]:
    """The saved preset ``name`` as written in presets.toml (empty if there is none)."""
    path = presets_file if presets_file is not None else locations.presets_file()
    table = _load_presets_doc(path).get("presets", {}).get(name, {})
    return dict(table) if isinstance(table, dict) else {}


def delete_preset(name: str, *, presets_file: Path | None = None) -> bool:
    """Remove a saved preset; False if presets.toml has none of that name."""
    path = presets_file if presets_file is not None else locations.presets_file()
    doc = _load_presets_doc(path)
    if name not in doc.get("presets", {}):
        return False
    del doc["presets"][name]
    _write_atomic(path, (_PRESETS_HEADER + tomli_w.dumps(doc)).encode("utf-8"))
    return True
