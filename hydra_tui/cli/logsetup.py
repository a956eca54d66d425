"""Logging: a rotating log file that is always on, and warnings on stderr unless ``-q``.

The file is the record to read after a failed night-long download, so ``-q`` silences
only the terminal. Errors themselves are printed by the CLI (one line), not by a
handler. If the log folder cannot be created the program goes on without a file: a
read-only home must not stop a download. Nothing is ever written to the current folder.
Handlers go on the ``hydra_tui`` logger; records still propagate (pytest's caplog works).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import IO, Any

from hydra_tui.config import locations
from hydra_tui.engine.http.urls import redact_text
from hydra_tui.engine.io.private import private_dir, private_file

__all__ = ["LOGGER_NAME", "LOG_FILE_NAME", "close_logging", "setup_logging", "use_color"]

LOGGER_NAME = "hydra_tui"
LOG_FILE_NAME = "hydra-tui.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 3
_OURS = "_hydra_tui_handler"
_COLORS = {"WARNING": "33", "ERROR": "31", "CRITICAL": "31", "INFO": "2", "DEBUG": "2"}


def use_color(stream: IO[Any]) -> bool:
    """ANSI colours only on a terminal, never with ``NO_COLOR`` set (no-color.org) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class _ConsoleHandler(logging.StreamHandler[IO[Any]]):
    """Writes to the *current* ``sys.stderr``, so Textual's and pytest's capture see it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)

    #: ``--progress=jsonl``: each record is one JSON object (``{"event": "warning", …}``)
    jsonl = False

    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        if self.jsonl:
            from hydra_tui.cli.progress import json_line

            return json_line(level, message=record.getMessage()).rstrip("\n")
        if use_color(self.stream):
            level = f"\x1b[{_COLORS.get(record.levelname, '0')}m{level}\x1b[0m"
        return f"hydra-tui: {level}: {record.getMessage()}"


def close_logging() -> None:
    """Remove and close the handlers ``setup_logging`` added (tests, re-configuration)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, _OURS, False):
            logger.removeHandler(handler)
            handler.close()


class _Redact(logging.Filter):
    """Passwords in URLs (``user:***@``) never reach the terminal or the log file,
    whichever module logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "@" in message:
            redacted = redact_text(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_REDACT = _Redact()


def _file_handler(folder: Path, level: int) -> logging.Handler | None:
    try:
        private_dir(folder)  # 0700: URLs and paths are nobody else's business
        private_file(folder / LOG_FILE_NAME)
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE_NAME, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setLevel(level)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)-7s %(name)s: %(message)s")
    )
    return handler


def setup_logging(
    *, quiet: bool, verbose: bool = False, log_dir: Path | None = None, jsonl: bool = False
) -> Path | None:
    """Install the file and console handlers; return the log file path, or None without one.

    Safe to call again (handlers are replaced, not added twice). ``verbose`` lowers both
    levels by one step (file DEBUG, console INFO). ``jsonl`` writes console records as
    JSON lines, so that every stderr line of ``--progress=jsonl`` is JSON.
    """
    close_logging()
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)

    handlers: list[logging.Handler] = []
    if not quiet:
        console = _ConsoleHandler()
        console.jsonl = jsonl
        console.setLevel(logging.INFO if verbose else logging.WARNING)
        handlers.append(console)
    folder = log_dir if log_dir is not None else locations.log_dir()
    file_handler = _file_handler(folder, logging.DEBUG if verbose else logging.INFO)
    if file_handler is not None:
        handlers.append(file_handler)
    if not handlers:
        # without any handler, logging's "last resort" would print warnings to stderr
        handlers.append(logging.NullHandler())
    for handler in handlers:
        setattr(handler, _OURS, True)
        handler.addFilter(_REDACT)
        logger.addHandler(handler)
    return folder / LOG_FILE_NAME if file_handler is not None else None
