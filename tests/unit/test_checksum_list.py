"""Parsing checksum files (sha256sum/md5sum, binary marker, escapes, BSD tags), picking
a download's line by name, and the one judgement of what was hashed."""

from __future__ import annotations

import hashlib

import pytest

from hydra_tui.engine.io.checksums import (
    check_digests,
    expected_digests,
    new_hashers,
    parse_checksum_list,
)
from hydra_tui.engine.options import DownloadOptions
from hydra_tui.errors import ChecksumMismatch, UsageError

A = hashlib.sha256(b"a").hexdigest()
B = hashlib.sha256(b"b").hexdigest()
M = hashlib.md5(b"m").hexdigest()


def test_gnu_text_and_binary_lines() -> None:
    found = parse_checksum_list(f"# made by sha256sum\n{A}  a.iso\n{B} *b.iso\r\n\n", "SUMS")
    assert found.pick(["a.iso"]) == ("sha256", A)
    assert found.pick(["b.iso"]) == ("sha256", B)


def test_bsd_tag_lines_and_md5() -> None:
    found = parse_checksum_list(f"SHA256 (a.iso) = {A.upper()}\nMD5 (m.tar.gz) = {M}\n", "S")
    assert found.pick(["a.iso"]) == ("sha256", A)
    assert found.pick(["m.tar.gz"]) == ("md5", M)


def test_escaped_name_and_path_prefix() -> None:
    found = parse_checksum_list(f"\\{A}  odd\\\\name\n{B}  ./dist/b.whl\n", "S")
    assert found.pick(["odd\\name"]) == ("sha256", A)
    assert found.pick(["b.whl"]) == ("sha256", B)


def test_first_matching_name_wins() -> None:
    found = parse_checksum_list(f"{A}  saved.bin\n{B}  url.bin\n", "S")
    assert found.pick(["", "saved.bin", "url.bin"]) == ("sha256", A)
    assert found.pick(["nope", "url.bin"]) == ("sha256", B)


def test_no_line_is_one_clear_error() -> None:
    found = parse_checksum_list(f"{A}  a.iso\n", "SHA256SUMS")
    with pytest.raises(UsageError, match=r"SHA256SUMS has no line for c\.iso"):
        found.pick(["c.iso"])


def test_conflicting_lines_are_refused() -> None:
    found = parse_checksum_list(f"{A}  x/a.iso\n{B}  y/a.iso\n", "S")
    with pytest.raises(UsageError, match="different checksums"):
        found.pick(["a.iso"])


@pytest.mark.parametrize("bad", ["hello world", f"{A[:-1]}  a", f"SHA256 (a) = {M}", "abc"])
def test_malformed_line_names_its_number(bad: str) -> None:
    with pytest.raises(UsageError, match=r"S:2: not a checksum line"):
        parse_checksum_list(f"{A}  ok\n{bad}\n", "S")


def test_empty_list_is_refused() -> None:
    with pytest.raises(UsageError, match="no checksum lines"):
        parse_checksum_list("# nothing\n", "S")


def test_expected_digests_merges_with_explicit_option() -> None:
    found = parse_checksum_list(f"{A}  a.iso\n", "S")
    both = DownloadOptions(md5=M, checksum_list=found)
    assert expected_digests(both, ["a.iso"]) == {"md5": M, "sha256": A}
    clash = DownloadOptions(sha256=B, checksum_list=found)
    with pytest.raises(UsageError, match="disagree"):
        expected_digests(clash, ["a.iso"])


def test_check_digests_names_the_mismatch_and_where_the_bytes_are() -> None:
    data = b"hydra"
    found = {alg: h.hexdigest() for alg, h in _hashed(data).items()}
    wanted = {"sha256": hashlib.sha256(data).hexdigest(), "md5": "0" * 32}
    with pytest.raises(ChecksumMismatch) as caught:
        check_digests(wanted, found, kept="f.iso.part")
    assert str(caught.value) == (
        f"md5 mismatch: expected {'0' * 32}, got {hashlib.md5(data).hexdigest()}; kept f.iso.part"
    )


def test_check_digests_describes_what_it_verified() -> None:
    data = b"hydra"
    found = {alg: h.hexdigest() for alg, h in _hashed(data).items()}
    wanted = {"md5": found["md5"], "sha256": found["sha256"]}
    assert check_digests(wanted, found) == f"md5 {found['md5']}, sha256 {found['sha256']}"
    assert check_digests({}, found) is None


def _hashed(data: bytes) -> dict[str, hashlib._Hash]:
    hashers = new_hashers(["sha256", "md5"])
    for h in hashers.values():
        h.update(data)
    return hashers
