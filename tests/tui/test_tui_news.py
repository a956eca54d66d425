"""Finished and failed downloads are told at a readable pace: 500 quick downloads are a few
summary toasts, not 500 (they once took half the UI's time; issue 19, item 11)."""

from __future__ import annotations

from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from hydra_tui.tui.news import News, Toast


def snap(i: int, state: DownloadState, error: str | None = None) -> DownloadSnapshot:
    return DownloadSnapshot(
        id=f"q{i}", url=f"http://h/f{i}.bin", state=state, name=f"f{i}.bin", error=error
    )


def test_the_first_is_told_at_once_the_rest_as_one_summary_per_interval() -> None:
    now = [0.0]
    news = News(interval=2.0, clock=lambda: now[0])
    news.add(snap(0, DownloadState.DONE))
    assert news.due() == [Toast("Download finished", "f0.bin", False)]
    for i in range(1, 500):
        news.add(snap(i, DownloadState.DONE))
        now[0] += 0.003
        assert news.due() == []  # 1.5 s of finishes: nothing until the interval is over
    news.add(snap(500, DownloadState.FAILED, "HTTP 404"))
    news.add(snap(501, DownloadState.QUEUED))  # not news
    [failed] = news.due()  # failures are another kind: told at once
    assert failed == Toast("f500.bin failed", "HTTP 404", True)
    now[0] = 2.0
    [summary] = news.due()
    assert summary.title == "499 downloads finished"
    assert summary.message == "f1.bin, f2.bin, f3.bin and 496 more"
    assert news.due() == []


def test_many_failures_name_a_few_and_point_at_the_log() -> None:
    now = [0.0]
    news = News(interval=2.0, clock=lambda: now[0])
    news.add(snap(0, DownloadState.FAILED, "e0"))
    news.due()
    for i in range(1, 6):
        news.add(snap(i, DownloadState.FAILED, f"e{i}"))
    now[0] = 5.0
    [toast] = news.due()
    assert toast.error and toast.title == "5 downloads failed"
    assert toast.message.splitlines() == [
        "f1.bin: e1",
        "f2.bin: e2",
        "f3.bin: e3",
        "and 2 more (L shows the log)",
    ]
