"""Case 13: hostile Content-Disposition names through the CLI land inside ``-o``.

One run downloads several URLs whose servers suggest escaping names; afterwards the
only files the download created are inside the ``-o`` folder (the isolated state and
log folders under ``home/`` aside), with the bytes each URL served. The API-level
sanitizer cases are in tests/engine/test_disk_faults.py.
"""

from __future__ import annotations

from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from tests.support.cli_runs import files_under
from tests.support.helpers import cli, file_sha256, payload, sha256

HOSTILE = {
    "up.bin": ('attachment; filename="../x"', "x"),
    "upup.bin": ("attachment; filename*=UTF-8''..%2F..%2Fy", "y"),
    "abs.bin": ('attachment; filename="/tmp/abs-target"', "abs-target"),
    "mixed.bin": ('attachment; filename="a/../../z"', "z"),
    "dotdot.bin": ('attachment; filename=".."', "dotdot.bin"),
    "win.bin": ('attachment; filename="..\\\\..\\\\w.exe"', "w.exe"),
}


def test_hostile_names_land_inside_output(
    server: DevServer, tmp_path: Path, isolated_dirs: Path
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    datas = {name: payload(10_000 + i, seed=1300 + i) for i, name in enumerate(HOSTILE)}
    urls = [
        server.add(name, datas[name], Faults(content_disposition=disposition))
        for name, (disposition, _) in HOSTILE.items()
    ]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
    proc = cli("--no-ui", "-q", "-o", "out", "-i", str(listing), "-j", "1", cwd=cwd)
    assert proc.returncode == 0, proc.stderr.decode()

    expected = sorted(Path("out") / saved for _, saved in HOSTILE.values())
    assert files_under(cwd) == expected
    outside = [p for p in files_under(tmp_path) if p.parts[0] not in ("cwd", "home", "list.txt")]
    assert outside == []
    home = [p.name for p in files_under(isolated_dirs)]
    assert not set(home) & {saved for _, saved in HOSTILE.values()}
    for name, (_, saved) in HOSTILE.items():
        assert file_sha256(cwd / "out" / saved) == sha256(datas[name]), name
