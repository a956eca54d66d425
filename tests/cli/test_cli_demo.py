"""``hydra-tui demo`` (issue 20): it writes where ``-o`` says (else its own cache folder,
never ``[defaults] output``), does not pile up ``NAME.1.ext`` copies, and a demo quit
halfway resumes when run again."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hydra_tui.cli.demo import DEMO_SLOWDOWN
from hydra_tui.devserver import synthetic_sha256
from hydra_tui.devserver.demo import demo_resources
from tests.support.cli_runs import popen_cli, run_cli

SMALL = [(f.name, f.seed, max(1, f.size // 64)) for f in demo_resources()]


def _verified(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(n for n, _, _ in SMALL)
    for name, seed, size in SMALL:
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == synthetic_sha256(seed, size), name


def test_the_default_demo_is_slower_than_fast() -> None:
    fast, slow = demo_resources(), demo_resources(slowdown=DEMO_SLOWDOWN)
    for f, s in zip(fast, slow, strict=True):
        assert s.faults.rate * DEMO_SLOWDOWN == f.faults.rate
        assert s.faults.link_rate * DEMO_SLOWDOWN == f.faults.link_rate


def test_demo_output_is_honoured_and_a_second_run_adds_no_copies(
    tmp_path: Path, isolated_dirs: Path
) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "hydra-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    elsewhere = tmp_path / "defaults-output"
    config.write_text(f'[defaults]\noutput = "{elsewhere.as_posix()}"\n')
    out = tmp_path / "demo-out"
    args = ("demo", "--small", "--fast", "--no-ui", "-o", str(out))
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr.decode()
    _verified(out)
    assert not elsewhere.exists()  # -o wins, and the config's output is not the demo's
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr.decode().count("already downloaded") == len(SMALL)
    _verified(out)  # no f.1.bin copies

    # without -o: the demo's own folder, not [defaults] output; again no copies
    for _ in range(2):
        proc = run_cli("demo", "--small", "--fast", "--no-ui")
        assert proc.returncode == 0, proc.stderr.decode()
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "hydra-tui" / "demo"
    _verified(cache)
    assert not elsewhere.exists()


def test_a_demo_quit_halfway_resumes_when_run_again(tmp_path: Path) -> None:
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "hydra-tui" / "demo"
    proc = popen_cli("demo", "--small", "--no-ui", "--limit-rate", "256K", "-j", "4")
    try:
        deadline = time.monotonic() + 60
        part = cache / "ubuntu-24.04-demo.iso.part"
        while not (part.exists() and part.stat().st_size > 0):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(1.0)  # a checkpoint of the resume store (every second)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    parts = sorted(p.name for p in cache.glob("*.part"))
    assert "ubuntu-24.04-demo.iso.part" in parts
    done = subprocess.run(
        [sys.executable, "-m", "hydra_tui", "demo", "--small", "--fast", "--no-ui"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "resuming from the last demo run: " in err and "ubuntu-24.04-demo.iso" in err
    assert "resuming, " in err or "resumed" in err  # the engine took up the bytes on disk
    _verified(cache)
