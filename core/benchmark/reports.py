"""Benchmark reports in `data/benchmarks/`: Markdown, CSV and XLSX tables plus PNG charts.

One set of tables (runs with pass@k and 95% intervals and speed medians/p90, per tier, per problem) is
built once and written in every format, so the files always agree. The sandbox isolation level is stated in
every report.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from core.benchmark import charts
from core.benchmark.leaderboard import LeaderboardEntry, build_leaderboard, load_summaries
from core.benchmark.problems import TIERS
from core.benchmark.store import reports_dir

__all__ = ["ReportFiles", "Table", "build_tables", "write_leaderboard", "write_report"]

Labelled = list[tuple[str, dict[str, Any]]]


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class ReportFiles:
    markdown: Path
    csv: list[Path]
    xlsx: Path
    charts: list[Path]

    def all(self) -> list[Path]:
        return [self.markdown, *self.csv, self.xlsx, *self.charts]


def _pct(value: Any) -> str:
    return "" if value is None else f"{100 * float(value):.1f}"


def _num(value: Any, digits: int = 2) -> Any:
    return "" if value is None else round(float(value), digits)


def _interval(entry: dict[str, Any] | None) -> str:
    if not entry:
        return ""
    return f"[{_pct(entry.get('low'))}, {_pct(entry.get('high'))}]"


def _best_k(summary: dict[str, Any]) -> str:
    ks = sorted((int(k) for k in summary.get("pass_at_k", {}) if k != "1"), reverse=True)
    if not ks:
        return ""
    entry = summary["pass_at_k"][str(ks[0])]
    return f"pass@{ks[0]} {_pct(entry['value'])} {_interval(entry)}"


RUN_HEADER = [
    "Model", "Style", "Suite", "Options", "Backend", "Digest", "n", "Problems", "pass@1 %", "95% CI",
    "pass@k", "Errors", "Truncated", "Run",
]  # fmt: skip
SPEED_HEADER = [
    "Model", "TTFT med s", "TTFT p90 s", "tok/s med", "tok/s p90", "prompt tok/s med", "total med s",
    "total p90 s", "load max s", "CPU % med", "RSS MB p90", "GPU MB p90",
]  # fmt: skip


def _suite_name(summary: dict[str, Any]) -> str:
    suite = str(summary.get("suite", ""))
    name = Path(suite).name if "/" in suite or "\\" in suite else suite
    return f"{name} (first {summary['limit']})" if summary.get("limit") else name


def _run_row(label: str, s: dict[str, Any]) -> list[Any]:
    p1 = s.get("pass_at_k", {}).get("1")
    return [
        label, s.get("style", ""), _suite_name(s), s.get("options_label", ""),
        f"{s.get('backend', '')} {s.get('backend_version', '')}".strip(), str(s.get("digest", ""))[:12],
        s.get("n", ""), s.get("problems", ""), _pct(p1["value"]) if p1 else "", _interval(p1), _best_k(s),
        s.get("errors", 0), s.get("truncated", 0), s.get("run_id", ""),
    ]  # fmt: skip


def _speed_row(label: str, s: dict[str, Any]) -> list[Any]:
    speed = s.get("speed", {})

    def med(name: str, digits: int = 2) -> Any:
        return _num(speed.get(name, {}).get("median"), digits)

    def p90(name: str, digits: int = 2) -> Any:
        return _num(speed.get(name, {}).get("p90"), digits)

    return [
        label, med("ttft_s"), p90("ttft_s"), med("gen_tps", 1), p90("gen_tps", 1), med("prompt_tps", 1),
        med("total_s"), p90("total_s"), p90("load_s"), med("cpu_percent", 0), p90("rss_mb", 0), p90("gpu_mem_mb", 0),
    ]  # fmt: skip


def _tier_order(tier: str) -> tuple[int, str]:
    return (TIERS.index(tier) if tier in TIERS else len(TIERS), tier)


def build_tables(runs: Labelled, *, title: str = "Runs") -> list[Table]:
    """Runs (correctness), speed, per-tier and per-problem tables for the labelled summaries, in that order."""
    run_table = Table(title, list(RUN_HEADER), [_run_row(label, s) for label, s in runs])
    speed = Table(
        "Speed and resources (median, p90)", list(SPEED_HEADER), [_speed_row(lbl, s) for lbl, s in runs]
    )
    tiers = Table("Per tier (pass@1)", ["Model", "Tier", "Problems", "pass@1 %", "95% CI"])
    for label, s in runs:
        for tier, entry in sorted(s.get("per_tier", {}).items(), key=lambda item: _tier_order(item[0])):
            tiers.rows.append(
                [label, tier, entry.get("problems"), _pct(entry.get("pass@1")), _interval(entry)]
            )
    problems: list[tuple[str, str]] = []
    for _, s in runs:
        for task_id, entry in s.get("per_problem", {}).items():
            if task_id not in [p for p, _ in problems]:
                problems.append((task_id, entry.get("tier", "")))
    per_problem = Table(
        "Per problem (samples passed / generated)", ["Problem", "Tier", *[lbl for lbl, _ in runs]]
    )
    for task_id, tier in problems:
        cells = []
        for _, s in runs:
            entry = s.get("per_problem", {}).get(task_id)
            cells.append(f"{entry['passed']}/{entry['n']}" if entry and entry.get("n") else "")
        per_problem.rows.append([task_id, tier, *cells])
    return [run_table, speed, tiers, per_problem]


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown(title: str, intro: list[str], tables: list[Table], images: list[Path]) -> str:
    out = [f"# {title}", "", *intro, ""]
    for image in images:
        out += [f"![{image.stem}]({image.name})", ""]
    for table in tables:
        out += [f"## {table.title}", ""]
        if not table.rows:
            out += ["(none)", ""]
            continue
        out.append("| " + " | ".join(_md_cell(h) for h in table.header) + " |")
        out.append("|" + "|".join("---" for _ in table.header) + "|")
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
        out.append("")
    return "\n".join(out)


def _write_csv(path: Path, table: Table) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(table.header)
        writer.writerows(table.rows)
    return path


def _write_xlsx(path: Path, tables: list[Table], notes: list[str]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for table in tables:
        ws = wb.create_sheet(table.title.split(" (")[0][:31])
        ws.append(table.header)
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
        for row in table.rows:
            ws.append(row)
        for i, header in enumerate(table.header, 1):
            width = max([len(str(header)), *(len(str(r[i - 1])) for r in table.rows)])
            ws.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), 50)
        ws.freeze_panes = "B2"
    about = wb.create_sheet("About")
    for note in notes:
        about.append([note])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _notes(runs: Labelled) -> list[str]:
    sandboxes = sorted({str(s.get("sandbox") or "unknown") for _, s in runs}) or ["unknown"]
    return [
        f"Generated {datetime.now(UTC).isoformat(timespec='seconds')}.",
        f"Sandbox isolation: {'; '.join(sandboxes)}.",
        "pass@k is the unbiased estimator of Chen et al. (2021); intervals are 95%.",
        "Speed figures are medians and 90th percentiles over samples; TTFT = time to first token.",
    ]


def write_report(runs: Labelled, out_dir: Path, name: str, *, title: str = "Benchmark report") -> ReportFiles:
    """Write `<name>.md`, `<name>.csv` (runs), `<name>_problems.csv`, `<name>.xlsx` and two PNG charts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = build_tables(runs)
    images = [
        charts.speed_vs_pass(runs, out_dir / f"{name}_speed_vs_pass.png"),
        charts.pass_map(runs, out_dir / f"{name}_pass_map.png"),
    ]
    notes = _notes(runs)
    md = out_dir / f"{name}.md"
    md.write_text(_markdown(title, notes, tables, images), encoding="utf-8")
    # One CSV row per run (correctness and speed side by side, for spreadsheets and scripts).
    rows = [r + sp[1:] for r, sp in zip(tables[0].rows, tables[1].rows, strict=True)]
    wide = Table("runs", tables[0].header + tables[1].header[1:], rows)
    csvs = [
        _write_csv(out_dir / f"{name}.csv", wide),
        _write_csv(out_dir / f"{name}_problems.csv", tables[3]),
    ]
    xlsx = _write_xlsx(out_dir / f"{name}.xlsx", tables, notes)
    return ReportFiles(md, csvs, xlsx, images)


def _entry_label(entry: LeaderboardEntry, entries: list[LeaderboardEntry]) -> str:
    label = entry.label
    twins = [e for e in entries if e.label == label]
    if len(twins) > 1:  # same model and style with other options/suite/build: say which
        label = f"{label} {entry.suite} {entry.options_label} {entry.digest[:6]}"
    return label


def write_leaderboard(home: Path) -> ReportFiles:
    """Rebuild `data/benchmarks/leaderboard.*` from every run's summary.json."""
    entries = build_leaderboard(load_summaries(home))
    runs = [(_entry_label(e, entries), dict(e.summary, runs=e.runs)) for e in entries]
    out = reports_dir(home)
    files = write_report(runs, out, "leaderboard", title="Leaderboard")
    # Runs of one configuration collapse into one row; say how many there were.
    text = files.markdown.read_text(encoding="utf-8")
    counts = ", ".join(f"{label}: {s['runs']} run(s)" for label, s in runs) or "no complete run yet"
    files.markdown.write_text(
        text.replace("\n\n", f"\n\nRuns per configuration: {counts}.\n\n", 1), encoding="utf-8"
    )
    return files
