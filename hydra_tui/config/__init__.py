"""Settings from files: where they live, what they hold, how layers combine.

Nothing is imported here so that ``hydra_tui.cli.args`` (and with it ``--version``) can use
``hydra_tui.config.fields`` without loading the engine or the TOML machinery.

::

    locations.py     platformdirs paths (config.toml, presets.toml, state, log)
    fields.py        raw value -> checked value, shared by the command line and the files
    option_table.py  every setting declared once: key, flags, checker, help, starter text
    model.py         Settings (frozen dataclass), its DownloadOptions bridge and back
    presets.py       read config.toml/presets.toml, resolve precedence, save presets
    starter.py       the commented config.toml written by ``config init``
    commands.py      ``hydra-tui config path|init|show|save-preset``
"""
