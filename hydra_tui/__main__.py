"""``python -m hydra_tui``: the same entry point as the ``hydra-tui`` script."""

from hydra_tui.cli import main

raise SystemExit(main())
