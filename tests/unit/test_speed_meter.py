"""The throughput meter every download and mirror shares (pure: times passed in)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hydra_tui.engine.speed import WINDOW_SECONDS, SpeedMeter


def test_speed_over_the_last_seconds_only() -> None:
    meter = SpeedMeter()
    assert meter.sample(0.0, 0) == 0.0
    for i in range(1, 7):  # 1 MB per half second for 3 s
        meter.sample(i * 0.5, i * 1_000_000)
    assert meter.speed == 2_000_000
    for i in range(7, 15):  # then nothing for 4 s: the old bytes leave the window
        meter.sample(i * 0.5, 6_000_000)
    assert meter.speed == 0.0


@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=40))
def test_speed_is_the_bytes_over_the_window(steps: list[int]) -> None:
    meter = SpeedMeter()
    total, samples = 0, [(0.0, 0)]
    meter.sample(0.0, 0)
    for i, n in enumerate(steps, 1):
        total += n
        samples.append((i * 0.5, total))
        meter.sample(i * 0.5, total)
    now = samples[-1][0]
    inside = [s for s in samples if now - s[0] <= WINDOW_SECONDS]
    t0, b0 = inside[0] if len(inside) >= 2 else samples[-2]
    assert meter.speed == (total - b0) / (now - t0)
