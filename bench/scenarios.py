"""The scenarios: which commands run against which file, and how each output is checked.

A ``Case`` is one command line; ``go(work)`` runs it once in an empty folder ``work`` and
returns a checked ``Sample``. Peers that are not installed become skipped cases, so the
tables always show the same rows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from measure import Sample, run_captured, run_command, run_first_byte, run_piped, sha256_file
from servers import Server

__all__ = ["Bench", "Case", "Scenario", "TestFile", "build_scenarios"]

MIB = 1024 * 1024
#: the stream consumer of (b)/(c), as in issue 7: ``-r`` prints ``HEX *stdin`` (coreutils
#: style), so the digest is the first word
DIGEST_ARGS = ("dgst", "-sha256", "-r")
DIGEST = "openssl dgst -sha256"
_HYDRA_XDG = ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")


@dataclass(frozen=True)
class TestFile:
    """A file the server offers: its URL path, size and digest."""

    __test__ = False  # not a pytest class, whatever collects it

    name: str
    size: int
    sha256: str
    head: bytes = b""

    @property
    def basename(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass
class Bench:
    """Everything a case needs: the server, the files, the tools and the limits."""

    server: Server
    big: TestFile
    capped: TestFile
    many: list[TestFile]
    many_list: Path
    hydra: list[str]
    tools: dict[str, str | None]
    env: dict[str, str]
    runs: int
    timeout: float

    def trust(self, tool: str) -> list[str]:
        """The options that make ``tool`` trust the https server's self-signed
        certificate (axel has none: it runs with ``--insecure``)."""
        ca = self.server.ca_file
        if ca is None:
            return []
        return {
            "hydra": ["--ca-certificate", str(ca)],
            "curl": ["--cacert", str(ca)],
            "aria2c": [f"--ca-certificate={ca}"],
            "axel": ["--insecure"],
        }[tool]

    def shown(self, tool: str) -> str:
        """``trust(tool)`` as the table's command column shows it."""
        args = self.trust(tool)
        return "".join(f" {a}" for a in args).replace(str(self.server.ca_file), "CA.pem")


@dataclass
class Case:
    label: str
    command: str
    """The command as a reader would type it, with ``$URL``/``$DIR`` placeholders."""
    go: Callable[[Path], Sample] | None
    """None when a tool is missing: the case is reported as skipped."""
    nbytes: int
    files: int = 1
    skipped: str = ""


@dataclass
class Scenario:
    key: str
    title: str
    notes: str
    cases: list[Case]
    runs: int
    ideal_mib_s: float | None = None
    reference: str = ""
    """Label of the peer each row's speed is compared with (``× ref`` column)."""
    samples: dict[str, list[Sample]] = field(default_factory=dict)


def _hydra_env(bench: Bench, work: Path) -> dict[str, str]:
    """hydra-tui's config, state and logs live in the run's own folder."""
    env = dict(bench.env)
    for var in _HYDRA_XDG:
        path = work / "xdg" / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    return env


#: what hydra-tui logs when httpx, not its lean reader, fetches (``engine/http/rawhttp.py``,
#: ``engine/transfer.py``, ``engine/download.py``)
_SLOW_PATH = ("httpx instead of the lean reader", "falls back to httpx", "probing through httpx")


def _slow_path(work: Path) -> str:
    """The first line of the run's hydra-tui log that says httpx took over, or ""."""
    for log in sorted((work / "xdg").glob("xdg_state_home/hydra-tui/log/*.log*")):
        for line in log.read_text(errors="replace").splitlines():
            if any(marker in line for marker in _SLOW_PATH):
                return line.split(": ", 1)[-1][:160]
    return ""


def _noting_slow_path(sample: Sample, work: Path) -> Sample:
    sample.slow_path = _slow_path(work)
    return sample


def _check_file(sample: Sample, path: Path, want: TestFile) -> Sample:
    if not sample.ok:
        return sample
    if not path.is_file():
        found = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
        return sample.fail(f"no output {path.name}; the folder holds {found[:5]}")
    if path.stat().st_size != want.size:
        return sample.fail(f"{path.name}: {path.stat().st_size} bytes, want {want.size}")
    if sha256_file(path) != want.sha256:
        return sample.fail(f"{path.name}: sha256 mismatch")
    return sample


def _check_many(sample: Sample, folder: Path, files: Sequence[TestFile]) -> Sample:
    if not sample.ok:
        return sample
    bad = [f.basename for f in files if not _same(folder / f.basename, f)]
    if bad:
        return sample.fail(f"{len(bad)} of {len(files)} files missing or wrong, e.g. {bad[:3]}")
    return sample


def _same(path: Path, want: TestFile) -> bool:
    return path.is_file() and path.stat().st_size == want.size and sha256_file(path) == want.sha256


def _check_digest(sample: Sample, output: str, want: TestFile) -> Sample:
    if sample.ok and output.split()[:1] != [want.sha256]:
        sample.fail(f"the digest printed was {output.strip()[:20]}…, want {want.sha256[:16]}…")
    return sample


def _digest_argv(bench: Bench, *files: str) -> list[str] | None:
    """``openssl dgst -sha256 -r [FILE]``, or None without openssl."""
    openssl = bench.tools["openssl"]
    return None if openssl is None else [openssl, *DIGEST_ARGS, *files]


def _exit_only(sample: Sample) -> Sample:
    if sample.ok:
        sample.verified = "exit status"
    return sample


# --- hydra-tui ------------------------------------------------------------------------------


def hydra_disk(bench: Bench, want: TestFile, threads: int, *, capped: bool = False) -> Case:
    url = bench.server.url(want.name, capped=capped)

    def go(work: Path) -> Sample:
        out = work / "out"
        out.mkdir()
        argv = [*bench.hydra, url, "--no-ui", "-q", "-t", str(threads), "-o", str(out)]
        argv += bench.trust("hydra")
        sample = run_command(argv, env=_hydra_env(bench, work), timeout=bench.timeout)
        return _noting_slow_path(_check_file(sample, out / want.basename, want), work)

    return Case(
        f"hydra-tui -t {threads} (disk)",
        f"hydra-tui $URL --no-ui -q -t {threads} -o $DIR{bench.shown('hydra')}",
        go,
        want.size,
    )


def hydra_stream(
    bench: Bench,
    want: TestFile,
    threads: int,
    *,
    buffer: str | None = None,
    sha: bool = True,
    capped: bool = False,
) -> Case:
    url = bench.server.url(want.name, capped=capped)
    extra = ["-b", buffer] if buffer else []
    consumer = _digest_argv(bench)
    tail = f"| {DIGEST}" if sha else "> /dev/null"
    label = f"hydra-tui --stream -t {threads}{' -b ' + buffer if buffer else ''} {tail}"
    command = (
        f"hydra-tui --stream $URL -q -t {threads}{' -b ' + buffer if buffer else ''}"
        f"{bench.shown('hydra')} {tail}"
    )

    def go(work: Path) -> Sample:
        argv = [*bench.hydra, "--stream", url, "-q", "-t", str(threads), *extra]
        argv += bench.trust("hydra")
        env = _hydra_env(bench, work)
        if not sha:
            return _noting_slow_path(
                _exit_only(run_command(argv, env=env, timeout=bench.timeout)), work
            )
        assert consumer is not None
        sample, output = run_piped(argv, consumer, env=env, timeout=bench.timeout)
        return _noting_slow_path(_check_digest(sample, output, want), work)

    missing = sha and consumer is None
    return Case(
        label,
        command,
        None if missing else go,
        want.size,
        skipped="no openssl" if missing else "",
    )


def hydra_many(bench: Bench, jobs: int) -> Case:
    def go(work: Path) -> Sample:
        out = work / "out"
        out.mkdir()
        argv = [*bench.hydra, "--no-ui", "-q", "-i", str(bench.many_list), "-j", str(jobs)]
        argv += ["-t", "1", "-o", str(out), *bench.trust("hydra")]
        sample = run_command(argv, env=_hydra_env(bench, work), timeout=bench.timeout)
        return _noting_slow_path(_check_many(sample, out, bench.many), work)

    total = sum(f.size for f in bench.many)
    return Case(
        f"hydra-tui -i -j {jobs} -t 1",
        f"hydra-tui --no-ui -q -i list.txt -j {jobs} -t 1 -o $DIR{bench.shown('hydra')}",
        go,
        total,
        files=len(bench.many),
    )


def hydra_version(bench: Bench) -> Case:
    def go(work: Path) -> Sample:
        argv = [*bench.hydra, "--version"]
        return _exit_only(run_command(argv, env=_hydra_env(bench, work), timeout=60))

    return Case("hydra-tui --version", "hydra-tui --version", go, 0)


def hydra_first_byte(bench: Bench, want: TestFile, threads: int) -> Case:
    url = bench.server.url(want.name)

    def go(work: Path) -> Sample:
        argv = [*bench.hydra, "--stream", url, "-q", "-t", str(threads), *bench.trust("hydra")]
        env = _hydra_env(bench, work)
        return run_first_byte(argv, env=env, timeout=bench.timeout, expect=want.head)

    return Case(
        f"hydra-tui --stream -t {threads} (first byte)",
        f"hydra-tui --stream $URL -q -t {threads}",
        go,
        0,
    )


# --- peers ----------------------------------------------------------------------------------


def _missing(label: str, command: str, tool: str, nbytes: int, files: int = 1) -> Case:
    return Case(label, command, None, nbytes, files, skipped=f"{tool} not installed")


def curl_disk(bench: Bench, want: TestFile) -> Case:
    curl = bench.tools["curl"]
    label = "curl (disk, 1 conn)"
    command = f"curl -s -f{bench.shown('curl')} -o $DIR/NAME $URL"
    if curl is None:
        return _missing(label, command, "curl", want.size)
    url = bench.server.url(want.name)

    def go(work: Path) -> Sample:
        path = work / want.basename
        sample = run_command(
            [curl, "-s", "-f", *bench.trust("curl"), "-o", str(path), url],
            env=bench.env,
            timeout=bench.timeout,
        )
        return _check_file(sample, path, want)

    return Case(label, command, go, want.size)


def curl_stream(bench: Bench, want: TestFile, *, sha: bool) -> Case:
    curl, consumer = bench.tools["curl"], _digest_argv(bench)
    tail = f"| {DIGEST}" if sha else "-o /dev/null"
    label, command = f"curl {tail}", f"curl -s -f{bench.shown('curl')} $URL {tail}"
    if curl is None or (sha and consumer is None):
        return _missing(label, command, "curl or openssl", want.size)
    url = bench.server.url(want.name)

    def go(work: Path) -> Sample:
        if not sha:
            argv = [curl, "-s", "-f", *bench.trust("curl"), "-o", os.devnull, url]
            return _exit_only(run_command(argv, env=bench.env, timeout=bench.timeout))
        assert consumer is not None
        sample, output = run_piped(
            [curl, "-s", "-f", *bench.trust("curl"), url],
            consumer,
            env=bench.env,
            timeout=bench.timeout,
        )
        return _check_digest(sample, output, want)

    return Case(label, command, go, want.size)


def curl_first_byte(bench: Bench, want: TestFile) -> Case:
    curl = bench.tools["curl"]
    label, command = "curl (first byte)", f"curl -s{bench.shown('curl')} $URL"
    if curl is None:
        return _missing(label, command, "curl", 0)
    url = bench.server.url(want.name)

    def go(work: Path) -> Sample:
        return run_first_byte(
            [curl, "-s", *bench.trust("curl"), url],
            env=bench.env,
            timeout=bench.timeout,
            expect=want.head,
        )

    return Case(label, command, go, 0)


def curl_many(bench: Bench, jobs: int) -> Case:
    curl = bench.tools["curl"]
    label = f"curl -Z --parallel-max {jobs}"
    command = (
        f"curl -s -f{bench.shown('curl')} -Z --parallel-max {jobs} --output-dir $DIR "
        "--remote-name-all URL…"
    )
    total = sum(f.size for f in bench.many)
    if curl is None:
        return _missing(label, command, "curl", total, len(bench.many))
    urls = [bench.server.url(f.name) for f in bench.many]

    def go(work: Path) -> Sample:
        out = work / "out"
        out.mkdir()
        argv = [curl, "-s", "-f", *bench.trust("curl"), "-Z", "--parallel-max", str(jobs)]
        argv += ["--output-dir", str(out)]
        sample = run_command(
            [*argv, "--remote-name-all", *urls], env=bench.env, timeout=bench.timeout
        )
        return _check_many(sample, out, bench.many)

    return Case(label, command, go, total, files=len(bench.many))


def aria2c_disk(bench: Bench, want: TestFile, *, capped: bool = False) -> Case:
    aria2c = bench.tools["aria2c"]
    label = "aria2c -x16 -s16 (disk)"
    command = (
        f"aria2c -x16 -s16 -k1M --file-allocation=none{bench.shown('aria2c')} -d $DIR -o NAME $URL"
    )
    if aria2c is None:
        return _missing(label, command, "aria2c", want.size)
    url = bench.server.url(want.name, capped=capped)

    def go(work: Path) -> Sample:
        argv = [aria2c, "--no-conf", "-q", "-x16", "-s16", "-k1M", "--file-allocation=none"]
        argv += [*bench.trust("aria2c"), "-d", str(work), "-o", want.basename, url]
        sample = run_command(argv, env=bench.env, timeout=bench.timeout)
        return _check_file(sample, work / want.basename, want)

    return Case(label, command, go, want.size)


def aria2c_many(bench: Bench, jobs: int) -> Case:
    aria2c = bench.tools["aria2c"]
    label = f"aria2c -i -j {jobs}"
    command = (
        f"aria2c -i list.txt -j {jobs} -x1 --file-allocation=none{bench.shown('aria2c')} -d $DIR"
    )
    total = sum(f.size for f in bench.many)
    if aria2c is None:
        return _missing(label, command, "aria2c", total, len(bench.many))

    def go(work: Path) -> Sample:
        out = work / "out"
        argv = [aria2c, "--no-conf", "-q", "-i", str(bench.many_list), "-j", str(jobs), "-x1"]
        argv += ["--file-allocation=none", *bench.trust("aria2c"), "-d", str(out)]
        sample = run_command(argv, env=bench.env, timeout=bench.timeout)
        return _check_many(sample, out, bench.many)

    return Case(label, command, go, total, files=len(bench.many))


def axel_disk(bench: Bench, want: TestFile, *, capped: bool = False) -> Case:
    axel = bench.tools["axel"]
    label = "axel -n 16 (disk)"
    command = f"axel -n 16 -q{bench.shown('axel')} -o $DIR/NAME $URL"
    if axel is None:
        return _missing(label, command, "axel", want.size)
    url = bench.server.url(want.name, capped=capped)

    def go(work: Path) -> Sample:
        path = work / want.basename
        sample = run_command(
            [axel, "-n", "16", "-q", *bench.trust("axel"), "-o", str(path), url],
            env=bench.env,
            timeout=bench.timeout,
        )
        return _check_file(sample, path, want)

    return Case(label, command, go, want.size)


def digest_file(bench: Bench, want: TestFile, source: Path) -> Case:
    """The consumer's own ceiling: ``openssl dgst -sha256`` over the (cached) source file."""
    label, command = f"{DIGEST} FILE (consumer ceiling)", f"{DIGEST} FILE"
    argv = _digest_argv(bench, str(source))
    if argv is None:
        return _missing(label, command, "openssl", want.size)

    def go(work: Path) -> Sample:
        assert argv is not None
        sample, output = run_captured(argv, env=bench.env, timeout=bench.timeout)
        return _check_digest(sample, output, want)

    return Case(label, command, go, want.size)


def python_startup(bench: Bench) -> Case:
    def go(work: Path) -> Sample:
        return _exit_only(run_command([sys.executable, "-c", "pass"], env=bench.env, timeout=60))

    return Case("python -c pass (same interpreter)", "python -c pass", go, 0)


# --- the scenarios --------------------------------------------------------------------------


def build_scenarios(bench: Bench, source: Path, only: Sequence[str]) -> list[Scenario]:
    big, capped = bench.big, bench.capped
    cap = bench.server.cap_mib_s
    jobs = 16
    scenarios = [
        Scenario(
            "a",
            f"(a) {big.size // MIB} MiB to disk, unthrottled",
            "Output file verified by sha256 after every run.",
            [
                hydra_disk(bench, big, 1),
                hydra_disk(bench, big, 4),
                hydra_disk(bench, big, 16),
                curl_disk(bench, big),
                aria2c_disk(bench, big),
                axel_disk(bench, big),
            ],
            bench.runs,
            reference="curl (disk, 1 conn)",
        ),
        Scenario(
            "b",
            f"(b) {capped.size // MIB} MiB, {cap} MiB/s per connection, 16 connections",
            f"Ideal = 16 × {cap} MiB/s = {16 * cap} MiB/s. "
            + (
                "nginx's `limit_rate` lets each response run up to one second's worth "
                f"({cap} MiB) ahead of the rate, so a tool can beat the nominal ideal."
                if bench.server.kind == "nginx"
                else ""
            ),
            [
                hydra_disk(bench, capped, 16, capped=True),
                hydra_stream(bench, capped, 16, capped=True),
                aria2c_disk(bench, capped, capped=True),
                axel_disk(bench, capped, capped=True),
            ],
            bench.runs,
            ideal_mib_s=16.0 * cap,
        ),
        Scenario(
            "c",
            f"(c) stream {big.size // MIB} MiB to a pipe, unthrottled",
            "RSS and CPU are the downloader's own (hydra-tui or curl); the consumer's "
            f"(`{DIGEST}`) CPU is apart. `> /dev/null` rows are checked by exit status "
            f"only; `| {DIGEST}` rows by the digest it prints.",
            [
                hydra_stream(bench, big, 16, sha=False),
                hydra_stream(bench, big, 16),
                hydra_stream(bench, big, 16, buffer="64MiB"),
                hydra_stream(bench, big, 4),
                curl_stream(bench, big, sha=False),
                curl_stream(bench, big, sha=True),
                digest_file(bench, big, source),
            ],
            bench.runs,
            reference=f"curl | {DIGEST}",
        ),
        Scenario(
            "d",
            "(d) start-up and time to first byte",
            "First byte: from spawn until the first read of the stream's stdout pipe returns "
            f"data ({big.size // MIB} MiB file), then the reader hangs up.",
            [
                hydra_version(bench),
                python_startup(bench),
                hydra_first_byte(bench, big, 16),
                hydra_first_byte(bench, big, 1),
                curl_first_byte(bench, big),
            ],
            max(5, bench.runs),
        ),
        Scenario(
            "e",
            f"(e) {len(bench.many)} files of {bench.many[0].size // 1024} KiB, {jobs} at once",
            f"Every one of the {len(bench.many)} files verified by sha256 after every run.",
            [hydra_many(bench, jobs), aria2c_many(bench, jobs), curl_many(bench, jobs)],
            bench.runs,
            reference=f"aria2c -i -j {jobs}",
        ),
    ]
    return [s for s in scenarios if not only or s.key in only]
