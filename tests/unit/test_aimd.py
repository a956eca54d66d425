"""AimdController with an injected clock and random source: no I/O, no sleeps."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.plan.aimd import AimdController


class MaxRandom(random.Random):
    """Jitter at its upper bound, so the backoff cap itself is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def make(
    ceiling: int = 16, *, auto: bool = False, **kw: float
) -> tuple[AimdController, list[float]]:
    t = [0.0]
    ctl = AimdController(ceiling=ceiling, auto=auto, clock=lambda: t[0], **kw)  # type: ignore[arg-type]
    return ctl, t


def kinds(ctl: AimdController) -> list[str]:
    return [e.kind for e in ctl.events]


# -- multiplicative decrease -------------------------------------------------------------
def test_pushback_halves_once_per_round_trip() -> None:
    ctl, t = make(16)
    assert ctl.window == 16
    slots = [ctl.start() for _ in range(4)]  # all started at t=0
    t[0] = 1.0
    ctl.on_pushback("429", slots[0], None)
    assert ctl.window == 8
    t[0] = 1.1
    # started before the last decrease: the same congestion, no second halving
    for s in slots[1:]:
        ctl.on_pushback("503", s, None)
    assert ctl.window == 8
    t[0] = 1.2
    fresh = ctl.start()  # started after the decrease: its push-back is news
    t[0] = 2.0
    ctl.on_pushback("reset", fresh, None)
    assert ctl.window == 4
    ctl.on_pushback("refused", None, None)  # no slot: always counts
    assert ctl.window == 2
    ctl.on_pushback("refused", None, None)
    ctl.on_pushback("refused", None, None)
    assert ctl.window == 1, "never below one"
    assert ctl.pushbacks == 8
    decreases = [(e.kind, e.before, e.after) for e in ctl.events if e.before != e.after]
    assert decreases == [("429", 16, 8), ("reset", 8, 4), ("refused", 4, 2), ("refused", 2, 1)]
    assert ctl.events[0].describe() == "429 window 16 → 8"


def test_bodies_still_flowing_set_a_floor_for_the_decrease() -> None:
    ctl, t = make(16)
    for _ in range(12):
        ctl.body_started()
    t[0] = 1.0
    ctl.on_pushback("503", None, None)
    assert ctl.window == 12  # 12 connections demonstrably work
    for _ in range(12):
        ctl.body_ended()
    ctl.body_ended()
    assert ctl.streaming == 0
    ctl.on_pushback("503", None, None)
    assert ctl.window == 6


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 64),
    st.lists(st.sampled_from(["success", "429", "reset", "tick"]), max_size=200),
)
def test_window_stays_between_one_and_the_ceiling(ceiling: int, actions: list[str]) -> None:
    ctl, t = make(ceiling)
    for action in actions:
        t[0] += 0.3
        if action == "success":
            ctl.on_success()
        elif action == "tick":
            ctl.tick()
        else:
            ctl.on_pushback(action, None, None)
        assert 1 <= ctl.window <= ceiling


# -- additive increase -------------------------------------------------------------------
def test_additive_increase_after_a_window_of_clean_completions() -> None:
    ctl, _ = make(8)
    ctl.on_pushback("429", None, None)
    assert ctl.window == 4
    windows = []
    for _ in range(4 + 5 + 6 + 7 + 10):
        ctl.on_success()
        windows.append(ctl.window)
    # one step per window's worth of successes, never past the ceiling
    assert windows[:4] == [4, 4, 4, 5]
    assert windows[4:9] == [5, 5, 5, 5, 6]
    assert windows[9:15] == [6] * 5 + [7]
    assert windows[15:22] == [7] * 6 + [8]
    assert windows[22:] == [8] * 10
    grows = [(e.before, e.after) for e in ctl.events if e.kind == "grow"]
    assert grows == [(4, 5), (5, 6), (6, 7), (7, 8)]


def test_pushback_resets_the_clean_count() -> None:
    ctl, t = make(8)
    ctl.on_pushback("429", None, None)  # 4
    for _ in range(3):
        ctl.on_success()
    t[0] = 1.0
    ctl.on_pushback("429", None, None)  # 2, and the 3 clean ones are forgotten
    ctl.on_success()
    assert ctl.window == 2
    ctl.on_success()
    assert ctl.window == 3


# -- Retry-After and backoff -------------------------------------------------------------
def test_retry_after_pauses_the_host() -> None:
    ctl, t = make(4)
    slot = ctl.start()
    t[0] = 1.0
    delay = ctl.on_pushback("429", slot, 5.0)
    ctl.finish()
    assert delay == 5.0
    assert not ctl.can_start()
    assert ctl.wait_time() == pytest.approx(5.0)
    t[0] = 3.0
    assert ctl.wait_time() == pytest.approx(3.0)
    # a shorter Retry-After later does not cut the pause short
    assert ctl.on_pushback("429", None, 1.0) == 1.0
    assert ctl.wait_time() == pytest.approx(3.0)
    t[0] = 5.999
    assert not ctl.can_start()
    t[0] = 6.0
    assert ctl.can_start()
    assert ctl.wait_time() == 0.0
    retry = [e for e in ctl.events if e.kind == "retry-after"]
    assert [e.detail for e in retry] == ["5 s", "1 s"]
    assert "429" in kinds(ctl)


def test_retry_after_on_503_pauses_but_a_bare_503_or_reset_does_not() -> None:
    ctl, _ = make(4, rng=MaxRandom())  # type: ignore[arg-type]
    assert ctl.on_pushback("503", None, None) == 0.25
    assert ctl.can_start()
    ctl.on_pushback("reset", None, None)
    assert ctl.can_start()
    ctl.on_pushback("503", None, 2.0)
    assert not ctl.can_start()
    assert ctl.wait_time() == pytest.approx(2.0)


def test_429_without_retry_after_pauses_for_the_backoff() -> None:
    ctl, t = make(4, rng=MaxRandom())  # type: ignore[arg-type]
    t[0] = 10.0
    delay = ctl.on_pushback("429", None, None)
    assert delay == 0.25
    assert ctl.wait_time() == pytest.approx(0.25)


def test_backoff_doubles_to_the_cap_and_resets_on_success() -> None:
    ctl, _ = make(64, rng=MaxRandom(), backoff_base=0.25, backoff_max=30.0)  # type: ignore[arg-type]
    delays = [ctl.on_pushback("reset", None, None) for _ in range(10)]
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    ctl.on_success()
    assert ctl.on_pushback("reset", None, None) == 0.25


@given(
    st.integers(0, 2**32),
    st.integers(0, 200),
    st.floats(0.001, 5.0),
    st.floats(0.001, 120.0),
)
def test_backoff_has_full_jitter_within_the_cap(
    seed: int, attempt: int, base: float, cap: float
) -> None:
    ctl, _ = make(4, rng=random.Random(seed), backoff_base=base, backoff_max=cap)  # type: ignore[arg-type]
    bound = min(cap, base * 2 ** min(attempt, 30))
    for _ in range(20):
        assert 0.0 <= ctl.backoff_delay(attempt) <= bound


def test_backoff_jitter_spreads_over_the_whole_range() -> None:
    ctl, _ = make(4, rng=random.Random(7), backoff_base=1.0, backoff_max=8.0)  # type: ignore[arg-type]
    samples = [ctl.backoff_delay(3) for _ in range(400)]
    assert max(samples) <= 8.0
    assert min(samples) < 0.5  # full jitter, not "cap ± a little"
    assert max(samples) > 7.5
    assert 3.0 < sum(samples) / len(samples) < 5.0


# -- admission ---------------------------------------------------------------------------
def test_admission_counts_active_requests() -> None:
    ctl, _ = make(2)
    assert ctl.can_start()
    ctl.start()
    ctl.start()
    assert not ctl.can_start()
    ctl.finish()
    assert ctl.can_start()
    ctl.finish()
    ctl.finish()
    assert ctl.active == 0


def test_set_ceiling() -> None:
    ctl, _ = make(8)
    ctl.set_ceiling(4)
    assert ctl.window == 4
    ctl.set_ceiling(12)
    assert ctl.window == 12
    assert list(ctl.events) == []  # downloads come and go: not a back-off event
    ctl.on_pushback("503", None, None)
    ctl.set_ceiling(20)  # a window cut by push-back grows by what the ceiling grew
    assert ctl.window == 6 + 8
    auto, _ = make(8, auto=True)
    assert auto.window == 2
    auto.set_ceiling(1)
    assert auto.window == 1
    auto.set_ceiling(0)
    assert auto.ceiling == 1


def test_note_records_without_changing_the_window() -> None:
    ctl, t = make(4)
    t[0] = 2.5
    ctl.note("stall", "no bytes for 10 s")
    (event,) = ctl.events
    assert (event.t, event.kind, event.before, event.after) == (2.5, "stall", 4, 4)


# -- auto mode ---------------------------------------------------------------------------
DT = 0.25  # simulation step; exact in binary, so epochs end exactly


def simulate(
    ctl: AimdController, t: list[float], per_conn: float, link: float, seconds: float
) -> list[tuple[int, float]]:
    """A link where throughput = min(window * per_conn, link); returns (window, rate) per step."""
    seen = []
    for _ in range(round(seconds / DT)):
        rate = min(ctl.window * per_conn, link)
        seen.append((ctl.window, rate))
        ctl.on_bytes(int(rate * DT))
        t[0] += DT
        ctl.tick()
    return seen


def test_auto_mode_grows_while_throughput_grows_then_settles() -> None:
    ctl, t = make(64, auto=True, epoch=1.0)
    assert ctl.window == 2
    simulate(ctl, t, per_conn=1_000_000, link=10_000_000, seconds=16.0)
    assert [(e.kind, e.before, e.after) for e in ctl.events] == [
        ("grow", 2, 4),  # doubling while throughput doubles
        ("grow", 4, 8),
        ("grow", 8, 16),
        ("grow", 16, 17),  # 10 MB/s at 16 is only x1.25 over 8: one at a time now
        ("settle", 17, 16),  # 17 gave nothing more: the smallest best window
    ]
    assert ctl.window == 16
    assert max(s.window for s in ctl.history) == 17
    assert ctl.history[-1].bytes_per_s == pytest.approx(10_000_000)


def test_auto_mode_stays_settled_on_a_flat_link() -> None:
    ctl, t = make(64, auto=True, epoch=1.0)
    simulate(ctl, t, per_conn=1_000_000, link=10_000_000, seconds=16.0)
    assert ctl.window == 16
    seen = simulate(ctl, t, per_conn=1_000_000, link=10_000_000, seconds=300.0)
    # probes try one more connection now and then, and give it back when it does not help
    assert max(w for w, _ in seen) <= 17
    assert ctl.window == 16
    assert "probe did not help" in {e.detail for e in ctl.events}


@settings(max_examples=60, deadline=None)
@given(
    st.floats(100_000, 20_000_000),
    st.floats(1.0, 16.0),
    st.integers(0, 48),
)
def test_auto_mode_settles_near_the_link_with_few_connections(
    per_conn: float, ratio: float, spare: int
) -> None:
    link = per_conn * ratio
    needed = math.ceil(ratio - 1e-9)  # connections the link needs
    ceiling = needed + spare
    ctl, t = make(ceiling, auto=True, epoch=1.0)
    simulate(ctl, t, per_conn, link, seconds=20.0)  # growth is over by now
    seen = simulate(ctl, t, per_conn, link, seconds=200.0)
    windows = [w for w, _ in seen]
    settled = max(set(windows), key=windows.count)  # where it spends its time
    assert settled <= max(2, 2 * needed)  # auto mode starts at 2
    for window, rate in seen:
        assert window <= min(ceiling, settled + 1)  # a probe is one more, briefly
        assert rate >= 0.9 * link
    assert {"grow", "settle"} & set(kinds(ctl)) or ceiling <= 2


def test_auto_mode_slow_start_then_gives_back_what_a_shared_link_does_not_use() -> None:
    """Slow start opens the ceiling at once; a link that carries 3 connections' worth
    then gets halved windows while throughput holds, and settles on the fewest that held."""
    ctl, t = make(16, auto=True, epoch=1.0)
    for _ in range(16):
        ctl.body_started(ctl.start())
    assert ctl.window == 16
    seen = simulate(ctl, t, per_conn=1_000_000, link=3_000_000, seconds=12.0)
    assert ctl.window == 4
    assert ctl.events[0].describe() == "grow slow start, first epoch window 2 → 16"
    assert [(e.kind, e.before, e.after) for e in ctl.events][1:] == [
        ("settle", 16, 8),  # 3 MB/s held: try fewer
        ("settle", 8, 4),
        ("settle", 4, 2),  # 2 MB/s is less: back to 4
        ("settle", 2, 4),
    ]
    assert all(rate >= 0.9 * 3_000_000 for w, rate in seen if w >= 4)


def test_auto_mode_slow_start_keeps_a_window_that_every_connection_fills() -> None:
    ctl, t = make(16, auto=True, epoch=1.0)
    for _ in range(16):
        ctl.body_started(ctl.start())
    simulate(ctl, t, per_conn=1_000_000, link=100_000_000, seconds=10.0)
    assert ctl.window == 16  # 8 carried half: back to 16 and stay
