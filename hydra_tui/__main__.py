"""``python -m hydra_tui``: the same entry point as the ``hydra-tui`` script."""

from hydra_tui.cli.main import main

if __name__ == "__main__":  # not when the engine's process (spawn) imports this module
    raise SystemExit(main())
