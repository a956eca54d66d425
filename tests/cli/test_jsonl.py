"""``--progress=jsonl``: every stderr line is JSON, paths are absolute, speeds are honest."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from hydra_tui.cli.progress import JsonlProgress, PlainProgress
from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.snapshot import DownloadSnapshot, DownloadState
from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024


def _events(stderr: bytes) -> list[dict[str, Any]]:
    lines = stderr.decode().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # every line, or this raises


def test_every_stderr_line_is_json(server: DevServer, tmp_path: Path) -> None:
    data = payload(2 * MiB, seed=90)
    url = server.add("j.bin", data)
    gone = server.url("gone.bin")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "j.bin").write_bytes(b"an older file")  # -> a warning
    proc = cli(url, gone, "-c", "-o", "out", "--no-ui", "--progress=jsonl", cwd=tmp_path)
    assert proc.returncode == 4
    events = _events(proc.stderr)
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert any("always resumes" in w for w in warnings)
    assert any("saving as j.1.bin" in w for w in warnings)
    errors = [e for e in events if e["event"] == "error"]
    assert len(errors) == 1 and errors[0]["url"] == gone and "404" in errors[0]["message"]
    assert errors[0]["exit_code"] == 1
    done = [e for e in events if e["event"] == "done"]
    assert len(done) == 1
    path = Path(done[0]["path"])
    assert path.is_absolute() and path == tmp_path / "out" / "j.1.bin"
    assert file_sha256(path) == sha256(data)
    start = next(e for e in events if e["event"] == "start")
    assert Path(start["path"]).is_absolute()


def test_usage_errors_are_json_too() -> None:
    proc = cli("--progress=jsonl", "-t", "0", "http://127.0.0.1:9/x", "--no-ui")
    assert proc.returncode == 2
    (event,) = _events(proc.stderr)
    assert event["event"] == "error" and "threads" in event["message"]
    assert event["exit_code"] == 2


def test_chunked_download_reports_its_size_once_known(server: DevServer, out_dir: Path) -> None:
    data = payload(MiB + 17, seed=91)
    url = server.add("chunked.bin", data, Faults(no_length=True))
    proc = cli(url, "-o", str(out_dir), "--no-ui", "--progress", "jsonl")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "chunked.bin") == sha256(data)
    (done,) = [e for e in _events(proc.stderr) if e["event"] == "done"]
    assert done["size"] == len(data)


def _snap(**kw: Any) -> DownloadSnapshot:
    base: dict[str, Any] = {"id": "d1", "url": "http://h/f", "state": DownloadState.DOWNLOADING}
    return DownloadSnapshot(**{**base, **kw})


def test_progress_speed_is_never_zero_once_bytes_moved() -> None:
    out = io.StringIO()
    progress = JsonlProgress(out, clock=lambda: 100.0)
    progress.update([_snap(done=3 * MiB, speed=0.0, elapsed=1.5, size=10 * MiB)])
    (event,) = [json.loads(x) for x in out.getvalue().splitlines() if '"progress"' in x]
    assert event["speed"] == 2 * MiB


def test_average_speed_excludes_resumed_bytes() -> None:
    snap = _snap(state=DownloadState.DONE, done=10 * MiB, size=10 * MiB, resumed_bytes=8 * MiB,
                 elapsed=2.0, path="rel/f.bin", final_url="http://h/f")  # fmt: skip
    out = io.StringIO()
    JsonlProgress(out, clock=lambda: 100.0).finished(snap)
    done = [json.loads(x) for x in out.getvalue().splitlines()][-1]
    assert done["event"] == "done" and done["speed"] == MiB and done["resumed"] == 8 * MiB
    assert Path(done["path"]).is_absolute() and done["path"].endswith("rel/f.bin")
    plain = io.StringIO()
    PlainProgress(plain, tty=False).finished(snap)
    assert "1.0 MiB/s avg" in plain.getvalue() and "resumed 8.0 MiB" in plain.getvalue()
