"""``hydra-tui config path|init|show|save-preset``.

Each command takes the parsed arguments and the stream for its normal output (stdout)
and returns an exit code; failures raise ``HydraError`` subclasses, which the CLI prints
as one line on stderr. Output is plain text so it can be piped (``$EDITOR "$(hydra-tui
config path)"``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from hydra_tui.config import fields, locations, option_table, presets
from hydra_tui.config.starter import STARTER_CONFIG
from hydra_tui.errors import HydraError, LocalIOError, UsageError

if TYPE_CHECKING:
    from hydra_tui.cli.args import ParsedArgs

__all__ = ["config_init", "config_path", "config_save_preset", "config_show", "run"]


def _config_file(args: ParsedArgs) -> Path:
    return args.config_file if args.config_file is not None else locations.config_file()


def config_path(args: ParsedArgs, out: TextIO) -> int:
    """Print the config.toml path (whether or not it exists yet)."""
    out.write(f"{_config_file(args)}\n")
    return 0


def config_init(args: ParsedArgs, out: TextIO) -> int:
    """Write the commented starter config; never overwrite an existing file."""
    path = _config_file(args)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": fail if it exists
            handle.write(STARTER_CONFIG)
    except FileExistsError:
        raise HydraError(f"{path} already exists; not overwriting it") from None
    except OSError as exc:
        raise LocalIOError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    out.write(f"wrote {path}\n")
    return 0


def config_show(args: ParsedArgs, out: TextIO) -> int:
    """Print the effective settings and the layer each one came from."""
    loaded = presets.load_config(args.config_file)
    settings, sources = presets.resolve_loaded(loaded, args.cli, preset=args.preset)

    def exists(path: Path) -> str:
        return "" if path.is_file() else "  (not found)"

    out.write(f"config file   {loaded.config_file}{exists(loaded.config_file)}\n")
    out.write(f"presets file  {loaded.presets_file}{exists(loaded.presets_file)}\n")
    names = ", ".join(sorted(loaded.presets)) or "(none)"
    out.write(f"presets       {names}\n")
    if args.preset is not None:
        out.write(f"using preset  {args.preset}\n")
    out.write("\n")
    rows = [
        (name.replace("_", "-"), presets.format_value(name, getattr(settings, name)), sources[name])
        for name in option_table.FIELD_NAMES
    ]
    key_width = max(len(key) for key, _, _ in rows)
    value_width = min(40, max(len(value) for _, value, _ in rows))
    for key, value, source in rows:
        out.write(f"{key:<{key_width}}  {value:<{value_width}}  {source}\n")
    return 0


def config_save_preset(args: ParsedArgs, out: TextIO) -> int:
    """Save the options given on this command line into a preset in presets.toml.

    An existing preset keeps its other keys (``--replace`` starts it afresh); the keys
    that changed are listed.
    """
    if args.preset_name is None:
        raise UsageError("config save-preset needs a preset NAME")
    loaded = presets.load_config(args.config_file)
    before = {} if args.replace_preset else presets.saved_preset(args.preset_name)
    given = {key.replace("_", "-"): value for key, value in args.cli.items()}
    old = {key: presets.to_toml_value(fields.normalize_key(key), value)
           for key, value in before.items()}  # fmt: skip
    new = {key: presets.to_toml_value(fields.normalize_key(key), value)
           for key, value in given.items()}  # fmt: skip
    path = presets.save_preset(args.preset_name, {**before, **given})
    verb = "replaced" if args.replace_preset else "saved"
    out.write(f"{verb} preset {args.preset_name} in {path}\n")
    for key, value in new.items():
        if key not in old:
            out.write(f"  added    {key} = {_toml(value)}\n")
        elif old[key] != value:
            out.write(f"  changed  {key} = {_toml(old[key])} -> {_toml(value)}\n")
    kept = [key for key in old if key not in new]
    if kept:
        out.write(f"  kept     {', '.join(kept)} (--replace drops them)\n")
    if args.preset_name in loaded.config_presets:
        out.write(
            f"note: {loaded.config_file} also defines [presets.{args.preset_name}]; "
            "the saved one takes precedence\n"
        )
    return 0


def _toml(value: object) -> str:
    """A value as TOML writes it (``"50M"``, ``32``, ``{ X-Token = "abc" }``)."""
    import tomli_w

    return tomli_w.dumps({"v": value}).strip().removeprefix("v = ")


_COMMANDS: dict[str, Callable[[ParsedArgs, TextIO], int]] = {
    "path": config_path,
    "init": config_init,
    "show": config_show,
    "save-preset": config_save_preset,
}


def run(args: ParsedArgs, out: TextIO) -> int:
    """Dispatch ``hydra-tui config ACTION``."""
    if args.config_action not in _COMMANDS:
        raise UsageError(f"config needs one of: {', '.join(_COMMANDS)}")
    return _COMMANDS[args.config_action](args, out)
