"""Issue 19 item 5: a password in a URL is never shown or logged, and what hydra-tui
keeps about downloads (log, resume store and its ``.bad-*`` copies, the TUI's queue) is
readable by its owner only: files 0600 in folders 0700."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.io.private import private_dir
from hydra_tui.engine.io.queue_file import QueueStore, SavedEntry
from hydra_tui.engine.io.resume import ResumeStore
from hydra_tui.engine.options import DownloadOptions
from tests.support.cli_runs import MiB
from tests.support.helpers import cli, file_sha256, payload, sha256

SECRET = "S3cr3tPassw0rd"


def _with_password(url: str) -> str:
    return url.replace("http://", f"http://alice:{SECRET}@", 1)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _everything_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_password_is_redacted_everywhere(
    server: DevServer, out_dir: Path, isolated_dirs: Path
) -> None:
    good = payload(MiB, seed=1901)
    server.add("good.bin", good)
    # redirected to a URL that carries the password too: final_url must hide it
    target = _with_password(server.url("good.bin"))
    first = _with_password(server.add("moved.bin", b"", Faults(redirect_to=target)))
    # a download that fails after its first bytes: the resume store gets a record
    broken = _with_password(
        server.add("broken.bin", payload(4 * MiB, seed=1902), Faults(lie="total", lie_after=1))
    )
    proc = cli("--no-ui", "--progress", "jsonl", "--retries", "0", "-t", "2",
               "-o", str(out_dir), first, broken)  # fmt: skip
    assert proc.returncode == 4, proc.stderr.decode()[-2000:]
    assert file_sha256(out_dir / "good.bin") == sha256(good)
    err = proc.stderr.decode()
    assert SECRET not in err
    assert "alice:***@" in err  # the failing URL is named, redacted
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    urls = {r["url"] for r in records} | {r["final_url"] for r in records if r.get("final_url")}
    assert urls and all("alice:***@" in u for u in urls), urls
    assert any(r.get("final_url", "") and "good.bin" in r["final_url"] for r in records)
    # nothing hydra-tui keeps (log file, resume store) holds the password
    kept = _everything_under(isolated_dirs)
    store = [p for p in kept if p.name.startswith("resume.sqlite3")]
    logs = [p for p in kept if p.name.startswith("hydra-tui.log")]
    assert store and logs, kept
    for path in kept:
        assert SECRET.encode() not in path.read_bytes(), path
    for path in store + logs:
        assert _mode(path) == 0o600, (path, oct(_mode(path)))
        assert _mode(path.parent) == 0o700, (path.parent, oct(_mode(path.parent)))


def test_store_and_its_bad_copies_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # an older version's folder: tightened on open
    db = folder / "resume.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    db.chmod(0o644)
    store = ResumeStore(db)
    store.close()
    assert _mode(folder) == 0o700
    assert _mode(db) == 0o600
    bad = [p for p in folder.iterdir() if ".bad-" in p.name]
    assert bad and all(_mode(p) == 0o600 for p in bad), bad


def test_queue_file_keeps_the_password_but_only_for_its_owner(tmp_path: Path) -> None:
    # the queue is where a restart needs the password (to resume): kept, but 0600/0700
    path = tmp_path / "state" / "queue.json"
    store = QueueStore(path)
    url = f"http://alice:{SECRET}@127.0.0.1:9/f.bin"
    store.save([SavedEntry(id="d1", url=url, options=DownloadOptions())])
    assert SECRET in path.read_text()
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


def test_private_dir_leaves_folders_of_others_alone(tmp_path: Path) -> None:
    # a link is never chmod-ed through; an existing 0700 folder stays as it is
    real = tmp_path / "real"
    real.mkdir(mode=0o755)
    real.chmod(0o755)
    link = tmp_path / "link"
    link.symlink_to(real)
    private_dir(link)
    assert _mode(real) == 0o755


def test_tui_shows_finished_entries_redacted() -> None:
    url = f"http://alice:{SECRET}@127.0.0.1:9/f.bin"
    entry = SavedEntry(id="d1", url=url, options=DownloadOptions(), state="done",
                       final_url=url + "?x=1")  # fmt: skip
    snap = entry.to_snapshot()
    assert SECRET not in snap.url and "alice:***@" in snap.url
    assert snap.final_url is not None and SECRET not in snap.final_url
