"""How a mirrored file is cut into units (``engine/mirrors/units.py``)."""

from __future__ import annotations

import itertools

import pytest

from hydra_tui.engine.mirrors.units import MIN_TAIL_UNIT, unit_size, unit_spans

KiB, MiB = 1024, 1024 * 1024


@pytest.mark.parametrize(
    ("size", "sources", "threads"),
    [(64 * MiB, 3, 2), (64 * MiB, 2, 2), (12 * MiB + 7, 3, 2), (1000, 2, 2), (5 * MiB, 2, 16),
     (1, 1, 1), (256 * KiB + 1, 3, 8), (1024 * MiB + 3, 4, 16)],
)  # fmt: skip
def test_units_cover_the_file_once_in_order(size: int, sources: int, threads: int) -> None:
    spans = unit_spans(size, sources, threads)
    assert spans[0][0] == 0 and spans[-1][1] == size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert all(end > start for start, end in spans)
    longest = unit_size(size, sources, threads) + MIN_TAIL_UNIT
    assert max(end - start for start, end in spans) < longest


def test_the_tail_shrinks_by_halves_a_wave_per_connection() -> None:
    spans = unit_spans(64 * MiB, 2, 2)
    lengths = [end - start for start, end in spans]
    assert lengths[-12:] == [512 * KiB] * 4 + [256 * KiB] * 4 + [128 * KiB] * 4
    assert set(lengths[:-13]) == {MiB}  # the body's last unit is what is left of it


def test_a_small_file_has_no_tail() -> None:
    lengths = {end - start for start, end in unit_spans(5 * MiB, 2, 16)}
    assert lengths == {256 * KiB}
