"""The details pane has a line per mirror: its speed and bytes, or why it was dropped."""

from __future__ import annotations

from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState, MirrorView
from hydra_tui.tui.widgets.detail_pane import fact_rows, mirror_rows


def test_a_line_per_mirror() -> None:
    snap = DownloadSnapshot(
        id="d1",
        url="http://a.example/f",
        state=DownloadState.DOWNLOADING,
        mirrors=(
            MirrorView("http://a.example/f", 4 * 1024 * 1024, 3 * 1024 * 1024, 2),
            MirrorView("http://b.example/f", 0.0, 1024, 0, dropped="piece 3 fails its check"),
        ),
    )
    rows = mirror_rows(snap)
    assert [r[0] for r in rows] == ["Mirror 1", "Mirror 2"]
    assert "a.example" in rows[0][1] and "2 conns" in rows[0][1] and rows[0][2] == ""
    assert rows[1][1].endswith("dropped: piece 3 fails its check") and rows[1][2] == "yellow"
    assert all(r in fact_rows(snap) for r in rows)
    plain = DownloadSnapshot(id="d2", url="http://a.example/f", state=DownloadState.QUEUED)
    assert mirror_rows(plain) == []
