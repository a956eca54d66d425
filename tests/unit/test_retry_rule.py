"""``Attempts``: the one retry rule of the probe, the range workers and the one-connection
body, on an ``AimdController`` with an injected clock and random source (no I/O)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from hydra_tui.engine.plan.aimd import AimdController
from hydra_tui.engine.plan.retry import Attempts
from hydra_tui.errors import ConnectionReset, NetworkError, Pushback, Stalled


class MaxRandom(random.Random):
    """Jitter at its upper bound, so each backoff step is visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def controller(ceiling: int = 8) -> AimdController:
    return AimdController(ceiling=ceiling, clock=lambda: 1.0, rng=MaxRandom())


def test_failures_in_a_row_beyond_the_limit_give_up_with_backoff_doubling_before() -> None:
    attempts = Attempts(controller(), 3)
    cut = NetworkError("connection cut")
    delays = [attempts.delay_after(cut, None) for _ in range(4)]
    assert delays == [0.25, 0.5, 1.0, None]


def test_progress_starts_the_count_again() -> None:
    attempts = Attempts(controller(), 1)
    cut = NetworkError("connection cut")
    assert attempts.delay_after(cut, None) == 0.25
    attempts.progressed()
    assert attempts.delay_after(cut, None) == 0.25  # not the second failure in a row
    assert attempts.delay_after(cut, None) is None


def test_retry_after_is_the_wait_and_the_window_halves() -> None:
    ctl = controller(8)
    attempts = Attempts(ctl, 5)
    slot = ctl.start()
    assert attempts.delay_after(Pushback("429", 7.0), slot) == 7.0
    assert ctl.window == 4
    assert attempts.failures == 1


def test_a_reset_pushes_back_only_where_connections_share_the_host() -> None:
    shared, alone = controller(8), controller(8)
    Attempts(shared, 5).delay_after(ConnectionReset("reset"), shared.start())
    Attempts(alone, 5, resets_push_back=False).delay_after(ConnectionReset("reset"), alone.start())
    assert shared.window == 4
    assert alone.window == 8


def test_a_stall_is_noted_and_backs_off_without_touching_the_window() -> None:
    ctl = controller(8)
    delay = Attempts(ctl, 5).delay_after(Stalled("stalled"), ctl.start(), "at 1024")
    assert delay == 0.25
    assert ctl.window == 8
    assert [(e.kind, e.detail) for e in ctl.events] == [("stall", "at 1024")]


def test_a_refusal_above_the_hosts_connection_limit_waits_nothing_and_is_no_failure() -> None:
    t = [0.0]
    ctl = AimdController(ceiling=16, clock=lambda: t[0], rng=MaxRandom())
    for _ in range(4):  # four connections stream bodies
        ctl.body_started(ctl.start())
    t[0] = 1.0
    attempts = Attempts(ctl, 0)  # no failure allowed at all
    slot = ctl.start()
    assert attempts.delay_after(Pushback("503", None), slot) == 0.0
    assert slot.over_limit and attempts.failures == 0


@given(st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=40))
def test_it_gives_up_exactly_after_limit_failures_in_a_row(limit: int, tries: int) -> None:
    attempts = Attempts(controller(), limit)
    answers = [attempts.delay_after(NetworkError("cut"), None) for _ in range(tries)]
    given_up = [i for i, d in enumerate(answers) if d is None]
    assert given_up == list(range(limit, tries))
    assert all(d is not None and 0 <= d <= 30.0 for d in answers[:limit])
