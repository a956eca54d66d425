"""The command line: arguments, the disk and stream runners, progress lines, the TUI launcher.

Kept out of ``tui/`` so ``--no-ui`` and ``--stream`` never import Textual.
"""
