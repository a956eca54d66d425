"""``snapshot_wire``: what the engine process sends is a difference, and what the UI
rebuilds from it equals the engine's snapshot, however the queue evolves."""

from __future__ import annotations

import dataclasses
import pickle
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_tui.engine.backends.snapshot_wire import SnapshotDecoder, SnapshotEncoder
from hydra_tui.engine.snapshot import (
    ChunkState,
    ChunkView,
    DownloadSnapshot,
    DownloadState,
    RateSample,
    WindowEvent,
)

MiB = 1024 * 1024


def downloading(id: str = "p1", cells: int = 256, samples: int = 600) -> DownloadSnapshot:
    return DownloadSnapshot(
        id=id,
        url=f"http://127.0.0.1:1/{id}.bin",
        state=DownloadState.DOWNLOADING,
        name=f"{id}.bin",
        size=cells * MiB,
        etag='"v1"',
        accepts_ranges=True,
        chunks=tuple(
            ChunkView(i * MiB, (i + 1) * MiB, 0, ChunkState.PENDING) for i in range(cells)
        ),
        history=tuple(RateSample(i / 10, 1e9, 16, 16) for i in range(samples)),
        events=(WindowEvent(1.0, "429", 16, 8, "Retry-After 1"),),
    )


def wire(encoder: SnapshotEncoder, snaps: list[DownloadSnapshot]) -> bytes:
    return pickle.dumps(encoder.encode(snaps), protocol=pickle.HIGHEST_PROTOCOL)


def step(snap: DownloadSnapshot, rng: random.Random, t: float) -> DownloadSnapshot:
    """What the engine does between two publications: a few cells move on (the others are
    the same objects), the rate history may grow and drop its oldest sample."""
    cells = list(snap.chunks)
    for i in rng.sample(range(len(cells)), k=min(len(cells), rng.randint(0, 20))):
        c = cells[i]
        cells[i] = dataclasses.replace(
            c, done=min(c.size, c.done + rng.randint(1, MiB)), state=ChunkState.ACTIVE
        )
    history = snap.history
    if rng.random() < 0.4:
        history = (*history, RateSample(t, rng.random() * 1e9, 8, 8))[-600:]
    events = snap.events
    if rng.random() < 0.1:
        events = (*events, WindowEvent(t, "stall", 8, 4))[-50:]
    return dataclasses.replace(
        snap, chunks=tuple(cells), history=history, events=events, done=snap.done + 1, speed=t
    )


def test_an_unchanged_map_and_history_are_not_sent_again() -> None:
    encoder = SnapshotEncoder()
    snap = downloading()
    first = wire(encoder, [snap])
    again = wire(encoder, [dataclasses.replace(snap, done=5)])
    assert len(first) > 10_000  # 256 cells and 600 samples
    assert len(again) < 1_000  # only the scalars: the sequences are the same objects
    moved = list(snap.chunks)
    moved[7] = dataclasses.replace(moved[7], done=1, state=ChunkState.ACTIVE)
    one_cell = wire(encoder, [dataclasses.replace(snap, chunks=tuple(moved))])
    assert len(one_cell) < 1_000


def test_decoded_snapshots_equal_the_engines_through_a_download() -> None:
    rng = random.Random(5)
    encoder, decoder = SnapshotEncoder(), SnapshotDecoder()
    queue = [downloading("p1"), downloading("p2", cells=8, samples=0)]
    for n in range(300):
        queue = [step(s, rng, n / 10) for s in queue]
        assert decoder.decode(pickle.loads(wire(encoder, queue))) == queue


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    actions=st.lists(
        st.sampled_from(["step", "add", "remove", "replace", "finish", "restart"]), max_size=40
    ),
)
def test_any_sequence_of_queues_round_trips(seed: int, actions: list[str]) -> None:
    """Entries appear, vanish, come back under the same id, restart their history or
    change their number of cells: the decoder always rebuilds exactly what was sent."""
    rng = random.Random(seed)
    encoder, decoder = SnapshotEncoder(), SnapshotDecoder()
    queue: list[DownloadSnapshot] = [downloading("p1", cells=16, samples=30)]
    for t, action in enumerate(actions):
        if action == "step":
            queue = [step(s, rng, t) for s in queue]
        elif action == "add":
            queue.append(downloading(f"p{rng.randint(1, 4)}", cells=rng.randint(0, 12), samples=3))
        elif action == "remove" and queue:
            queue.pop(rng.randrange(len(queue)))
        elif action == "replace" and queue:  # same id, a fresh plan (e.g. a retry)
            i = rng.randrange(len(queue))
            queue[i] = downloading(queue[i].id, cells=rng.randint(1, 12), samples=rng.randint(0, 5))
        elif action == "finish" and queue:
            i = rng.randrange(len(queue))
            queue[i] = dataclasses.replace(queue[i], state=DownloadState.DONE, chunks=())
        elif action == "restart" and queue:  # history starts over with new samples
            i = rng.randrange(len(queue))
            queue[i] = dataclasses.replace(queue[i], history=(RateSample(0.0, 1.0, 1, 1),))
        # duplicate ids are the UI's to avoid; the engine never publishes them
        queue = list({s.id: s for s in queue}.values())
        got = decoder.decode(pickle.loads(wire(encoder, queue)))
        assert got == queue
        assert [type(s.state) for s in got] == [DownloadState] * len(got)


def test_a_long_unchanged_queue_costs_nothing_on_the_wire() -> None:
    """Only the rows that changed travel: a poll of 1,500 waiting downloads and one running
    is as small as a poll of the one running (issue 19, item 11)."""
    encoder, decoder = SnapshotEncoder(), SnapshotDecoder()
    waiting = [
        DownloadSnapshot(id=f"q{i}", url=f"http://h/f{i}.bin", state=DownloadState.QUEUED)
        for i in range(1500)
    ]
    running = downloading("p1")
    first = wire(encoder, [running, *waiting])
    assert decoder.decode(pickle.loads(first)) == [running, *waiting]
    running = step(running, random.Random(1), 1.0)
    again = wire(encoder, [running, *waiting])
    alone = wire(SnapshotEncoder(), [running])
    assert len(again) < len(first) // 20
    assert len(again) < 2 * len(alone) + 100
    got = decoder.decode(pickle.loads(again))
    assert got == [running, *waiting]
    # and one that moves to the front costs its id list, not its snapshot
    reordered = wire(encoder, [waiting[-1], running, *waiting[:-1]])
    assert decoder.decode(pickle.loads(reordered)) == [waiting[-1], running, *waiting[:-1]]
