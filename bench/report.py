"""Turn samples into medians, and medians into a terminal table, JSON and Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from measure import Sample, median
from scenarios import MIB, Case, Scenario

__all__ = ["Stats", "markdown", "stats_for", "terminal_table", "write_json"]


@dataclass(frozen=True)
class Stats:
    """The medians of one case's successful runs."""

    runs: int
    ok: int
    wall_s: float | None
    mib_s: float | None
    cpu_s: float | None
    aux_cpu_s: float | None
    rss_mib: float | None
    ttfb_ms: float | None
    ttfb_min_ms: float | None
    ttfb_max_ms: float | None
    files_s: float | None
    of_ideal: float | None
    vs_ref: float | None
    """MiB/s relative to the scenario's reference peer (2.0 = twice as fast)."""
    verified: str
    errors: list[str]


def _rate(scenario: Scenario, case: Case) -> float | None:
    wall = median(s.wall_s for s in scenario.samples.get(case.label, []) if s.ok)
    return case.nbytes / MIB / wall if wall and case.nbytes else None


def _reference_rate(scenario: Scenario) -> float | None:
    for case in scenario.cases:
        if case.label == scenario.reference and case.go is not None:
            return _rate(scenario, case)
    return None


def stats_for(scenario: Scenario, case: Case) -> Stats:
    samples = scenario.samples.get(case.label, [])
    good = [s for s in samples if s.ok]
    wall = median(s.wall_s for s in good)
    rate = _rate(scenario, case)
    ref = _reference_rate(scenario)
    ttfbs = [s.ttfb_s * 1000 for s in good if s.ttfb_s is not None]
    return Stats(
        runs=len(samples),
        ok=len(good),
        wall_s=wall,
        mib_s=rate,
        cpu_s=median(s.cpu_s for s in good),
        aux_cpu_s=median(s.aux_cpu_s for s in good),
        rss_mib=median(s.rss_mib for s in good),
        ttfb_ms=median(ttfbs),
        ttfb_min_ms=min(ttfbs) if ttfbs else None,
        ttfb_max_ms=max(ttfbs) if ttfbs else None,
        files_s=case.files / wall if wall and case.files > 1 else None,
        of_ideal=rate / scenario.ideal_mib_s if rate and scenario.ideal_mib_s else None,
        vs_ref=rate / ref if rate and ref else None,
        verified=", ".join(sorted({s.verified for s in good})) or "-",
        errors=sorted({s.error for s in samples if not s.ok}),
    )


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _range(stats: Stats) -> str:
    if stats.ttfb_min_ms is not None:
        return f"{stats.ttfb_min_ms:.0f}–{stats.ttfb_max_ms:.0f}"
    return "-"


Column = tuple[str, Callable[[Stats], str]]

_WALL: Column = ("wall s", lambda s: _num(s.wall_s, 2))
_RATE: Column = ("MiB/s", lambda s: _num(s.mib_s))
_CPU: Column = ("CPU s", lambda s: _num(s.cpu_s, 2))
_AUX: Column = ("digest CPU s", lambda s: _num(s.aux_cpu_s, 2) if s.aux_cpu_s else "-")
_RSS: Column = ("peak RSS MiB", lambda s: _num(s.rss_mib) if s.rss_mib else "-")
_REF: Column = ("× ref", lambda s: "-" if s.vs_ref is None else f"{s.vs_ref:.2f}")
_IDEAL: Column = ("of ideal", lambda s: _pct(s.of_ideal))
_FILES: Column = ("files/s", lambda s: _num(s.files_s, 0))
_MS: Column = (
    "median ms",
    lambda s: _num(s.ttfb_ms if s.ttfb_ms is not None else _ms(s.wall_s), 0),
)
_RANGE: Column = ("min–max ms", _range)

_COLUMNS: dict[str, list[Column]] = {
    "a": [_WALL, _RATE, _REF, _CPU, _RSS],
    "b": [_WALL, _RATE, _IDEAL, _CPU, _RSS],
    "c": [_WALL, _RATE, _REF, _CPU, _AUX, _RSS],
    "d": [_MS, _RANGE, _RSS],
    "e": [_WALL, _FILES, _REF, _CPU, _RSS],
}


def _rows(scenario: Scenario) -> tuple[list[str], list[list[str]]]:
    columns = _COLUMNS.get(scenario.key, [_WALL, _RATE, _CPU, _RSS])
    header = ["tool", "ok/runs", *(name for name, _ in columns), "checked by"]
    rows = []
    for case in scenario.cases:
        if case.go is None:
            rows.append([case.label, "skipped", *("-" for _ in columns), case.skipped])
            continue
        stats = stats_for(scenario, case)
        ok = f"{stats.ok}/{stats.runs}" + (" FAILED" if stats.ok < stats.runs else "")
        rows.append([case.label, ok, *(fmt(stats) for _, fmt in columns), stats.verified])
    return header, rows


def terminal_table(scenarios: list[Scenario]) -> str:
    out: list[str] = []
    for scenario in scenarios:
        header, rows = _rows(scenario)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        out.append(f"\n{scenario.title}")
        for row in [header, *rows]:
            cells = [
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            out.append("  " + "  ".join(cells))
        out.extend(f"  ! {case}: {err}" for case, err in _failures(scenario))
    return "\n".join(out) + "\n"


def _failures(scenario: Scenario) -> list[tuple[str, str]]:
    return [
        (case.label, err)
        for case in scenario.cases
        if case.go is not None
        for err in stats_for(scenario, case).errors
    ]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---", *("---:" for _ in header[1:-1]), "---"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def markdown(meta: dict[str, Any], scenarios: list[Scenario], reproduce: str) -> str:
    machine, tools = meta["machine"], meta["tools"]
    lines = [
        "# hydra-tui benchmark results",
        "",
        f"Generated by `bench/run.py` on {meta['date']} ({meta['mode']}; "
        f"{meta['runs']} run(s) per case, medians of the successful runs).",
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']} — {machine['nproc']} cores (nproc)",
        f"- RAM: {machine['ram_gib']:.1f} GiB; kernel {machine['kernel']}; "
        f"Python {machine['python']}",
        f"- Load average (1 min) at start / end: {meta['loadavg_1m']['start']:.2f} / "
        f"{meta['loadavg_1m']['end']:.2f} — anything else running shares the "
        f"{machine['nproc']} cores, so compare rows within a table (`× ref`)",
        f"- Server: **{meta['server']}** on 127.0.0.1; temp dir on `{meta['tmp_fs']}`",
        f"- Files: {meta['files']}",
        "",
        "## Tool versions",
        "",
        *[f"- {name}: {version or 'not installed'}" for name, version in tools.items()],
        "",
        "## Results",
        "",
        "MiB/s = file size / median wall time. CPU = user + sys of the measured process "
        "(wait4 rusage); peak RSS = its own high-water mark (bench/README.md). Every output is "
        "checked; a run whose bytes differ is counted as FAILED and left out of the medians.",
    ]
    for scenario in scenarios:
        header, rows = _rows(scenario)
        notes = scenario.notes
        if scenario.reference:
            notes += f" `× ref` = speed relative to {scenario.reference} (above 1 is faster)."
        lines += ["", f"### {scenario.title}", "", notes, "", *_md_table(header, rows)]
        commands = [f"- {case.label}: `{case.command}`" for case in scenario.cases]
        lines += ["", "Commands:", "", *commands]
        slow = sorted(
            {
                (label, s.slow_path)
                for label, ss in scenario.samples.items()
                for s in ss
                if s.slow_path
            }
        )
        if slow:
            lines += ["", "Runs where httpx fetched instead of the lean reader (from its log):", ""]
            lines += [f"- {label}: {why}" for label, why in slow]
        failures = _failures(scenario)
        if failures:
            lines += ["", "Failures:", ""]
            lines += [f"- **{case}**: `{err}`" for case, err in failures]
    lines += [
        "",
        "Where hydra-tui spends its CPU, and why stream mode is slow: see `PROFILE.md`. "
        "The same scenarios over https (`bench/run.py --tls`): `RESULTS-https.md`; over "
        "plain http: `RESULTS.md`.",
        "",
        "## Reproduce",
        "",
        reproduce,
        "",
    ]
    return "\n".join(lines)


def _json_stats(stats: Stats) -> dict[str, Any]:
    return asdict(stats)


def write_json(path: Path, meta: dict[str, Any], scenarios: list[Scenario]) -> None:
    data: dict[str, Any] = {"meta": meta, "scenarios": []}
    for scenario in scenarios:
        cases = []
        for case in scenario.cases:
            samples: list[Sample] = scenario.samples.get(case.label, [])
            cases.append(
                {
                    "label": case.label,
                    "command": case.command,
                    "bytes": case.nbytes,
                    "files": case.files,
                    "skipped": case.skipped,
                    "median": None if case.go is None else _json_stats(stats_for(scenario, case)),
                    "samples": [asdict(s) for s in samples],
                }
            )
        data["scenarios"].append(
            {
                "key": scenario.key,
                "title": scenario.title,
                "notes": scenario.notes,
                "ideal_mib_s": scenario.ideal_mib_s,
                "cases": cases,
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
