"""Property tests: sizes written by presets read back to the same number of bytes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydra_tui.config import fields
from hydra_tui.config.presets import to_toml_value
from hydra_tui.units import parse_rate, parse_size

FACTORS = {"": 1, "K": 1024, "KiB": 1024, "KB": 1000, "M": 1024**2, "MiB": 1024**2, "MB": 10**6,
           "G": 1024**3, "GiB": 1024**3, "GB": 10**9}  # fmt: skip
ONCE = settings(database=None, suppress_health_check=[HealthCheck.too_slow])


@ONCE
@given(st.integers(0, 10**6), st.sampled_from(sorted(FACTORS)))
def test_parse_size_integer_with_unit(n: int, unit: str) -> None:
    assert parse_size(f"{n}{unit}") == n * FACTORS[unit]
    assert parse_size(f"{n} {unit.lower()}") == n * FACTORS[unit]


@ONCE
@given(st.integers(fields.MIN_BUFFER, 1 << 50))
def test_buffer_written_to_presets_reads_back(n: int) -> None:
    assert fields.buffer(to_toml_value("buffer", n)) == n


@ONCE
@given(st.integers(1, 1 << 50))
def test_rate_written_to_presets_reads_back(n: int) -> None:
    written = to_toml_value("limit_rate", n)
    assert fields.limit_rate(written) == n
    assert parse_rate(written) == n
