"""Sizes and rates: the documented spellings parse; anything else is a UsageError."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.errors import UsageError
from hydra_tui.units import (
    MAX_SIZE,
    format_duration,
    format_rate,
    format_size,
    parse_rate,
    parse_size,
)

KiB, MiB, GiB = 1024, 1024**2, 1024**3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64MiB", 64 * MiB),
        ("1G", GiB),
        ("500K", 500 * KiB),
        ("1MB", 10**6),
        ("1mb", 10**6),
        ("1 GB", 10**9),
        ("2T", 2 * 1024**4),
        ("1TB", 10**12),
        ("1048576", MiB),
        ("0", 0),
        ("12b", 12),
        ("1.5M", 3 * MiB // 2),
        ("0.5KiB", 512),
        ("  7k  ", 7 * KiB),
        (4096, 4096),
        (0, 0),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5M/s", 5 * MiB), ("5M", 5 * MiB), ("100KB/s", 100_000), ("0", 0), ("1G/S", GiB)],
)
def test_parse_rate(text: str, expected: int) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "-1",
        "-5M",
        -1,
        True,
        False,
        "",
        " ",
        "M",
        "1X",
        "1 M B",
        "1.M",
        ".5M",
        "1e6",
        "0x10",
        "1,000",
        "5M/s/s",
        "inf",
        "nan",
        "1PiB",
        "2000000T",  # larger than MAX_SIZE
        pytest.param("9" * 400, id="400-digits"),  # float() gives inf
        pytest.param("9" * 5000, id="5000-digits"),  # past int()'s digit limit
        pytest.param("9" * 1_000_001, id="million-digits"),  # past Decimal's exponent
    ],
)
def test_junk_raises_usage_error(text: str | int) -> None:
    with pytest.raises(UsageError):
        parse_size(text)
    with pytest.raises(UsageError):
        parse_rate(text)


def test_usage_error_names_the_setting() -> None:
    with pytest.raises(UsageError, match="invalid buffer"):
        parse_size("lots", what="buffer")
    with pytest.raises(UsageError, match="invalid limit-rate"):
        parse_rate("-1M/s", what="limit-rate")


@settings(max_examples=300, deadline=None)
@given(st.text() | st.from_regex(r"\A\s*[0-9٠-٩²]{1,400}(\.[0-9]{0,3})?\s*[a-zA-Z/]{0,4}\s*\Z"))
def test_any_text_parses_or_raises_usage_error(text: str) -> None:
    for parse in (parse_size, parse_rate):
        try:
            value = parse(text)
        except UsageError:
            continue
        assert isinstance(value, int)
        assert 0 <= value <= MAX_SIZE


@given(st.integers(0, MAX_SIZE))
def test_integers_pass_through(n: int) -> None:
    assert parse_size(n) == n
    assert parse_size(str(n)) == n


@given(st.integers(0, 1 << 50))
def test_format_size_reads_back_close(n: int) -> None:
    text = format_size(n).replace(" ", "")
    back = parse_size(text)
    assert math.isclose(back, n, rel_tol=0.06, abs_tol=1)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "?"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (64 * MiB, "64.0 MiB"),
        (3 * GiB, "3.0 GiB"),
        (5 * 1024**5, "5120.0 TiB"),
    ],
)
def test_format_size(n: int | None, text: str) -> None:
    assert format_size(n) == text


def test_format_rate() -> None:
    assert format_rate(12.3 * MiB) == "12.3 MiB/s"
    assert format_rate(0) == "0 B/s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "--"),
        (float("nan"), "--"),
        (-1, "--"),
        (99 * 3600 + 1, "--"),
        (0, "0s"),
        (42.9, "42s"),
        (185, "3m05s"),
        (2 * 3600 + 10 * 60, "2h10m"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text
