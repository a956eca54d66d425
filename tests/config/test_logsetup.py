from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest

from hydra_tui.cli import logsetup
from hydra_tui.cli.logsetup import setup_logging, use_color

log = logging.getLogger("hydra_tui.test")


def read(path: Path | None) -> str:
    assert path is not None
    for handler in logging.getLogger("hydra_tui").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_file_log_is_always_on_and_quiet_silences_only_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup_logging(quiet=True, log_dir=tmp_path / "logs")
    assert path == tmp_path / "logs" / "hydra-tui.log"
    log.info("resumed download")
    log.warning("server ignores ranges")
    text = read(path)
    assert "INFO" in text and "resumed download" in text
    assert "server ignores ranges" in text
    assert capsys.readouterr().err == ""


def test_console_shows_warnings_not_info(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    setup_logging(quiet=False, log_dir=tmp_path)
    log.info("chatty")
    log.warning("careful")
    assert capsys.readouterr().err == "hydra-tui: warning: careful\n"


def test_verbose_lowers_levels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = setup_logging(quiet=False, verbose=True, log_dir=tmp_path)
    log.debug("details")
    log.info("progress")
    assert "details" in read(path)
    assert "progress" in capsys.readouterr().err


def test_setup_twice_does_not_duplicate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(quiet=False, log_dir=tmp_path)
    path = setup_logging(quiet=False, log_dir=tmp_path)
    log.warning("once")
    assert capsys.readouterr().err.count("once") == 1
    assert read(path).count("once") == 1


def test_uncreatable_log_dir_is_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert setup_logging(quiet=True, log_dir=blocker / "logs") is None
    log.warning("nowhere to go")
    assert capsys.readouterr().err == ""  # no "last resort" output either
    assert [p.name for p in tmp_path.iterdir()] == ["file"]  # nothing in the current folder


@pytest.mark.skipif(sys.platform != "linux", reason="XDG layout is Linux's")
def test_default_log_dir_is_the_state_folder(
    xdg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    path = setup_logging(quiet=True)
    assert path is not None
    assert path.is_relative_to(tmp_path / "state" / "hydra-tui")
    log.info("hello")
    assert "hello" in read(path)
    assert not any(work.iterdir())


def test_rotation_is_bounded(tmp_path: Path) -> None:
    setup_logging(quiet=True, log_dir=tmp_path)
    handlers = [
        h
        for h in logging.getLogger("hydra_tui").handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
    ]
    assert [(h.maxBytes, h.backupCount) for h in handlers] == [
        (logsetup.MAX_BYTES, logsetup.BACKUP_COUNT)
    ]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_use_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_color(FakeTTY()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(FakeTTY()) is False
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: an empty value does not count
    assert use_color(FakeTTY()) is True
    monkeypatch.setenv("TERM", "dumb")
    assert use_color(FakeTTY()) is False
    closed = io.StringIO()
    closed.close()
    assert use_color(closed) is False


def test_console_colours_only_on_a_tty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    setup_logging(quiet=False, log_dir=tmp_path)
    log.error("boom")
    assert fake.getvalue() == "hydra-tui: \x1b[31merror\x1b[0m: boom\n"
