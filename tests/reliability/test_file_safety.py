"""Issue 19, file safety: what hydra-tui may write, and which ``.part`` it may trust.

A link at ``NAME.part`` or ``NAME`` is never followed and nothing outside ``-o`` is
written; a FIFO or folder at ``NAME.part`` is refused with one line; a ``NAME.part``
hydra-tui did not create is the user's and is left alone; two URLs with one name in one
run give ``NAME`` and ``NAME.1.ext``; a resume record is trusted only for the very
file it was recorded for. Every download is checked by sha256 and every test looks at
what exists outside the output folder afterwards.
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.context import EngineContext
from hydra_tui.engine.disk import download_to_disk
from hydra_tui.engine.download import Download
from hydra_tui.engine.io.partfile import OutputFolder, PartIdentity, claim_part
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.engine.plan.ranges import RangeSet
from hydra_tui.errors import LocalIOError
from tests.support.cli_runs import (
    MiB,
    assert_one_line_error,
    files_under,
    popen_cli,
    run_cli,
    wait_until,
)
from tests.support.helpers import file_sha256, payload, run, sha256

VICTIM = b"the user's precious file, outside the output folder\n"


def _tree(root: Path) -> dict[str, str]:
    """Every entry below ``root``: links as ``-> target``, files by sha256."""
    found: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            found[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            found[rel] = file_sha256(p)
        else:
            found[rel] = "dir" if p.is_dir() else "special"
    return found


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, Path]:
    """``site/out`` (the output folder) and a victim file next to it, in ``site``."""
    out = tmp_path / "site" / "out"
    out.mkdir(parents=True)
    victim = tmp_path / "site" / "victim.txt"
    victim.write_bytes(VICTIM)
    return out, victim


# -- item 1: links, FIFOs and folders ---------------------------------------------------


@pytest.mark.parametrize("size", [3000, 4 * MiB], ids=["small", "ranged"])
def test_a_link_at_part_is_never_followed(
    server: DevServer, place: tuple[Path, Path], tmp_path: Path, size: int
) -> None:
    out, victim = place
    data = payload(size, seed=1901)
    url = server.add("x.bin", data)
    (out / "x.bin.part").symlink_to("../victim.txt")
    site = out.parent
    outside = {k: v for k, v in _tree(site).items() if not k.startswith("out")}

    proc = run_cli("--no-ui", "-o", str(out), url)

    assert_one_line_error(proc, 1, "x.bin.part", "symbolic link")
    assert victim.read_bytes() == VICTIM
    assert (out / "x.bin.part").is_symlink()
    assert not os.path.lexists(out / "x.bin")
    assert {k: v for k, v in _tree(site).items() if not k.startswith("out")} == outside


def test_a_link_at_the_final_name_is_never_followed(
    server: DevServer, place: tuple[Path, Path]
) -> None:
    out, victim = place
    data = payload(2 * MiB, seed=1902)
    url = server.add("x.bin", data)
    (out / "x.bin").symlink_to("../victim.txt")

    proc = run_cli("--no-ui", "-o", str(out), url)

    assert proc.returncode == 0, proc.stderr.decode()
    assert victim.read_bytes() == VICTIM
    assert os.readlink(out / "x.bin") == "../victim.txt"
    assert file_sha256(out / "x.1.bin") == sha256(data)
    assert files_under(out) == [Path("x.1.bin"), Path("x.bin")]


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_a_fifo_folder_or_device_at_part_is_refused_in_one_line(
    server: DevServer, place: tuple[Path, Path], kind: str
) -> None:
    out, victim = place
    url = server.add("x.bin", payload(1 * MiB, seed=1903))
    if kind == "fifo":
        os.mkfifo(out / "x.bin.part")
    elif kind == "folder":
        (out / "x.bin.part").mkdir()
    else:  # /dev/null's numbers: writing to it would "succeed" and lose every byte
        try:
            os.mknod(out / "x.bin.part", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("creating a device node needs privileges")

    proc = run_cli("--no-ui", "-o", str(out), url, timeout=30)

    assert_one_line_error(proc, 1, "x.bin.part", "not a regular file")
    assert not os.path.lexists(out / "x.bin")
    assert victim.read_bytes() == VICTIM


@pytest.mark.parametrize("how", ["moved-away", "unlinked"])
def test_publish_never_follows_a_link_swapped_in_at_part(
    place: tuple[Path, Path], how: str
) -> None:
    """Between writing and publishing, someone puts a link to a file outside at
    ``x.bin.part``. If our file still has a name, ``x.bin`` gets exactly its bytes;
    if not, nothing is published. Either way the victim and the link are untouched."""
    out, victim = place
    data = payload(10_000, seed=1904)
    pf = claim_part(OutputFolder(out), "x.bin", None)
    assert pf is not None
    try:
        os.write(pf.fd, data)
        if how == "moved-away":
            os.rename(out / "x.bin.part", out / "moved")
        (out / "swap").symlink_to("../victim.txt")
        os.replace(out / "swap", out / "x.bin.part")
        if how == "moved-away":
            pf.publish()
        else:
            with pytest.raises(LocalIOError, match="replaced while downloading"):
                pf.publish()
    finally:
        pf.close()
    if how == "moved-away":
        assert file_sha256(out / "x.bin") == sha256(data)
        assert not (out / "x.bin").is_symlink()
    else:
        assert not os.path.lexists(out / "x.bin")
    assert victim.read_bytes() == VICTIM
    assert os.readlink(out / "x.bin.part") == "../victim.txt"  # not ours: left alone


def test_a_link_that_appears_at_the_final_name_is_not_replaced(
    place: tuple[Path, Path],
) -> None:
    out, victim = place
    pf = claim_part(OutputFolder(out), "x.bin", None)
    assert pf is not None
    try:
        os.write(pf.fd, b"new bytes")
        (out / "x.bin").symlink_to("../victim.txt")
        with pytest.raises(LocalIOError, match="appeared while downloading"):
            pf.publish()
    finally:
        pf.close()
    assert victim.read_bytes() == VICTIM
    assert (out / "x.bin.part").read_bytes() == b"new bytes"


# -- item 4: a user's X.part ------------------------------------------------------------


def test_a_download_named_x_part_is_not_destroyed_by_x(
    server: DevServer, place: tuple[Path, Path]
) -> None:
    out, _ = place
    first, second = payload(1 * MiB + 5, seed=1905), payload(3 * MiB, seed=1906)
    url_part = server.add("x.bin.part", first)
    url = server.add("x.bin", second)

    proc = run_cli("--no-ui", "-j", "1", "-o", str(out), url_part, url)

    assert proc.returncode == 0, proc.stderr.decode()
    assert file_sha256(out / "x.bin.part") == sha256(first)
    assert file_sha256(out / "x.bin") == sha256(second)
    assert files_under(out) == [Path("x.bin"), Path("x.bin.part")]


@pytest.mark.parametrize("size", [3000, 4 * MiB], ids=["small", "ranged"])
def test_a_users_part_file_is_left_alone(
    server: DevServer, place: tuple[Path, Path], size: int
) -> None:
    """``x.bin.part`` that hydra-tui did not create: untouched; the download is written
    to ``x.bin.1.part`` and still becomes ``x.bin``, in this run and when resumed."""
    out, _ = place
    data = payload(size, seed=1907)
    url = server.add("x.bin", data)
    mine = out / "x.bin.part"
    mine.write_bytes(VICTIM)

    proc = run_cli("--no-ui", "-o", str(out), url)

    assert proc.returncode == 0, proc.stderr.decode()
    assert mine.read_bytes() == VICTIM
    assert file_sha256(out / "x.bin") == sha256(data)
    assert "x.bin.part is not hydra-tui's" in proc.stderr.decode()
    assert files_under(out) == [Path("x.bin"), Path("x.bin.part")]


# -- item 7: one name, two URLs, one run -----------------------------------------------


@pytest.mark.parametrize("size", [3000, 4 * MiB], ids=["small", "ranged"])
def test_two_urls_with_one_name_in_one_run(
    server: DevServer, place: tuple[Path, Path], size: int
) -> None:
    out, _ = place
    a, b = payload(size, seed=1908), payload(size + 1, seed=1909)
    url_a = server.add("a/x.bin", a, Faults(rate=8 * MiB))
    url_b = server.add("b/x.bin", b, Faults(rate=8 * MiB))

    proc = run_cli("--no-ui", "-j", "2", "-o", str(out), url_a, url_b)

    assert proc.returncode == 0, proc.stderr.decode()
    assert files_under(out) == [Path("x.1.bin"), Path("x.bin")]
    got = sorted(file_sha256(out / n) for n in ("x.bin", "x.1.bin"))
    assert got == sorted([sha256(a), sha256(b)])
    assert "another hydra-tui process" not in proc.stderr.decode()


# -- item 2: a resume trusts only its own record ---------------------------------------


def _kill_when_sent(server: DevServer, name: str, target: int, *args: str, cwd: Path) -> None:
    proc = popen_cli(*args, cwd=cwd)
    try:
        wait_until(
            lambda: proc.poll() is not None or server.stats(name).bytes_sent >= target,
            timeout=60,
            what=f"{target} bytes sent",
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the run ended by itself"


def test_one_relative_output_from_two_working_folders(server: DevServer, tmp_path: Path) -> None:
    """The issue's scenario: kill in A, run further in B, run A again. The old store
    keyed both by ``out/big.bin.part``, so A trusted B's ranges over its own holes:
    exit 0, "resumed 15.2 MiB", wrong bytes (checked against the old code)."""
    data = payload(48 * MiB, seed=1910)
    url = server.add("big.bin", data, Faults(rate=2 * MiB))  # per connection
    a, b = tmp_path / "site" / "A", tmp_path / "site" / "B"
    a.mkdir(parents=True)
    b.mkdir()
    args = ("--no-ui", "-q", "-o", "out", "-t", "8", "--chunk-size", "2M", url)

    _kill_when_sent(server, "big.bin", 10 * MiB, *args, cwd=a)
    sent = server.stats("big.bin").bytes_sent
    _kill_when_sent(server, "big.bin", sent + 24 * MiB, *args, cwd=b)
    assert (b / "out" / "big.bin.part").stat().st_size > (a / "out" / "big.bin.part").stat().st_size

    proc = run_cli(*args, cwd=a)

    assert proc.returncode == 0, proc.stderr.decode()
    assert file_sha256(a / "out" / "big.bin") == sha256(data)
    assert files_under(a) == [Path("out/big.bin")]
    assert files_under(b) == [Path("out/big.bin.part")]  # B's partial data is kept
    proc = run_cli(*args, cwd=b)
    assert proc.returncode == 0, proc.stderr.decode()
    assert file_sha256(b / "out" / "big.bin") == sha256(data)
    assert files_under(tmp_path / "site") == [Path("A/out/big.bin"), Path("B/out/big.bin")]


@pytest.mark.parametrize("mark", ["own", "another"])
def test_a_record_is_trusted_only_for_the_file_that_carries_its_mark(
    server: DevServer, out_dir: Path, tmp_path: Path, mark: str
) -> None:
    """The record claims the first MiB of ``r.bin.part``. With the file's own mark it
    is resumed from; with another file's mark (the ``.part`` was made anew since) it
    claims nothing, and the zeros in the file are never taken for data."""
    data = payload(3 * MiB, seed=1911)
    url = server.add("r.bin", data)
    pf = claim_part(OutputFolder(out_dir), "r.bin", None)
    assert pf is not None
    os.write(pf.fd, data[:MiB] if mark == "own" else bytes(MiB))
    own = pf.identity
    pf.close()
    token = own.token if mark == "own" else "another file's mark"
    opts = DownloadOptions(output_dir=out_dir, threads=2)

    async def go() -> int:
        async with EngineContext(opts, state_dir=tmp_path / "state") as ctx:
            assert ctx.store is not None
            remote = (await Download(ctx, url, opts).probe()).remote
            ctx.store.save(
                out_dir.resolve() / "r.bin.part", url=url, size=remote.size,
                etag=remote.etag, last_modified=remote.last_modified,
                durable=RangeSet([(0, MiB)]), identity=PartIdentity(own.dev, own.ino, token),
            )  # fmt: skip
            result = await download_to_disk(Download(ctx, url, opts))
            return result.resumed_bytes

    assert run(go()) == (MiB if mark == "own" else 0)
    assert file_sha256(out_dir / "r.bin") == sha256(data)
    assert files_under(out_dir) == [Path("r.bin")]
