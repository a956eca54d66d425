"""Metalink 4 (``.meta4``, a path or a URL): mirrors by priority, the name under ``-o``,
piece hashes that catch a lying mirror at the piece, and hostile documents refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hydra_tui.devserver import DevServer, Faults
from hydra_tui.engine.mirrors.metalink import parse_metalink
from hydra_tui.errors import UsageError
from tests.support.helpers import cli, file_sha256, payload, sha256

MiB = 1024 * 1024


@pytest.fixture
def hosts() -> Iterator[tuple[DevServer, DevServer, DevServer]]:
    with DevServer() as a, DevServer() as b, DevServer() as c:
        yield a, b, c


def pieces_xml(data: bytes, length: int, kind: str) -> str:
    """A ``<pieces>`` element of ``kind`` (``sha-256``, ``sha-1``, ``md5``) for ``data``."""
    algorithm = kind.replace("-", "")
    hashes = "".join(
        f"<hash>{hashlib.new(algorithm, data[i : i + length]).hexdigest()}</hash>"
        for i in range(0, len(data), length)
    )
    return f'<pieces length="{length}" type="{kind}">{hashes}</pieces>'


def meta4(name: str, data: bytes, urls: list[str], *, piece: int | None = None,
          digest: str | None = None, piece_type: str = "sha-256") -> str:  # fmt: skip
    pieces = "" if piece is None else pieces_xml(data, piece, piece_type)
    links = "".join(f'<url priority="{i}">{u}</url>' for i, u in enumerate(urls, 1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<metalink xmlns="urn:ietf:params:xml:ns:metalink">'
        f'<file name="{name}"><size>{len(data)}</size>'
        f'<hash type="sha-256">{digest or sha256(data)}</hash>{pieces}{links}</file>'
        "</metalink>"
    )


@pytest.mark.parametrize("piece_type", ["sha-256", "sha-1"])  # sha-1: MirrorBrain's
def test_lying_mirror_caught_at_the_piece(
    hosts: tuple[DevServer, ...], out_dir: Path, tmp_path: Path, piece_type: str
) -> None:
    a, b, c = hosts
    data = payload(12 * MiB + 99, seed=11)
    ua = a.add("f.iso", data, Faults(rate=4 * MiB))
    ub = b.add("f.iso", data, Faults(rate=4 * MiB))
    uc = c.add("f.iso", data, Faults(lie="flip", lie_after=1))  # honest probe, then lies
    doc = tmp_path / "f.meta4"
    doc.write_text(meta4("nice.iso", data, [ua, ub, uc], piece=MiB, piece_type=piece_type))
    proc = cli(str(doc), "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "nice.iso") == sha256(data)
    dropped = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert len(dropped) == 1 and uc.encode() in dropped[0]
    assert f"fails its {piece_type.replace('-', '')} check".encode() in dropped[0]
    assert c.stats("f.iso").faults["lie"] >= 1  # it did lie, and no lie reached the file


def test_parse_takes_the_strongest_pieces() -> None:
    """sha-256 pieces win over sha-1 and md5 ones, whatever their order."""
    data = payload(3000, seed=13)
    body = (
        pieces_xml(data, 500, "md5")
        + pieces_xml(data, 1000, "sha-1")
        + pieces_xml(data, 1500, "sha-256")
    )
    doc = (
        '<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="f.iso">'
        f"{body}<url>http://h/f.iso</url></file></metalink>"
    )
    (f,) = parse_metalink(doc.encode(), "t.meta4")
    assert f.pieces is not None and (f.pieces.algorithm, f.pieces.length) == ("sha256", 1500)
    (g,) = parse_metalink(doc.replace(pieces_xml(data, 1500, "sha-256"), "").encode(), "t.meta4")
    assert g.pieces is not None and (g.pieces.algorithm, len(g.pieces.digests)) == ("sha1", 3)


def test_metalink_url_with_two_files_and_a_subfolder(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    a, b, _ = hosts
    one, two = payload(3 * MiB, seed=12), payload(2 * MiB + 1, seed=13)
    u1 = [s.add("one.bin", one) for s in (a, b)]
    u2 = [s.add("two.bin", two) for s in (a, b)]
    first = meta4("x.bin", one, u1, piece=512 * 1024)
    second = meta4("sub/y.bin", two, u2)
    body = first.split("</metalink>")[0] + second.split('metalink">', 1)[1]
    url = a.add("set.meta4", body.encode(), Faults(content_type="application/metalink4+xml"))
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "x.bin") == sha256(one)
    assert file_sha256(out_dir / "sub" / "y.bin") == sha256(two)


def test_whole_file_hash_mismatch_exits_3(
    hosts: tuple[DevServer, ...], out_dir: Path, tmp_path: Path
) -> None:
    a, b, _ = hosts
    data = payload(3 * MiB, seed=14)
    urls = [s.add("f.iso", data) for s in (a, b)]
    doc = tmp_path / "f.meta4"
    doc.write_text(meta4("f.iso", data, urls, digest="0" * 64))
    proc = cli(str(doc), "-o", str(out_dir), "--no-ui", "-q")
    assert proc.returncode == 3
    assert b"sha256 mismatch" in proc.stderr
    assert file_sha256(out_dir / "f.iso.part") == sha256(data)  # kept, not published


@pytest.mark.parametrize(
    ("name", "why"),
    [("../evil.sh", b"unsafe file name"), ("/etc/passwd", b"unsafe file name"),
     ("a/../../b", b"unsafe file name")],
)  # fmt: skip
def test_path_traversal_name_refused(
    server: DevServer, out_dir: Path, tmp_path: Path, name: str, why: bytes
) -> None:
    data = payload(1000, seed=15)
    doc = tmp_path / "bad.meta4"
    doc.write_text(meta4(name, data, [server.add("f", data)]))
    proc = cli(str(doc), "-o", str(out_dir), "--no-ui")
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1 and why in proc.stderr
    assert list(out_dir.iterdir()) == []
    assert server.stats("f").requests == 0


def test_entity_expansion_refused(server: DevServer, out_dir: Path, tmp_path: Path) -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doc = tmp_path / "bomb.meta4"
    doc.write_text(
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY l0 "lol">{lol}]>'
        '<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="&l9;">'
        f"<url>{server.add('f', b'x' * 10)}</url></file></metalink>"
    )
    proc = cli(str(doc), "-o", str(out_dir), "--no-ui")
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1 and b"DTD or entities refused" in proc.stderr
    assert list(out_dir.iterdir()) == []


def test_parse_orders_by_priority_and_skips_other_schemes() -> None:
    doc = (
        b'<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="d/e.iso">'
        b'<url priority="5">http://b.example/e</url><url>http://c.example/e</url>'
        b'<url priority="1">ftp://x.example/e</url><url priority="2">https://a.example/e</url>'
        b"</file></metalink>"
    )
    (f,) = parse_metalink(doc, "t")
    assert f.urls == ("https://a.example/e", "http://b.example/e", "http://c.example/e")
    assert (f.name, f.subdir, f.size, f.pieces) == ("e.iso", "d", None, None)
    with pytest.raises(UsageError, match="not a Metalink 4"):
        parse_metalink(b"<metalink/>", "t")
    with pytest.raises(UsageError, match="bad hash"):
        parse_metalink(doc.replace(b"</file>", b'<hash type="sha-256">zz</hash></file>'), "t")


@pytest.mark.parametrize("status", [404, 500])
def test_failing_first_url_falls_back_by_priority(
    hosts: tuple[DevServer, ...], out_dir: Path, tmp_path: Path, status: int
) -> None:
    """The first URL answers an error: the next by priority becomes the reference, the
    pieces are still checked, and one warning names the dropped URL."""
    a, b, c = hosts
    data = payload(5 * MiB + 17, seed=16)
    bad = a.add("f.iso", data, Faults(status=status))
    ub = b.add("f.iso", data, Faults(rate=4 * MiB))
    uc = c.add("f.iso", data, Faults(rate=4 * MiB))
    doc = tmp_path / "f.meta4"
    doc.write_text(meta4("f.iso", data, [bad, ub, uc], piece=MiB))
    proc = cli(str(doc), "-o", str(out_dir), "--no-ui", "-t", "2", "--retries", "1")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    dropped = [line for line in proc.stderr.splitlines() if b"dropped" in line]
    assert len(dropped) == 1 and bad.encode() in dropped[0], dropped
    assert f"going on from its mirror {ub}".encode() in dropped[0]
    assert b.stats("f.iso").bytes_sent > MiB and c.stats("f.iso").bytes_sent > MiB


def test_first_url_with_the_wrong_size_falls_back(
    hosts: tuple[DevServer, ...], out_dir: Path, tmp_path: Path
) -> None:
    a, b, _ = hosts
    data = payload(3 * MiB, seed=17)
    short = a.add("f.iso", data[:-1])
    ub = b.add("f.iso", data)
    doc = tmp_path / "f.meta4"
    doc.write_text(meta4("f.iso", data, [short, ub]))
    proc = cli(str(doc), "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert f"it has {len(data) - 1} bytes, the metalink says {len(data)}".encode() in proc.stderr
    assert a.stats("f.iso").requests == 1  # the probe, nothing after it


def test_metalink_url_found_by_its_content_type(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    """No ``.meta4`` in the name: the probe's Content-Type says it, and its body is the
    document (one request to the metalink's server for it)."""
    a, b, _ = hosts
    data = payload(3 * MiB + 5, seed=18)
    urls = [s.add("f.iso", data) for s in (a, b)]
    doc = meta4("f.iso", data, urls, piece=MiB).encode()
    url = a.add("get?id=7", doc, Faults(content_type="application/metalink4+xml; charset=utf-8"))
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-t", "2", "--progress=jsonl")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    assert a.stats("get?id=7").requests == 1
    assert sorted(p.name for p in out_dir.iterdir()) == ["f.iso"]  # the metalink is not saved
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    (done,) = [e for e in events if e["event"] == "done"]
    assert done["path"].endswith("f.iso")
    assert not [e for e in events if e["event"] in ("error", "warning")], events


def test_large_metalink_found_by_type_is_fetched_whole(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    """A document longer than the probe (256 KiB) is fetched again, whole: rare, so
    the common case keeps its single request."""
    a, b, _ = hosts
    data = payload(2 * MiB, seed=19)
    urls = [s.add("f.iso", data) for s in (a, b)]
    doc = meta4("f.iso", data, urls).replace("<file ", f"<!-- {'x' * 400_000} --><file ")
    url = a.add("list", doc.encode(), Faults(content_type="application/metalink4+xml"))
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-t", "2")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)
    # the probe that found it, then the document again (its own probe and the rest)
    assert a.stats("list").requests == 3


def test_metalink3_refused_in_one_line(server: DevServer, out_dir: Path) -> None:
    doc = (
        b'<?xml version="1.0"?><metalink version="3.0" xmlns="http://www.metalinker.org/">'
        b'<files><file name="f.iso"><resources><url type="http">http://127.0.0.1:9/f.iso'
        b"</url></resources></file></files></metalink>"
    )
    url = server.add("old", doc, Faults(content_type="application/metalink+xml"))
    proc = cli(url, "-o", str(out_dir), "--no-ui")
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1 and b"a Metalink 3 document" in proc.stderr
    assert list(out_dir.iterdir()) == []


def test_metalink4_labelled_as_version_3_is_read(
    hosts: tuple[DevServer, ...], out_dir: Path
) -> None:
    """The document decides, not the label: some servers call every metalink
    application/metalink+xml."""
    a, b, _ = hosts
    data = payload(MiB + 1, seed=20)
    urls = [s.add("f.iso", data) for s in (a, b)]
    url = a.add(
        "m", meta4("f.iso", data, urls).encode(), Faults(content_type="application/metalink+xml")
    )
    proc = cli(url, "-o", str(out_dir), "--no-ui")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "f.iso") == sha256(data)


def test_metalink3_file_refused_in_one_line(out_dir: Path, tmp_path: Path) -> None:
    doc = tmp_path / "old.metalink"
    doc.write_bytes(
        b'<metalink version="3.0" xmlns="http://www.metalinker.org/"><files/></metalink>'
    )
    proc = cli(str(doc), "-o", str(out_dir), "--no-ui")
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1 and b"a Metalink 3 document" in proc.stderr
