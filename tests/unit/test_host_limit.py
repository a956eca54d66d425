"""The learned connection limit and its probes (``HostLimit`` inside ``AimdController``),
with an injected clock: no I/O, no sleeps."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.plan.aimd import AimdController, HostGate, Slot
from hydra_tui.engine.plan.conn_limit import HostLimit


def make(ceiling: int = 16, *, auto: bool = False) -> tuple[AimdController, list[float]]:
    t = [0.0]
    return AimdController(ceiling=ceiling, auto=auto, clock=lambda: t[0]), t


def serving(ctl: AimdController, n: int) -> list[Slot]:
    """``n`` admitted requests whose bodies flow."""
    slots = [ctl.start() for _ in range(n)]
    for s in slots:
        ctl.body_started(s)
    return slots


def refuse(ctl: AimdController, kind: str = "503", retry_after: float | None = None) -> Slot:
    """One more request, refused; returns its slot (released, as a worker does)."""
    slot = ctl.start()
    ctl.on_pushback(kind, slot, retry_after)
    ctl.finish(slot)
    return slot


def probe_times(ctl: AimdController, t: list[float], k: int, until: float) -> list[float]:
    """Let K connections complete chunks every 0.1 s; refuse every request above K."""
    times = []
    while t[0] < until:
        t[0] += 0.1
        ctl.on_success()
        if ctl.window > k:
            times.append(round(t[0], 1))
            slot = ctl.start()
            ctl.on_pushback("503", slot, None)
            ctl.finish(slot)
    return times


def test_a_refusal_while_others_stream_caps_the_window_without_a_pause() -> None:
    ctl, t = make(16)
    serving(ctl, 4)
    t[0] = 1.0
    slot = ctl.start()
    delay = ctl.on_pushback("503", slot, 1.0)
    assert (delay, slot.over_limit) == (0.0, True)
    ctl.finish(slot)
    assert (ctl.window, ctl.limit, ctl.wait_time()) == (4, 4, 0.0)
    assert ctl.can_start() is False  # the window is full: the refused request waits its turn
    t[0] = 1.5
    ctl.tick()  # the limit held half a second: told now
    texts = [e.describe() for e in ctl.events]
    assert "limit learned: 4" in texts
    assert any(x.startswith("503 over the limit, next probe in 10 s window 16 → 4") for x in texts)


def test_a_refusal_with_nothing_streaming_is_an_outage() -> None:
    ctl, t = make(16)
    slot = ctl.start()
    t[0] = 1.0
    assert ctl.on_pushback("503", slot, 2.0) == 2.0
    assert not slot.over_limit
    assert (ctl.window, ctl.limit) == (8, None)
    assert ctl.wait_time() == 2.0  # the host pauses, as before


def test_429_reads_as_a_limit_too_and_retry_after_only_delays_the_probe() -> None:
    ctl, t = make(16)
    serving(ctl, 2)
    t[0] = 1.0
    refuse(ctl, "429", 30.0)
    assert (ctl.window, ctl.limit, ctl.wait_time()) == (2, 2, 0.0)
    assert probe_times(ctl, t, 2, 40.0) == [31.0]  # Retry-After 30 s > the 10 s gap


def test_probes_come_rarely_with_doubling_spacing() -> None:
    ctl, t = make(16)
    serving(ctl, 4)
    refuse(ctl)  # learned at t=0
    times = probe_times(ctl, t, 4, 1300.0)
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    # (a probe waits for the next window's worth of clean completions: up to 0.4 s here)
    want = [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert len(gaps) == len(want) and all(
        w - 1e-6 <= g <= w + 0.5 for g, w in zip(gaps, want, strict=True)
    ), gaps
    assert ctl.window == 4 and ctl.limit == 4
    assert sum(e.kind == "probe" for e in ctl.events) == len(times)
    assert next(e.describe() for e in ctl.events if e.kind == "probe") == (
        "probe above the limit of 4 window 4 → 5"
    )


def test_a_probe_that_is_served_raises_the_limit() -> None:
    ctl, t = make(16)
    slots = serving(ctl, 3)
    refuse(ctl)
    t[0] = 1.0
    ctl.tick()
    t[0] = 10.0
    ctl.on_success()
    ctl.on_success()
    ctl.on_success()
    assert ctl.window == 4  # the probe
    slots.append(ctl.start())
    ctl.body_started(slots[-1])  # served: the server takes four now
    assert ctl.limit == 4
    t[0] = 10.5
    ctl.tick()
    assert "learned: 4 (was 3)" in [e.detail for e in ctl.events if e.kind == "limit"]
    # growth goes on at the pace of clean completions, each step a probe
    for _ in range(4):
        ctl.on_success()
    assert ctl.window == 5


def test_a_refusal_below_the_limit_disproves_it() -> None:
    """A 429 storm is no connection cap: from then on Retry-After pauses the host."""
    ctl, t = make(8)
    slots = serving(ctl, 4)
    refuse(ctl, "429", 1.0)
    assert ctl.limit == 4
    t[0] = 1.0
    lagging = ctl.start()  # one fewer: a count off by one reads as the limit still
    ctl.finish(slots.pop())
    ctl.body_ended()
    assert ctl.on_pushback("429", lagging, 1.0) == 0.0 and ctl.limit == 3
    ctl.finish(lagging)
    for _ in range(2):  # two fewer than the limit of 3: a cap does not do that
        ctl.finish(slots.pop())
        ctl.body_ended()
    t[0] = 2.0
    slot = ctl.start()
    assert ctl.on_pushback("429", slot, 1.0) == 1.0
    assert not slot.over_limit
    assert ctl.limit is None and ctl.wait_time() == 1.0
    assert "refused below 3: not a connection limit" in [e.detail for e in ctl.events]
    ctl.finish(slot)
    serving(ctl, 1)
    t[0] = 4.0
    refuse_again = ctl.start()
    ctl.on_pushback("429", refuse_again, 1.0)  # even with others streaming now
    assert not refuse_again.over_limit and ctl.wait_time() == 1.0


def test_a_count_off_by_one_is_forgiven_while_bodies_raise_it_again() -> None:
    """On a K-cap server a kept slot between chunks makes the count lag by one, now and
    then; in a storm, refusals of kept slots lower it again and again."""
    ctl, t = make(16)
    slots = serving(ctl, 4)
    refuse(ctl)
    for n in range(5):
        t[0] += 10.0
        ctl.body_ended()  # one slot between two chunks when the probe is refused
        refuse(ctl)
        assert (ctl.limit, ctl.window) == (3, 4), n
        ctl.body_started(slots[0])  # its next body: four flow, the limit is back
        assert ctl.limit == 4
    assert not ctl.host_limit.disproved

    storm, t = make(8)
    kept = serving(storm, 6)
    refuse(storm, "429", 1.0)
    for slot in kept[:2]:  # kept slots refused on their next request, one after another
        t[0] += 0.5
        storm.body_ended()
        storm.on_pushback("429", slot, 1.0)
        storm.finish(slot)
    assert storm.host_limit.disproved and storm.wait_time() > 0


def test_a_new_download_to_the_host_does_not_push_past_the_limit() -> None:
    ctl, _t = make(8)
    serving(ctl, 2)
    refuse(ctl)
    ctl.set_ceiling(24)  # a second download leases 16 more connections
    assert ctl.window == 2


def test_auto_mode_does_not_double_past_the_limit() -> None:
    ctl, t = make(16, auto=True)
    serving(ctl, 2)
    refuse(ctl)
    assert ctl.limit == 2
    for _ in range(8):  # throughput keeps growing: auto mode wants to double
        t[0] += 0.5
        ctl.on_bytes(int(1e6 * t[0]))
        ctl.tick()
    assert ctl.window <= 3


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 32),
    st.lists(st.floats(0.05, 20.0), min_size=1, max_size=60),
)
def test_never_more_than_one_above_the_limit(k: int, ceiling: int, steps: list[float]) -> None:
    """Whatever the timing, the window exceeds a learned K by at most one (the probe), and
    at least the first gap passes between learning K and the first probe."""
    ctl, t = make(max(ceiling, k + 1))
    serving(ctl, k)
    refuse(ctl)
    assert ctl.limit == k
    first_probe = None
    for dt in steps:
        t[0] += dt
        ctl.on_success()
        assert ctl.window <= k + 1
        if ctl.window > k:
            first_probe = first_probe if first_probe is not None else t[0]
            slot = ctl.start()
            ctl.on_pushback("503", slot, None)
            ctl.finish(slot)
            assert ctl.window == k
    assert first_probe is None or first_probe >= HostLimit().first_gap


def test_kept_slots_yield_to_another_download_waiting() -> None:
    async def scenario() -> list[bool]:
        ctl = AimdController(ceiling=2, clock=lambda: 0.0)
        gate = HostGate(ctl, recheck=60.0)
        mine, other = object(), object()
        a = await gate.acquire(mine)
        b = await gate.acquire(mine)
        answers = [gate.keep(a)]  # window full, nobody waiting: keep it
        waiter = asyncio.ensure_future(gate.acquire(other))
        await asyncio.sleep(0)
        answers.append(gate.keep(b))  # another download is first in line: hand it over
        gate.release(b)
        got = await waiter
        answers.append(got.owner is other)
        gate.release(a)
        gate.release(got)
        return answers

    assert asyncio.run(scenario()) == [True, False, True]


def test_a_limit_climbing_at_start_up_is_told_once() -> None:
    """-t 16 on a K=8 server: the first refusal comes while most connections are still
    connecting (two bodies flow), then the limit climbs body by body to 8. The user
    sees one "limit learned: 8", not "2", "3 (was 2)", … "8 (was 7)"."""
    ctl, t = make(16)
    slots = [ctl.start() for _ in range(16)]
    for s in slots[:2]:
        ctl.body_started(s)
    ctl.on_pushback("429", slots[15], 1.0)  # refused early: reads as "limit 2" for now
    ctl.finish(slots[15])
    for i, s in enumerate(slots[2:8]):
        t[0] = 0.01 * (i + 1)
        ctl.body_started(s)
        ctl.tick()
    assert ctl.limit == 8
    assert [e for e in ctl.events if e.kind == "limit"] == []  # still climbing: not told yet
    t[0] = 0.6
    ctl.tick()
    assert [e.detail for e in ctl.events if e.kind == "limit"] == ["learned: 8"]
    t[0] = 5.0
    ctl.tick()
    assert len([e for e in ctl.events if e.kind == "limit"]) == 1


def test_auto_mode_slow_start_finds_the_limit_at_once() -> None:
    """-t auto on a K=8 server: each body that starts opens one more connection, so the
    ninth request is refused within round trips, not after seconds of doubling."""
    ctl, t = make(16, auto=True)
    assert ctl.window == 2
    working: list[Slot] = []
    refused = 0
    for _ in range(40):  # admit, serve up to 8, refuse the rest
        t[0] += 0.001
        if not ctl.can_start():
            continue
        slot = ctl.start()
        if len(working) < 8:
            ctl.body_started(slot)
            working.append(slot)
        else:
            refused += 1
            ctl.on_pushback("503", slot, 1.0)
            ctl.finish(slot)
    assert (ctl.limit, ctl.window, refused) == (8, 8, 1)
    assert ctl.wait_time() == 0.0  # nothing paused: the eight stream on
    t[0] = 1.0
    ctl.tick()
    assert [e.detail for e in ctl.events if e.kind == "limit"] == ["learned: 8"]
    assert ("grow", 2, 9) in [(e.kind, e.before, e.after) for e in ctl.events]
