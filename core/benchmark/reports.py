"""Benchmark reports in `data/benchmarks/`: Markdown, CSV and XLSX tables plus PNG charts.

One set of tables (runs with pass@k, intervals and how they were computed, speed medians/p90, per tier, per
problem, failures) is built once and written in every format, so the files always agree. Problems are named
by their entry point with their suite id beside it (`is_prime`, `ia_basic/0`). Each failure says its reason
(sandbox.REASONS: assertion, exception, timeout, syntax error, missing function, resource limit, nothing
extracted), the extracted code and, collapsed in Markdown (<details>), the reply it came from. Every report
states the sandbox isolation level and the interval method of each run. Any character of a reply or a
program is written (control characters and lone surrogates as escapes, core.benchmark.records.printable).

Public API:
    Failure(task_id, name, sample_index, reason, result, code, reply)
    ReportRun(label, summary: RunSummary, failures: list[Failure] = [])
    load_failures(store, summary) -> list[Failure]        # the failed samples of a run, from results.jsonl
    build_tables(runs: list[ReportRun], *, title="Runs") -> list[Table]
    write_report(runs, out_dir, name, *, title="Benchmark report") -> ReportFiles
    write_leaderboard(home) -> ReportFiles               # data/benchmarks/leaderboard.* (no failure details)
"""

from __future__ import annotations

import csv
import re
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
from core.benchmark.records import printable, read_rows, write_text
from core.benchmark.samples import MALFORMED
from core.benchmark.store import RunStore, reports_dir
from core.benchmark.summary import RunSummary

__all__ = [
    "Failure",
    "ReportFiles",
    "ReportRun",
    "Table",
    "build_tables",
    "load_failures",
    "write_leaderboard",
    "write_report",
]

MAX_FAILURES_SHOWN = 200  # per run in the Markdown report; every one is in the CSV and XLSX
MAX_TEXT = 20_000  # characters of one code or reply shown in Markdown
XLSX_CELL = 32_000  # Excel holds at most 32,767 characters in a cell


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


@dataclass
class Failure:
    """One failed sample: which problem, why, the code extracted from the reply, and the reply."""

    task_id: str
    name: str
    sample_index: int
    reason: str
    result: str
    code: str
    reply: str


@dataclass
class ReportRun:
    """A run as a report shows it: its label, its summary, and (run reports only) its failures."""

    label: str
    summary: RunSummary
    failures: list[Failure] = field(default_factory=list)


def load_failures(store: RunStore, summary: RunSummary) -> list[Failure]:
    """The failed samples of a run, in results order, from its results.jsonl (empty when there is none)."""
    if not store.results.exists():
        return []
    failures = []
    for row in read_rows(store.results):
        if not isinstance(row, dict) or row.get("passed") or row.get("reason") == MALFORMED:
            continue
        task_id = str(row.get("task_id", ""))
        problem = summary.per_problem.get(task_id)
        completion = row.get("completion")
        code = completion if isinstance(completion, str) else row.get("code") or row.get("solution") or ""
        try:
            index = int(row.get("sample_index", 0))
        except (TypeError, ValueError):
            index = 0
        failures.append(
            Failure(
                task_id=task_id,
                name=problem.name if problem else task_id,
                sample_index=index,
                reason=str(row.get("reason") or _reason_of(str(row.get("result", "")))),
                result=str(row.get("result", "")),
                code=str(code),
                reply=str(row.get("raw") or ""),
            )
        )
    return failures


def _reason_of(result: str) -> str:
    from core.benchmark.sandbox import failure_reason

    return failure_reason(result)


def _pct(value: Any) -> str:
    return "" if value is None else f"{100 * float(value):.1f}"


def _num(value: Any, digits: int = 2) -> Any:
    return "" if value is None else round(float(value), digits)


def _interval(est: Any) -> str:
    if est is None:
        return ""
    return f"[{_pct(est.low)}, {_pct(est.high)}]"


def _best_k(summary: RunSummary) -> str:
    ks = sorted((k for k in summary.pass_at_k if k != 1), reverse=True)
    if not ks:
        return ""
    est = summary.pass_at_k[ks[0]]
    return f"pass@{ks[0]} {_pct(est.value)} {_interval(est)}"


RUN_HEADER = [
    "Model", "Style", "Suite", "Options", "Backend", "Digest", "n", "Problems", "pass@1 %", "95% CI",
    "pass@k", "Errors", "Truncated", "Run", "Interval method", "Sandbox", "Extraction",
]  # fmt: skip
SPEED_HEADER = [
    "Model", "TTFT med s", "TTFT p90 s", "tok/s med", "tok/s p90", "prompt tok/s med", "total med s",
    "total p90 s", "load max s", "CPU % med", "RSS MB p90", "GPU MB p90",
]  # fmt: skip
FAILURE_HEADER = ["Model", "Problem", "Id", "Sample", "Reason", "Result", "Extracted code"]


def _run_row(label: str, s: RunSummary) -> list[Any]:
    p1 = s.pass1
    return [
        label, s.style, s.suite_name, s.options_label, f"{s.backend} {s.backend_version}".strip(),
        s.digest[:12], s.n, s.problems, _pct(p1.value) if p1 else "", _interval(p1), _best_k(s), s.errors,
        s.truncated, s.run_id, s.method, s.sandbox or "unknown", s.extraction or "not recorded",
    ]  # fmt: skip


def _speed_row(label: str, s: RunSummary) -> list[Any]:
    def med(name: str, digits: int = 2) -> Any:
        return _num(s.speed_of(name).median, digits)

    def p90(name: str, digits: int = 2) -> Any:
        return _num(s.speed_of(name).p90, digits)

    return [
        label, med("ttft_s"), p90("ttft_s"), med("gen_tps", 1), p90("gen_tps", 1), med("prompt_tps", 1),
        med("total_s"), p90("total_s"), p90("load_s"), med("cpu_percent", 0), p90("rss_mb", 0), p90("gpu_mem_mb", 0),
    ]  # fmt: skip


def _tier_order(tier: str) -> tuple[int, str]:
    return (TIERS.index(tier) if tier in TIERS else len(TIERS), tier)


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{reason} x{count}" if count > 1 else reason for reason, count in reasons.items())


def build_tables(runs: list[ReportRun], *, title: str = "Runs") -> list[Table]:
    """Runs (correctness), speed, per-tier, per-problem and failures tables, in that order."""
    run_table = Table(title, list(RUN_HEADER), [_run_row(r.label, r.summary) for r in runs])
    speed = Table(
        "Speed and resources (median, p90)",
        list(SPEED_HEADER),
        [_speed_row(r.label, r.summary) for r in runs],
    )
    tiers = Table("Per tier (pass@1)", ["Model", "Tier", "Problems", "pass@1 %", "95% CI"])
    for run in runs:
        for tier, est in sorted(run.summary.per_tier.items(), key=lambda item: _tier_order(item[0])):
            tiers.rows.append([run.label, tier, est.problems, _pct(est.value), _interval(est)])
    problems: dict[str, tuple[str, str]] = {}  # task_id -> (name, tier), first run that has it
    for run in runs:
        for task_id, score in run.summary.per_problem.items():
            problems.setdefault(task_id, (score.name, score.tier))
    per_problem = Table(
        "Per problem (samples passed / generated, and why the others failed)",
        ["Problem", "Id", "Tier", *[r.label for r in runs]],
    )
    for task_id, (name, tier) in problems.items():
        cells = []
        for run in runs:
            score = run.summary.per_problem.get(task_id)
            if not score or not score.n:
                cells.append("")
                continue
            reasons = _reasons(score.reasons)
            cells.append(f"{score.passed}/{score.n}" + (f" ({reasons})" if reasons else ""))
        per_problem.rows.append([name, task_id, tier, *cells])
    failures = Table("Failures", list(FAILURE_HEADER))
    for run in runs:
        for f in run.failures:
            failures.rows.append([run.label, f.name, f.task_id, f.sample_index, f.reason, f.result, f.code])
    return [run_table, speed, tiers, per_problem, failures]


def _md_cell(value: Any) -> str:
    return printable(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text`` (a reply's own fences stay inside)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _block(text: str, language: str = "") -> list[str]:
    shown = printable(text)
    if len(shown) > MAX_TEXT:
        shown = shown[:MAX_TEXT] + f"\n... ({len(shown) - MAX_TEXT} more characters)"
    fence = _fence(shown)
    return [fence + language, shown.strip("\n"), fence]


def _failure_markdown(run: ReportRun) -> list[str]:
    out = [f"### {_md_cell(run.label)}", ""]
    for f in run.failures[:MAX_FAILURES_SHOWN]:
        out += [f"#### `{_md_cell(f.name)}` ({_md_cell(f.task_id)}), sample {f.sample_index}: {f.reason}", ""]
        out += [f"Result: {_md_cell(f.result)}", ""]
        if f.code.strip():
            out += ["Extracted code:", "", *_block(f.code, "python"), ""]
        else:
            out += ["Extracted code: none (nothing was found in the reply).", ""]
        if f.reply:
            out += ["<details><summary>Reply</summary>", "", *_block(f.reply, "text"), "", "</details>", ""]
    hidden = len(run.failures) - MAX_FAILURES_SHOWN
    if hidden > 0:
        out += [f"... and {hidden} more failures: every one is in the CSV and XLSX files.", ""]
    return out


def _markdown(
    title: str, intro: list[str], tables: list[Table], images: list[Path], runs: list[ReportRun]
) -> str:
    out = [f"# {title}", "", *[_md_cell(line) for line in intro], ""]
    for image in images:
        out += [f"![{image.stem}]({image.name})", ""]
    for table in tables[:4]:
        out += [f"## {table.title}", ""]
        if not table.rows:
            out += ["(none)", ""]
            continue
        out.append("| " + " | ".join(_md_cell(h) for h in table.header) + " |")
        out.append("|" + "|".join("---" for _ in table.header) + "|")
        out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
        out.append("")
    failing = [run for run in runs if run.failures]
    if failing:
        out += ["## Failures", ""]
        for run in failing:
            out += _failure_markdown(run)
    return "\n".join(out)


def _write_csv(path: Path, table: Table) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([printable(h) for h in table.header])
        writer.writerows(
            [[c if isinstance(c, (int, float)) else printable(c) for c in row] for row in table.rows]
        )
    return path


def _cell(value: Any) -> Any:
    if isinstance(value, (int, float)) or value is None:
        return value
    text = printable(value)
    return text if len(text) <= XLSX_CELL else text[:XLSX_CELL] + " ..."


def _write_xlsx(path: Path, tables: list[Table], notes: list[str]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for table in tables:
        ws = wb.create_sheet(table.title.split(" (")[0][:31])
        ws.append([_cell(h) for h in table.header])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
        for row in table.rows:
            ws.append([_cell(c) for c in row])
        for i, header in enumerate(table.header, 1):
            width = max([len(str(header)), *(len(str(r[i - 1])) for r in table.rows)])
            ws.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), 50)
        ws.freeze_panes = "B2"
    about = wb.create_sheet("About")
    for note in notes:
        about.append([_cell(note)])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _notes(runs: list[ReportRun]) -> list[str]:
    sandboxes = sorted({r.summary.sandbox or "unknown" for r in runs}) or ["unknown"]
    methods = sorted({r.summary.method for r in runs if r.summary.method})
    notes = [
        f"Generated {datetime.now(UTC).isoformat(timespec='seconds')}.",
        f"Sandbox isolation: {'; '.join(sandboxes)}.",
        "pass@k is the unbiased estimator of Chen et al. (2021); intervals are 95%"
        + (f", computed by: {'; '.join(methods)}." if methods else "."),
        "Speed figures are medians and 90th percentiles over samples; TTFT = time to first token.",
        "Problems are named by their entry point, with their suite id beside it.",
    ]
    if any("openai" in r.summary.backend.split("+") for r in runs):
        notes.append(
            "Runs served through the OpenAI API: TTFT is measured here; tok/s is the server's own timing when "
            "it sends one (llama-server), else its usage token count over the generation time measured here."
        )
    silent = [
        r.label
        for r in runs
        if r.summary.speed_of("gen_tps").median is None and r.summary.samples > r.summary.errors
    ]
    if silent:
        notes.append(
            f"tok/s not reported for {', '.join(silent)}: the server sent no token counts (no usage in its "
            "stream), so only the times are known."
        )
    malformed = sum(r.summary.malformed for r in runs)
    if malformed:
        notes.append(f"{malformed} line(s) of samples files were not samples: kept, listed in results.jsonl.")
    return notes


def write_report(
    runs: list[ReportRun], out_dir: Path, name: str, *, title: str = "Benchmark report"
) -> ReportFiles:
    """Write `<name>.md`, `<name>.csv` (runs), `<name>_problems.csv`, `<name>_failures.csv`, `<name>.xlsx`
    and two PNG charts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = build_tables(runs)
    labelled = [(r.label, r.summary) for r in runs]
    images = [
        charts.speed_vs_pass(labelled, out_dir / f"{name}_speed_vs_pass.png"),
        charts.pass_map(labelled, out_dir / f"{name}_pass_map.png"),
    ]
    notes = _notes(runs)
    md = write_text(out_dir / f"{name}.md", _markdown(title, notes, tables, images, runs))
    # One CSV row per run (correctness and speed side by side, for spreadsheets and scripts).
    rows = [r + sp[1:] for r, sp in zip(tables[0].rows, tables[1].rows, strict=True)]
    wide = Table("runs", tables[0].header + tables[1].header[1:], rows)
    csvs = [
        _write_csv(out_dir / f"{name}.csv", wide),
        _write_csv(out_dir / f"{name}_problems.csv", tables[3]),
        _write_csv(out_dir / f"{name}_failures.csv", tables[4]),
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
    runs = [ReportRun(_entry_label(e, entries), e.summary) for e in entries]
    out = reports_dir(home)
    files = write_report(runs, out, "leaderboard", title="Leaderboard")
    # Runs of one configuration collapse into one row; say how many there were.
    text = files.markdown.read_text(encoding="utf-8")
    counts = (
        ", ".join(f"{run.label}: {e.runs} run(s)" for run, e in zip(runs, entries, strict=True))
        or "no complete run yet"
    )
    write_text(files.markdown, text.replace("\n\n", f"\n\nRuns per configuration: {counts}.\n\n", 1))
    return files
