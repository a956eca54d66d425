"""The tail of the log file, followed while the screen is open (like ``tail -f``)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label, Log

from hydra_tui.tui.widgets.key_bar import KeyBar

__all__ = ["TAIL_BYTES", "LogScreen", "read_tail", "short_line"]

#: how much of the end of the file to show on open
TAIL_BYTES = 64 * 1024
#: the log file's format (``logsetup``): date, time,ms, pid, level, logger: message
_LINE = re.compile(r"\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d),\d+ \d+ (\w+)\s+[\w.]+: (.*)\Z")


def short_line(line: str) -> str:
    """``08:12:36 URL: started`` for a line of the log file: on an 80-column screen the
    date, pid and logger name left no room for the message (the level stays if it is
    not INFO)."""
    match = _LINE.match(line)
    if match is None:
        return line
    clock, level, message = match.groups()
    return f"{clock} {message}" if level == "INFO" else f"{clock} {level} {message}"


def read_tail(path: Path, offset: int | None) -> tuple[list[str], int]:
    """New complete lines since ``offset`` (``None``: the last ``TAIL_BYTES``), and the
    offset to continue from. A file that shrank (rotated) is read again from its tail."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if offset is None or offset > size:
            offset = max(0, size - TAIL_BYTES)
            handle.seek(offset)
            data = handle.read()
            if offset > 0:  # drop the partial first line
                data = data.partition(b"\n")[2]
        else:
            handle.seek(offset)
            data = handle.read()
    end = data.rfind(b"\n") + 1  # keep a partial last line for the next read
    lines = data[:end].decode("utf-8", errors="replace").splitlines()
    return lines, size - (len(data) - end)


class LogScreen(Screen[None]):
    """Escape (or ``L``/``q``) goes back to the queue."""

    BINDINGS = [
        Binding("escape,L,q", "app.pop_screen", "Back"),
        Binding("home", "scroll('home')", "Top", show=False),
        Binding("end", "scroll('end')", "End", show=False),
    ]

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self._path = path
        self._offset: int | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._title(), id="log-title")
        yield Log(max_lines=5000, id="log")
        yield KeyBar()

    def _title(self) -> str:
        return f"Log: {self._path}" if self._path else "Log"

    def on_mount(self) -> None:
        log = self.query_one(Log)
        if self._path is None:
            log.write_line("No log file is configured for this session.")
            return
        self._poll()
        self.set_interval(1.0, self._poll)

    def _poll(self) -> None:
        assert self._path is not None
        log = self.query_one(Log)
        try:
            lines, self._offset = read_tail(self._path, self._offset)
        except FileNotFoundError:
            if self._offset is None:
                log.clear()
                log.write_line(f"{self._path} does not exist (yet).")
            return
        except OSError as exc:
            log.write_line(f"cannot read {self._path}: {exc}")
            return
        if lines:
            log.write_lines([short_line(line) for line in lines])

    def action_scroll(self, where: str) -> None:
        log = self.query_one(Log)
        if where == "home":
            log.scroll_home(animate=False)
        else:
            log.scroll_end(animate=False)
