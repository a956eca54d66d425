"""File names from servers are hostile: whatever comes in, one plain name in the folder."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.io.filename import (
    MAX_NAME_BYTES,
    candidate_paths,
    choose_name,
    download_name,
    name_from_url,
    sanitize_filename,
)


def assert_safe(name: str, folder: Path) -> None:
    assert name
    assert name not in (".", "..")
    assert not name.startswith("."), "no dotfile tricks"
    assert name == name.strip()
    for ch in name:
        assert ch not in "/\\\x00"
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"), repr(ch)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert (folder / name).resolve().parent == folder.resolve()


hostile_pieces = st.sampled_from(
    ["..", ".", "/", "\\", "\x00", "\n", "\r", "\x1b[31m", " ", "\u202e", "\u2028", "CON",
     "nul", ":", "*", "?", '"', "<", ">", "|", "~", "é", "e\u0301", "😀", "\ufeff", "\x85"]
)  # fmt: skip
hostile_names = st.text() | st.lists(hostile_pieces | st.text(max_size=3), max_size=12).map("".join)


@settings(max_examples=250, deadline=None)
@given(hostile_names)
def test_any_text_sanitizes_to_a_safe_name(raw: str) -> None:
    folder = Path("/tmp/hydra-unit-folder")  # resolve() needs no real folder
    assert_safe(sanitize_filename(raw), folder)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=150, max_size=400) | st.text(st.characters(min_codepoint=0x10000)))
def test_long_names_are_cut_on_character_boundaries(raw: str) -> None:
    name = sanitize_filename(raw)
    assert len(name.encode()) <= MAX_NAME_BYTES
    name.encode("utf-8", errors="strict")


@settings(max_examples=100, deadline=None)
@given(hostile_names)
def test_sanitize_is_idempotent(raw: str) -> None:
    once = sanitize_filename(raw)
    assert sanitize_filename(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("C:\\Windows\\system.ini", "system.ini"),
        ("report.pdf", "report.pdf"),
        ("naïve file.txt", "naïve file.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("line\nbreak.txt", "linebreak.txt"),
        ("\x1b[31mred\x1b[0m.txt", "[31mred[0m.txt"),
        ("evil\u202etxt.exe", "eviltxt.exe"),  # no right-to-left override
        ("a:b*c?.txt", "a_b_c_.txt"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("nul.txt", "_nul.txt"),
        ("LPT1.tar.gz", "_LPT1.tar.gz"),
        ("console.txt", "console.txt"),
        ("", "download"),
        (None, "download"),
        (".", "download"),
        ("..", "download"),
        ("...", "download"),
        ("dir/", "download"),
        ("   ", "download"),
        (".bashrc", "bashrc"),
        (". .bashrc", "bashrc"),  # dots and spaces alternating still strip
        (". .. .", "download"),
        (". ... .", "download"),
        ("name. .", "name"),
    ],
)
def test_hostile_examples(raw: str | None, expected: str, tmp_path: Path) -> None:
    name = sanitize_filename(raw)
    assert name == expected
    assert_safe(name, tmp_path)


def test_ten_thousand_characters(tmp_path: Path) -> None:
    name = sanitize_filename("a" * 10_000 + ".iso")
    assert name == "a" * (MAX_NAME_BYTES - 4) + ".iso"
    assert_safe(name, tmp_path)
    wide = sanitize_filename("é" * 10_000)  # two bytes each: cut on a character boundary
    assert wide == "é" * (MAX_NAME_BYTES // 2)
    long_ext = sanitize_filename("x." + "y" * 10_000)  # an "extension" this long is not one
    assert len(long_ext.encode()) == MAX_NAME_BYTES
    assert long_ext.startswith("x.yyy")
    assert_safe(long_ext, tmp_path)


def test_a_file_can_be_created_with_every_hostile_result(tmp_path: Path) -> None:
    for raw in ["../../x", "a\x00b", "CON", "é" * 300, "\x1b]0;title\x07", "..\\..\\w"]:
        path = tmp_path / sanitize_filename(raw)
        path.write_bytes(b"ok")
        assert path.parent == tmp_path
    assert len(list(tmp_path.iterdir())) == 6


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/files/archive.tar.gz", "archive.tar.gz"),
        ("https://example.com/files/a%20b.txt?x=1#frag", "a b.txt"),
        ("https://example.com/files/", None),
        ("https://example.com", None),
        ("https://example.com/..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"),  # raw, unsanitized
    ],
)
def test_name_from_url(url: str, expected: str | None) -> None:
    assert name_from_url(url) == expected


@pytest.mark.parametrize(
    ("disposition", "final", "original", "expected"),
    [
        ("report.pdf", "https://h/a.bin", "https://h/b.bin", "report.pdf"),
        (None, "https://h/a.bin", "https://h/b.bin", "a.bin"),
        (None, "https://h/", "https://h/b.bin", "b.bin"),
        ("..", "https://h/", "https://h/dir/", "download"),
        ("../../etc/passwd", "https://h/a", "https://h/b", "passwd"),
        (None, "https://h/..%2F..%2Fetc%2Fshadow", "https://h/", "shadow"),
        ("\x00\x01", "https://h/%00", "https://h/ok.txt", "ok.txt"),
    ],
)
def test_choose_name(disposition: str | None, final: str, original: str, expected: str) -> None:
    assert choose_name(disposition, final, original) == expected


@settings(max_examples=200, deadline=None)
@given(st.none() | hostile_names, hostile_names, hostile_names)
def test_choose_name_is_always_safe(disposition: str | None, final: str, original: str) -> None:
    name = choose_name(disposition, "https://h/" + final, "https://h/" + original)
    assert_safe(name, Path("/tmp/hydra-unit-folder"))


def test_candidate_paths(tmp_path: Path) -> None:
    paths = list(candidate_paths(tmp_path, "archive.tar.gz"))
    assert paths[:3] == [
        tmp_path / "archive.tar.gz",
        tmp_path / "archive.1.tar.gz",
        tmp_path / "archive.2.tar.gz",
    ]
    assert list(candidate_paths(tmp_path, "photo.jpeg"))[1] == tmp_path / "photo.1.jpeg"
    assert len(paths) == 1000
    assert len(set(paths)) == 1000
    assert list(candidate_paths(tmp_path, "README"))[1] == tmp_path / "README.1"
    assert all(p.parent == tmp_path for p in paths)


def test_download_name_takes_the_option_first_sanitized_else_the_servers_choice() -> None:
    url = "http://127.0.0.1:9/a/file.iso?sig=abc"
    assert download_name(None, None, url, url) == "file.iso"
    assert download_name(None, "from-cd.iso", url, url) == "from-cd.iso"
    assert download_name("../mine.iso", "from-cd.iso", url, url) == "mine.iso"  # sanitized
    assert download_name("mine.iso", "from-cd.iso", url, url) == "mine.iso"
