"""HostGate: waiters for a connection slot wake whenever one frees (asyncio, no I/O).

The gate's periodic recheck is set to a minute here, so a lost wake-up shows as a test
that cannot finish within its 10 seconds, however fast or slow the machine.
"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.plan.aimd import AimdController, HostGate
from hydra_tui.engine.plan.wakeup import WakeUp

NEVER = 60.0


def gate(window: int) -> HostGate:
    return HostGate(AimdController(ceiling=window, clock=lambda: 0.0), recheck=NEVER)


async def hold(g: HostGate, yields: int, log: list[int]) -> None:
    await g.acquire()
    log.append(g.controller.active)
    for _ in range(yields):
        await asyncio.sleep(0)
    g.release()


async def workers(g: HostGate, plan: list[list[int]], log: list[int]) -> None:
    async def worker(holds: list[int]) -> None:
        for yields in holds:
            await hold(g, yields, log)

    async with asyncio.TaskGroup() as tg:
        for holds in plan:
            tg.create_task(worker(holds))


def run_plan(window: int, plan: list[list[int]]) -> list[int]:
    log: list[int] = []

    async def main() -> None:
        await asyncio.wait_for(workers(gate(window), plan, log), 10)

    asyncio.run(main())
    return log


def test_sixteen_workers_through_four_slots_never_wait_for_the_recheck() -> None:
    # the end of a download: sixteen workers, four slots; each finds nothing to do and
    # gives its slot back at once (0 yields), others hold theirs a little
    plan = [[0, 3, 0, 1] for _ in range(16)]
    log = run_plan(4, plan)
    assert len(log) == 64
    assert max(log) <= 4


@settings(max_examples=60, deadline=None)
@given(
    window=st.integers(1, 6),
    plan=st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=5), min_size=1, max_size=20),
)
def test_every_request_gets_a_slot_and_the_window_holds(window: int, plan: list[list[int]]) -> None:
    log = run_plan(window, plan)
    assert len(log) == sum(len(p) for p in plan)
    assert max(log) <= window


def test_a_wake_between_the_check_and_the_wait_is_not_lost() -> None:
    async def main() -> None:
        w = WakeUp()
        ticket = w.ticket()  # the waiter looked, found nothing to do ...
        w.wake()  # ... something changed before it began to wait
        other = w.ticket()
        await asyncio.wait_for(WakeUp.wait(ticket, NEVER), 5)
        assert ticket.is_set()
        assert not other.is_set()  # a later waiter waits for the next wake

    asyncio.run(main())
