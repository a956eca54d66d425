"""Benchmark hydra-tui against curl, aria2c and axel over loopback, in one command.

    python bench/run.py [--quick] [--tls] [--out FILE.json] [--markdown FILE.md]

Makes the test files in a temp dir, serves them with nginx (or the in-tree devserver),
runs every case ``--runs`` times interleaved (run 1 of every tool, then run 2, ...) so slow
drift on a busy machine hits all tools alike, checks every output, then prints a table and
writes JSON and Markdown. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from machine import filesystem_of, find_hydra, find_tools, machine_info, tool_versions
from measure import Sample
from report import markdown, terminal_table, write_json
from scenarios import MIB, Bench, Scenario, TestFile, build_scenarios
from servers import start_server

HERE = Path(__file__).resolve().parent
_BLOCK = MIB  # small blocks keep this process's RSS (see measure.py) low
_UNITS = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB}
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def parse_size(text: str) -> int:
    """``1G``, ``256M``, ``256MiB``, ``64K`` or a byte count (1024-based)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1G, 256M, 64K)")
    return int(match[1]) * _UNITS[match[2].upper()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python bench/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="256 MiB, 1 run, results to bench/out/")
    p.add_argument("--size", type=parse_size, help="big test file (default 1G; --quick 256M)")
    p.add_argument("--capped-size", type=parse_size, default=256 * MIB, help="file for (b) (256M)")
    p.add_argument("--many", type=int, default=1000, help="number of small files for (e) (1000)")
    p.add_argument("--many-size", type=parse_size, default=64 * 1024, help="small file size (64K)")
    p.add_argument("--runs", type=int, help="runs per case (default 3; --quick 1)")
    p.add_argument("--only", default="", help="scenarios to run, e.g. a,c (default all: a-e)")
    p.add_argument("--server", choices=("auto", "nginx", "devserver"), default="auto")
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve https (nginx, self-signed certificate every tool trusts); results "
        "default to bench/RESULTS-https.md",
    )
    p.add_argument("--timeout", type=float, default=900.0, help="seconds before a run is killed")
    p.add_argument("--tmpdir", type=Path, help="where the temp dir goes (default $TMPDIR or /tmp)")
    p.add_argument("--hydra", help="command to run hydra-tui (default: beside python, or PATH)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir")
    p.add_argument("--out", type=Path, help="JSON results (bench/out/results.json)")
    p.add_argument("--markdown", type=Path, help="Markdown (bench/RESULTS.md; --quick bench/out/)")
    return p


def _random_file(path: Path, size: int) -> TestFile:
    digest = hashlib.sha256()
    head = b""
    with path.open("wb") as fh:
        left = size
        while left:
            block = os.urandom(min(_BLOCK, left))
            head = head or block[:65536]
            digest.update(block)
            fh.write(block)
            left -= len(block)
    return TestFile(path.name, size, digest.hexdigest(), head)


def _make_files(
    data: Path, args: argparse.Namespace, size: int
) -> tuple[TestFile, TestFile, list[TestFile]]:
    big = _random_file(data / "big.bin", size)
    capped = _random_file(data / "capped.bin", args.capped_size)
    (data / "many").mkdir()
    many = []
    for i in range(args.many):
        small = _random_file(data / "many" / f"f{i:04d}.bin", args.many_size)
        many.append(TestFile(f"many/{small.name}", small.size, small.sha256))
    return big, capped, many


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _run_scenario(scenario: Scenario, work_root: Path) -> None:
    runnable = [c for c in scenario.cases if c.go is not None]
    print(f"\n== {scenario.title}", file=sys.stderr, flush=True)
    for run in range(1, scenario.runs + 1):
        for case in runnable:
            assert case.go is not None
            work = Path(tempfile.mkdtemp(prefix="run-", dir=work_root))
            try:
                sample = case.go(work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
                os.sync()  # flush this run's writes now, not during the next run
            scenario.samples.setdefault(case.label, []).append(sample)
            _progress(scenario, case.label, case.nbytes, run, sample)


def _progress(scenario: Scenario, label: str, nbytes: int, run: int, sample: Sample) -> None:
    if sample.ttfb_s is not None:
        what = f"first byte {sample.ttfb_s * 1000:7.1f} ms"
    elif nbytes:
        what = f"{sample.wall_s:7.2f} s {nbytes / MIB / sample.wall_s:8.1f} MiB/s"
    else:
        what = f"{sample.wall_s * 1000:7.1f} ms"
    status = "ok" if sample.ok else f"FAILED: {sample.error}"
    if sample.slow_path:
        status += f"  (httpx: {sample.slow_path})"
    print(
        f"  [{scenario.key}] run {run}/{scenario.runs}  {label:<44} {what}  {status}",
        file=sys.stderr,
        flush=True,
    )


def _reproduce(argv: list[str]) -> str:
    shown = shlex.join(["python", "bench/run.py", *argv])
    return "\n".join(
        [
            "```sh",
            "apt-get install -y nginx-light aria2 axel curl   # peers and the server (optional)",
            "python -m venv .venv && .venv/bin/pip install -e .",
            f"{shown.replace('python ', '.venv/bin/python ', 1)}",
            "```",
            "",
            "See bench/README.md for the options (`--quick`, `--size`, `--only`, `--server`).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    size = args.size or (256 * MIB if args.quick else 1024 * MIB)
    runs = args.runs or (1 if args.quick else 3)
    out_dir = HERE / "out"
    json_path = args.out or out_dir / ("results-https.json" if args.tls else "results.json")
    md_name = "RESULTS-https.md" if args.tls else "RESULTS.md"
    md_path = args.markdown or (out_dir / md_name if args.quick else HERE / md_name)
    hydra = shlex.split(args.hydra) if args.hydra else find_hydra()
    tools = find_tools()
    only = [k.strip() for k in args.only.split(",") if k.strip()]

    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="hydra-bench-", dir=args.tmpdir))
    root.chmod(0o755)  # nginx workers (user nobody) read the data under it
    try:
        data, work = root / "data", root / "work"
        data.mkdir()
        work.mkdir()
        print(f"making test files in {root} ...", file=sys.stderr, flush=True)
        big, capped, many = _make_files(data, args, size)
        many_list = root / "list.txt"
        with start_server(args.server, data, root / "server", tls=args.tls) as server:
            many_list.write_text("".join(server.url(f.name) + "\n" for f in many))
            print(f"serving with {server.describe()} at {server.base}", file=sys.stderr, flush=True)
            bench = Bench(
                server, big, capped, many, many_list, hydra, tools, _clean_env(), runs, args.timeout
            )
            scenarios = build_scenarios(bench, data / big.name, only)
            for scenario in scenarios:
                _run_scenario(scenario, work)
            meta: dict[str, Any] = {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "mode": "quick" if args.quick else "full",
                "runs": runs,
                "server": server.describe(),
                "tmp_fs": filesystem_of(root),
                "files": f"{big.size // MIB} MiB big.bin, {capped.size // MIB} MiB capped.bin, "
                f"{len(many)} × {args.many_size // 1024} KiB",
                "machine": machine_info(),
                "loadavg_1m": {"start": load_before[0], "end": os.getloadavg()[0]},
                "tools": tool_versions(hydra, tools, server.describe()),
                "argv": argv,
            }
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    print(terminal_table(scenarios))
    write_json(json_path, meta, scenarios)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(markdown(meta, scenarios, _reproduce(argv)))
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    failed = any(not s.ok for sc in scenarios for samples in sc.samples.values() for s in samples)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
