"""``Channel`` carries messages far larger than a socket's buffer, whole and in order,
on a non-blocking descriptor (uvloop makes watched descriptors non-blocking)."""

from __future__ import annotations

import asyncio
import multiprocessing

import pytest

from hydra_tui.engine.backends.channel import Channel
from hydra_tui.engine.event_loop import new_loop


def test_big_messages_cross_whole_and_in_order() -> None:
    left_pipe, right_pipe = multiprocessing.Pipe()
    messages = [("big", i, bytes([i]) * (3 << 20)) for i in range(3)] + [("small", 9, b"")]

    async def main() -> list[object]:
        left, right = Channel(left_pipe), Channel(right_pipe)
        loop = asyncio.get_running_loop()
        got: list[object] = []
        done = asyncio.Event()

        def readable() -> None:
            got.extend(right.read())
            if len(got) == len(messages):
                done.set()

        loop.add_reader(right.fileno(), readable)
        for message in messages:
            left.send(message)  # returns at once: the rest waits for the loop
        assert left.pending > 0
        await left.drain()
        await asyncio.wait_for(done.wait(), 30)
        loop.remove_reader(right.fileno())
        left.close()
        with pytest.raises(EOFError):
            right.read()
        right.close()
        return got

    loop = new_loop()
    try:
        assert loop.run_until_complete(main()) == messages
    finally:
        loop.close()


def test_send_after_the_other_end_closed_raises_oserror() -> None:
    left_pipe, right_pipe = multiprocessing.Pipe()
    left = Channel(left_pipe)
    right_pipe.close()
    with pytest.raises(OSError):
        left.send(("x", b"y" * (1 << 20)))
    left.close()


def test_the_last_message_of_a_peer_that_left_unread_bytes_is_still_read() -> None:
    """The engine's last answer says why it stopped (say, SIGTERM). It closes its end
    with the UI's polls unread, and Linux then reports "reset" after the data instead
    of EOF: the answer must still arrive, then EOF (this was a flaky test once)."""
    ui_pipe, engine_pipe = multiprocessing.Pipe()
    ui, engine = Channel(ui_pipe), Channel(engine_pipe)
    ui.send(("poll",))  # never read by the engine
    engine.send((0, "it received SIGTERM"))
    engine.close()
    assert ui.read() == [(0, "it received SIGTERM")]
    with pytest.raises(EOFError):
        ui.read()
    ui.close()
