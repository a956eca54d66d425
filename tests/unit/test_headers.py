"""Header parsers: exact on valid input, ``None`` (never an exception) on anything else."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.http.headers import (
    ContentRange,
    parse_content_disposition,
    parse_content_range,
    parse_retry_after,
)

BIG = 10**18  # fits the 19-digit limit of the parser


# -- Content-Range -----------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_content_range_never_raises(value: str) -> None:
    result = parse_content_range(value)
    assert result is None or isinstance(result, ContentRange)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="bytes 0123456789-/*\t,", max_size=30))
def test_content_range_near_miss_text_never_raises(value: str) -> None:
    result = parse_content_range(value)
    if result is not None and result.first is not None:
        assert result.last is not None
        assert result.first <= result.last
        assert result.total is None or result.last < result.total


@given(st.integers(0, BIG).flatmap(lambda a: st.tuples(st.just(a), st.integers(a, BIG))))
def test_content_range_round_trips(first_last: tuple[int, int]) -> None:
    first, last = first_last
    total = last + 1 + (first % 7)
    assert parse_content_range(f"bytes {first}-{last}/{total}") == ContentRange(first, last, total)
    assert parse_content_range(f"bytes {first}-{last}/*") == ContentRange(first, last, None)
    cr = parse_content_range(f"  BYTES {first}-{last} / {total} ")
    assert cr == ContentRange(first, last, total)
    assert cr.end == last + 1


@given(st.integers(1, BIG).flatmap(lambda a: st.tuples(st.just(a), st.integers(0, a - 1))))
def test_content_range_rejects_last_before_first(first_last: tuple[int, int]) -> None:
    first, last = first_last
    assert parse_content_range(f"bytes {first}-{last}/{BIG + 1}") is None


@given(st.integers(0, BIG), st.integers(0, BIG))
def test_content_range_rejects_last_beyond_total(last: int, total: int) -> None:
    if last >= total:
        assert parse_content_range(f"bytes 0-{last}/{total}") is None


@given(st.integers(0, BIG))
def test_content_range_unsatisfied_form(total: int) -> None:
    cr = parse_content_range(f"bytes */{total}")
    assert cr == ContentRange(None, None, total)
    assert cr.end is None


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "bytes */*",
        "bytes 0-1",
        "bytes 1-2/3/4",
        "items 0-1/2",
        "bytes -1-2/3",
        "bytes 0-1/2, 3-4/5",
        "bytes 0-99999999999999999999/1",  # 20 digits
    ],
)
def test_content_range_rejects(value: str | None) -> None:
    assert parse_content_range(value) is None


# -- Content-Disposition -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('attachment; filename="report.pdf"', "report.pdf"),
        ("attachment; filename=plain.txt", "plain.txt"),
        ("attachment; filename = spaced.txt ; size=3", "spaced.txt"),
        ('attachment; filename="a \\"quoted\\" name.txt"', 'a "quoted" name.txt'),
        ('attachment; filename="back\\\\slash"', "back\\slash"),
        ('attachment; filename="a;b.txt"', "a;b.txt"),
        ("attachment; filename*=UTF-8''na%C3%AFve%20file.txt", "naïve file.txt"),
        ("attachment; filename*=utf-8'en'%E2%82%AC%20rates", "€ rates"),
        ("attachment; filename*=iso-8859-1'en'%A3%20rates", "£ rates"),
        ("attachment; filename=\"fallback.txt\"; filename*=UTF-8''real.txt", "real.txt"),
        ("attachment; filename*=UTF-8''real.txt; filename=\"fallback.txt\"", "real.txt"),
        ("attachment; filename*=UTF-8''%FF%FE; filename=\"fallback.txt\"", "fallback.txt"),
        ("attachment; filename*=no-such-charset''%41; filename=fb", "fb"),
        # codecs that fail with UnicodeError or ValueError rather than UnicodeDecodeError
        ("attachment; filename*=undefined''%41; filename=fb", "fb"),
        ("attachment; filename*=punycode''%5c%78; filename=fb", "fb"),
        ("attachment; filename*=utf\x008''%41; filename=fb", "fb"),
        ('ATTACHMENT; FILENAME="UPPER.TXT"', "UPPER.TXT"),
        ('inline; name="x"; filename="../../etc/passwd"', "../../etc/passwd"),  # raw
        ("attachment", None),
        ("inline", None),
        ('attachment; filename=""', None),
        ("attachment; name=foo", None),
        ("", None),
        (None, None),
    ],
)
def test_content_disposition_examples(value: str | None, expected: str | None) -> None:
    assert parse_content_disposition(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_content_disposition_never_raises(value: str) -> None:
    result = parse_content_disposition(value)
    assert result is None or (isinstance(result, str) and result)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_content_disposition_extended_garbage_never_raises(charset: str, rest: str) -> None:
    for value in (
        f"attachment; filename*={charset}''{rest}",
        f"attachment; filename*={charset}'{rest}",
        f'attachment; filename="{charset}\\{rest}',
    ):
        result = parse_content_disposition(value)
        assert result is None or isinstance(result, str)


CODECS = ["utf-8", "latin-1", "utf-16", "utf-32", "idna", "punycode", "undefined",
          "unicode_escape", "raw_unicode_escape", "base64", "rot13", "utf\x008", ""]  # fmt: skip


# unicode_escape warns about bad escapes; a warning is not an exception in production
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CODECS), st.binary(max_size=12))
def test_content_disposition_any_charset_and_bytes_never_raise(charset: str, raw: bytes) -> None:
    value = f"attachment; filename*={charset}''{quote(raw, safe='')}; filename=fb"
    result = parse_content_disposition(value)  # the decoded name, or the fallback
    assert isinstance(result, str)
    assert result


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1))
def test_content_disposition_quoted_round_trip(name: str) -> None:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    assert parse_content_disposition(f'attachment; filename="{escaped}"') == name


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1))
def test_content_disposition_percent_encoded_round_trip(name: str) -> None:
    encoded = quote(name, safe="")
    value = f"attachment; filename=\"ignored\"; filename*=UTF-8''{encoded}"
    assert parse_content_disposition(value) == name


# -- Retry-After -------------------------------------------------------------------------
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("120", 120.0),
        (" 7 ", 7.0),
        ("3600", 3600.0),
        ("3601", 3600.0),
        ("0000000005", 5.0),
        ("99999999999999999999999", 3600.0),
        pytest.param("9" * 5000, 3600.0, id="5000-digits"),  # beyond int()'s digit limit
        ("Wed, 01 May 2024 12:02:00 GMT", 120.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),  # in the past
        ("Thu, 02 May 2024 12:00:00 GMT", 3600.0),  # clamped
        ("Wednesday, 01-May-24 12:00:30 GMT", 30.0),  # RFC 850
        ("Wed May  1 12:00:10 2024", None),  # asctime has no zone: ambiguous
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        ("²", None),  # str.isdigit() but not a number
        ("٣", None),  # non-ASCII digits
        ("Wed, 01 May 2024 12:02:00 -0000", None),  # "-0000" means zone unknown
        (None, None),
    ],
)
def test_retry_after_examples(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW.timestamp()) == expected


@given(st.integers(0, 10**6))
def test_retry_after_seconds(n: int) -> None:
    assert parse_retry_after(str(n)) == float(min(n, 3600))


@given(st.integers(-7200, 7200))
def test_retry_after_http_date_is_relative_to_now(delta: int) -> None:
    header = email.utils.format_datetime(NOW + timedelta(seconds=delta), usegmt=True)
    assert parse_retry_after(header, now=NOW.timestamp()) == float(max(0, min(3600, delta)))


numberish = st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=6)
huge = st.integers(4000, 6000).map(lambda n: "1" * n)


@settings(max_examples=300, deadline=None)
@given(st.text() | numberish | huge)
def test_retry_after_garbage_never_raises(value: str) -> None:
    result = parse_retry_after(value, now=NOW.timestamp())
    assert result is None or 0.0 <= result <= 3600.0


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="MonTueWdFriSatJanFebMayGMTUC+-:,0123456789 ", max_size=40))
def test_retry_after_date_like_garbage_never_raises(value: str) -> None:
    result = parse_retry_after(value, now=NOW.timestamp())
    assert result is None or 0.0 <= result <= 3600.0
