"""What users of curl, wget and aria2c type, run as real subprocesses against the devserver."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from hydra_tui.devserver import DevServer, Faults
from tests.support.helpers import cli, file_sha256, payload, sha256

KiB = 1024
MiB = 1024 * KiB


def test_output_document_names_the_file(server: DevServer, tmp_path: Path) -> None:
    data = payload(3 * MiB, seed=31)
    url = server.add("a.bin", data)
    target = tmp_path / "sub" / "named.iso"
    proc = cli(url, "-O", str(target), "--no-ui", "-q")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(target) == sha256(data)
    assert not (tmp_path / "sub" / "a.bin").exists()


def test_output_document_dash_streams_to_stdout(server: DevServer) -> None:
    data = payload(2 * MiB, seed=32)
    url = server.add("b.bin", data)
    proc = cli(url, "-O", "-", "-q")
    assert proc.returncode == 0, proc.stderr
    assert sha256(proc.stdout) == sha256(data)


def test_output_document_needs_one_url(server: DevServer, tmp_path: Path) -> None:
    one, two = server.add("1.bin", b"1" * 10), server.add("2.bin", b"2" * 10)
    proc = cli(one, two, "-O", str(tmp_path / "x"), "--no-ui")
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1 and b"exactly one URL" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_dir_is_an_alias_of_output(server: DevServer, tmp_path: Path) -> None:
    data = payload(MiB + 7, seed=33)
    url = server.add("d.bin", data)
    proc = cli(url, "-d", str(tmp_path / "into"), "--no-ui", "-q")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(tmp_path / "into" / "d.bin") == sha256(data)


def test_output_naming_an_existing_file_is_one_clear_error(
    server: DevServer, tmp_path: Path
) -> None:
    url = server.add("e.bin", payload(MiB, seed=34))
    existing = tmp_path / "out.bin"
    existing.write_bytes(b"keep me")
    proc = cli(url, "-o", str(existing), "--no-ui")
    assert proc.returncode == 2
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and "existing file" in lines[0] and "-O" in lines[0]
    assert existing.read_bytes() == b"keep me"
    assert server.requests == []


def test_basic_auth_user_and_password(server: DevServer, out_dir: Path) -> None:
    data = payload(2 * MiB, seed=35)
    url = server.add("secret.bin", data, Faults(require_auth="ann:s3cret"))
    refused = cli(url, "-o", str(out_dir), "--no-ui", "-q")
    assert refused.returncode == 1 and b"401" in refused.stderr
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-q", "--user", "ann", "--password", "s3cret")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "secret.bin") == sha256(data)


def test_password_dash_reads_standard_input(server: DevServer, out_dir: Path) -> None:
    data = payload(MiB, seed=36)
    url = server.add("p.bin", data, Faults(require_auth="bob:pw with space"))
    proc = cli(
        url, "-o", str(out_dir), "--no-ui", "-q", "--user", "bob", "--password", "-",
        input=b"pw with space\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "p.bin") == sha256(data)
    token = base64.b64encode(b"bob:pw with space").decode()
    assert all(r.headers.get("authorization") == f"Basic {token}" for r in server.requests)


def test_referer_and_cookies(server: DevServer, out_dir: Path, tmp_path: Path) -> None:
    data = payload(MiB, seed=37)
    url = server.add("c.bin", data)
    jar = tmp_path / "cookies.txt"
    jar.write_text(
        "# Netscape HTTP Cookie File\n"
        "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc123\n"
        "example.org\tFALSE\t/\tFALSE\t0\televsewhere\tnope\n"
        "127.0.0.1\tFALSE\t/\tFALSE\t1\texpired\tlong-ago\n"
    )
    proc = cli(
        url, "-o", str(out_dir), "--no-ui", "-q", "--referer", "https://from.example/",
        "--cookie", "lang=en", "--cookie-jar", str(jar),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "c.bin") == sha256(data)
    for request in server.requests:
        assert request.headers.get("referer") == "https://from.example/"
        assert request.headers.get("cookie") == "lang=en; session=abc123"


def test_proxy_option(server: DevServer, out_dir: Path) -> None:
    data = payload(3 * MiB, seed=38)
    url = server.add("via.bin", data)
    with DevServer() as proxy:
        # the devserver answers absolute-form targets itself: it stands in for a proxy
        proxy.add("via.bin", data)
        proc = cli(url, "-o", str(out_dir), "--no-ui", "-q", "--proxy", proxy.base_url)
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "via.bin") == sha256(data)
    seen = proxy.requests
    assert seen and all(r.target == url for r in seen)
    assert server.requests == []


def test_limit_rate_holds_from_the_first_byte(server: DevServer, out_dir: Path) -> None:
    data = payload(256 * KiB, seed=39)  # the size of the unthrottled probe before
    url = server.add("slow.bin", data)
    began = time.monotonic()
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-q", "--limit-rate", "128K")
    elapsed = time.monotonic() - began
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "slow.bin") == sha256(data)
    assert elapsed >= 1.6, f"256 KiB at 128 KiB/s took {elapsed:.2f} s"
    first = server.requests[0]
    assert first.headers.get("range") == "bytes=0-16383"  # a small first burst, not 256 KiB


def test_limit_rate_total_caps_the_whole_run(server: DevServer, out_dir: Path) -> None:
    blobs = [payload(384 * KiB, seed=40 + i) for i in range(2)]
    urls = [server.add(f"t{i}.bin", blob) for i, blob in enumerate(blobs)]
    began = time.monotonic()
    proc = cli(*urls, "-o", str(out_dir), "--no-ui", "-q", "-j", "2", "--limit-rate-total", "256K")
    elapsed = time.monotonic() - began
    assert proc.returncode == 0, proc.stderr
    for i, blob in enumerate(blobs):
        assert file_sha256(out_dir / f"t{i}.bin") == sha256(blob)
    # 768 KiB at 256 KiB/s in all: about 3 s (each alone would be unlimited)
    assert elapsed >= 2.4, f"took {elapsed:.2f} s"


def test_verbose_logs_requests_ranges_and_reconnects(server: DevServer, out_dir: Path) -> None:
    data = payload(4 * MiB, seed=42)
    url = server.add("v.bin", data, Faults(reset_first=2, seed=3))
    proc = cli(url, "-o", str(out_dir), "--no-ui", "-v", "--progress", "none", "-t", "4")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "v.bin") == sha256(data)
    err = proc.stderr.decode()
    assert f"> GET {url} (bytes=0-262143)" in err
    assert "< 206 Partial Content" in err and "(bytes 0-262143/4194304)" in err
    assert "reconnecting" in err


def test_dry_run_downloads_nothing(server: DevServer, out_dir: Path) -> None:
    data = payload(5 * MiB, seed=43)
    url = server.add("dry.bin", data)
    proc = cli(url, "-o", str(out_dir), "--dry-run", "-t", "4")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert "dry.bin" in text and "5242880" in text and "ranges         yes" in text
    assert server.etag("dry.bin") in text
    assert "ranges of 1.0 MiB over up to 4 connections" in text
    assert list(out_dir.iterdir()) == []
    assert len(server.requests) == 1  # the probe only


def test_input_file_with_aria2c_options(server: DevServer, out_dir: Path, tmp_path: Path) -> None:
    a, b, c = (payload(MiB + i, seed=44 + i) for i in range(3))
    ua, ub, uc = server.add("a.bin", a), server.add("b.bin", b), server.add("c.bin", c)
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"{ua}\n  out=renamed.bin\n  checksum=sha-256={sha256(a)}\n"
        f"{ub}\n\tdir={tmp_path / 'other'}\n"
        f"{uc}\n  checksum=sha-256={'0' * 64}\n"
    )
    proc = cli("-i", str(listing), "-o", str(out_dir), "--no-ui", "-q")
    assert proc.returncode == 4  # c's checksum does not match
    assert file_sha256(out_dir / "renamed.bin") == sha256(a)
    assert file_sha256(tmp_path / "other" / "b.bin") == sha256(b)
    assert not (out_dir / "c.bin").exists()
    assert b"c.bin" in proc.stderr and b"mismatch" in proc.stderr


def test_continue_is_accepted_and_explained_once(server: DevServer, out_dir: Path) -> None:
    data = payload(MiB, seed=47)
    url = server.add("k.bin", data)
    proc = cli(url, "-c", "-o", str(out_dir), "--no-ui", "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    assert file_sha256(out_dir / "k.bin") == sha256(data)
    assert proc.stderr.decode().count("always resumes") == 1


def test_aria2c_connection_options_get_a_hint() -> None:
    for args in (["-x", "16"], ["-s", "16"], ["--split=8"], ["-x12"]):
        proc = cli(*args, "http://127.0.0.1:9/x")
        assert proc.returncode == 2
        number = args[-1].rpartition("=")[2].removeprefix("-x")
        assert f"-t {number}" in proc.stderr.decode()
        assert b"not an http(s) URL" not in proc.stderr


def _shown(table: str, key: str) -> list[str]:
    """The columns after ``key`` in ``config show``'s table (value, then where from)."""
    rows = [line.split() for line in table.splitlines()]
    found = [row[1:] for row in rows if row and row[0] == key]
    assert len(found) == 1, table
    return found[0]


def test_global_options_before_the_config_subcommand(tmp_path: Path) -> None:
    config = tmp_path / "my.toml"
    config.write_text("[defaults]\nthreads = 12\n")
    for args in (
        ["--config", str(config), "config", "show"],
        ["config", "show", "--config", str(config)],
    ):
        proc = cli(*args)
        assert proc.returncode == 0, proc.stderr
        assert _shown(proc.stdout.decode(), "threads")[:2] == ["12", "defaults"]


def test_save_preset_merges_and_replace_starts_afresh(tmp_path: Path) -> None:
    first = cli("config", "save-preset", "fast", "-t", "32", "--limit-rate", "50M")
    assert first.returncode == 0, first.stderr
    second = cli("config", "save-preset", "fast", "-t", "4")
    assert second.returncode == 0, second.stderr
    assert b"changed  threads = 32 -> 4" in second.stdout
    assert b"kept     limit-rate" in second.stdout
    shown = cli("config", "show", "--preset", "fast").stdout.decode()
    assert _shown(shown, "threads")[0] == "4"
    assert "50" in _shown(shown, "limit-rate")[0]
    third = cli("config", "save-preset", "fast", "--replace", "-t", "2")
    assert third.returncode == 0, third.stderr
    shown = cli("config", "show", "--preset", "fast").stdout.decode()
    assert _shown(shown, "threads")[0] == "2"
    assert _shown(shown, "limit-rate")[-1] == "built-in"


def test_habit_option_mistakes_are_one_line_usage_errors(tmp_path: Path) -> None:
    import io

    import pytest

    from hydra_tui.cli.args import parse
    from hydra_tui.errors import UsageError

    url = "http://127.0.0.1:9/x"
    listing = tmp_path / "l.txt"
    cases = {
        ("-d", "a", "-o", "b", url): "-d/--dir and -o/--output",
        ("--password", "p", url): "--password needs --user",
        ("--proxy", "ftp://p:1", url): "--proxy needs a URL",
        ("--limit-rate-total", "fast", url): "--limit-rate-total",
        ("-O", str(tmp_path), url): "that is a folder",
        ("-i", str(listing),): "unknown option 'split'",
    }  # fmt: skip
    listing.write_text(f"{url}\n  split=4\n")
    for args, needle in cases.items():
        with pytest.raises(UsageError, match=needle):
            parse(list(args), stdin=io.StringIO())
    args = parse(["-O", "-", url])
    assert args.stream and args.per_url == {}
