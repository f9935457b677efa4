"""The benchmark screen: the leaderboard and charts found in data/benchmarks/, and a run of the built-in suite
on the selected model with a progress bar, then that run's problems (entry point, pass/fail, failure reason)
and its pass@1 with the interval and how it was computed.

The run goes through the facade core.benchmark.service, as `python main_benchmark.py run` does: the same
options, label ("smollm2:135m (chat, first 5)"), scoring and reports.

Public API:
    load_board(home) -> Board(rows, charts)
    run_builtin_suite(backend, home, model, on_progress(done, total), cancel, limit=None) -> RunOutcome
    run_headline(summary) -> str;  run_failures(outcome) -> [reports.Failure]
    run_rows(summary, failures=()) -> [[name, id, "passed" | "failed", why], ...]   # why: "exception: RecursionError…"
    BenchmarkScreen (show_board(board), show_run(summary, failures), run_progress, run_finished)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from core.benchmark.records import printable
from ui import clip  # noqa: F401  (ClipScrollView / ClipRecycleView in the kv rules)

__all__ = [
    "BUILTIN_SUITE",
    "QUICK_PROBLEMS",
    "BenchmarkScreen",
    "Board",
    "load_board",
    "run_builtin_suite",
    "run_failures",
    "run_headline",
    "run_rows",
]

BUILTIN_SUITE = "ia_basic"
QUICK_PROBLEMS = 5


@dataclass
class Board:
    """What the screen shows: leaderboard rows (already formatted) and chart images, newest first."""

    rows: list[list[str]] = field(default_factory=list)
    charts: list[Path] = field(default_factory=list)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.0f}%"


def _num(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{float(value):.{digits}f}"


def load_board(home: Path) -> Board:
    """Read every run's summary (collapsed into the leaderboard) and list the PNG charts of data/benchmarks/."""
    from core.benchmark.service import Benchmark
    from core.benchmark.store import reports_dir

    board = Board()
    for entry in Benchmark(home).leaderboard():
        summary = entry.summary
        board.rows.append(
            [
                entry.model,
                entry.style,
                summary.suite_name,
                _pct(entry.pass1),
                _num(summary.speed_of("gen_tps").median),
                _num(summary.speed_of("ttft_s").median, 2),
                str(entry.runs),
            ]
        )
    out = reports_dir(home)
    if out.is_dir():
        pngs = sorted(
            out.glob("*.png"), key=lambda p: (not p.name.startswith("leaderboard"), -p.stat().st_mtime)
        )
        board.charts = pngs[:6]
    return board


def run_headline(summary: Any) -> str:
    """`smollm2:135m (chat, first 5): pass@1 0% [0%, 43%] over 5 problems, Wilson ...; sandbox bwrap`."""
    p1 = summary.pass1
    if p1 is None:
        score = "not scored"
    else:
        score = f"pass@1 {_pct(p1.value)} [{_pct(p1.low)}, {_pct(p1.high)}] over {p1.problems} problems"
        if p1.method:
            score += f" ({p1.method})"
    return f"{summary.label}: {score}; sandbox: {summary.sandbox or 'unknown'}"


def _why(reason: str, result: str) -> str:
    """`exception: RecursionError: maximum recursion depth exceeded`; the reason alone when the result adds
    nothing to it (a bare AssertionError, a timeout)."""
    detail = (result.removeprefix("failed: ").strip().splitlines() or [""])[0]
    if detail in ("", "AssertionError", "timed out", "passed"):
        return reason
    return f"{reason}: {detail}"


def run_rows(summary: Any, failures: Sequence[Any] = ()) -> list[list[str]]:
    """One row per problem of a run: entry point name, suite id, passed/failed, why it failed (the reason,
    with what its first failed sample raised when ``failures`` (reports.load_failures) are given)."""
    first: dict[str, Any] = {}
    for failure in failures:
        first.setdefault(failure.task_id, failure)
    rows = []
    for task_id, score in summary.per_problem.items():
        if not score.n:
            continue
        if score.passed == score.n:
            verdict = "passed"
        elif score.passed:
            verdict = f"{score.passed}/{score.n} passed"
        else:
            verdict = "failed"
        reasons = ", ".join(r for r in score.reasons if r != "passed")
        if task_id in first and len(score.reasons) == 1:
            reasons = _why(first[task_id].reason, first[task_id].result)
        rows.append([score.name, task_id, verdict, printable(reasons) or "–"])
    return rows


def run_failures(outcome: Any) -> list[Any]:
    """The failed samples of a finished run (reports.load_failures), for run_rows; [] for any other run."""
    if outcome.status != "complete" or outcome.summary is None:
        return []
    from core.benchmark.reports import load_failures

    return load_failures(outcome.store, outcome.summary)


def run_builtin_suite(
    backend: Any,
    home: Path,
    model: str,
    on_progress: Callable[[int, int], None],
    cancel: threading.Event,
    limit: int | None = None,
) -> Any:
    """Run the built-in suite on ``model`` (blocking; call from a worker) through the facade, exactly as
    `python main_benchmark.py run --model MODEL [--limit N]` does: same options, label, reports and
    leaderboard. Returns the RunOutcome."""
    from core.benchmark.service import Benchmark, Hosts, make_spec

    bench = Benchmark(home)
    hosts = Hosts.attach(backend)  # the app's backend: left open
    runs, errors = bench.open_runs([make_spec(model, suite=BUILTIN_SUITE, limit=limit)], hosts)
    if errors:
        raise errors[0]
    (run,) = runs
    run.on_progress = lambda done, total, _sample: on_progress(done, total)
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if cancel.wait(0.1):
                run.cancel()
                return

    threading.Thread(target=watch, name="ia-bench-cancel", daemon=True).start()
    try:
        batch = bench.execute([run], hosts)
    finally:
        finished.set()
    return batch.outcomes[0]


class BenchmarkScreen(BoxLayout):
    """Shows the leaderboard; events: on_back(), on_run(), on_cancel_run()."""

    rows = ListProperty([])
    charts = ListProperty([])
    run_rows = ListProperty([])  # the last run's problems (run_rows)
    headline = StringProperty("")  # the last run's pass@1, interval, method and sandbox (run_headline)
    model = StringProperty("")
    running = BooleanProperty(False)
    progress = NumericProperty(0.0)
    status = StringProperty("")
    empty = BooleanProperty(True)
    quick = BooleanProperty(False)  # only the first QUICK_PROBLEMS problems

    __events__ = ("on_back", "on_run", "on_cancel_run")

    def show_board(self, board: Board) -> None:
        self.rows = board.rows
        self.charts = [str(p) for p in board.charts]
        self.empty = not board.rows and not board.charts
        grid = self.ids.table
        grid.clear_widgets()
        if board.rows:
            for text in ("Model", "Style", "Suite", "pass@1", "tokens/s", "first token s", "runs"):
                grid.add_widget(TableCell(text=text, header=True))
            for row in board.rows:
                for text in row:
                    grid.add_widget(TableCell(text=text))
        images = self.ids.charts_box
        images.clear_widgets()
        for path in self.charts:
            images.add_widget(ChartImage(source=path))

    def show_run(self, summary: Any, failures: Sequence[Any] = ()) -> None:
        """The run just finished: its headline and one row per problem (name, id, result, why it failed)."""
        self.headline = run_headline(summary)
        self.run_rows = run_rows(summary, failures)
        grid = self.ids.run_table
        grid.clear_widgets()
        if self.run_rows:
            widths = (0.18, 0.14, 0.12, 0.56)  # room for what the sample raised
            for text, width in zip(("Problem", "Id", "Result", "Why it failed"), widths, strict=True):
                grid.add_widget(TableCell(text=text, header=True, size_hint_x=width))
            for row in self.run_rows:
                for text, width in zip(row, widths, strict=True):
                    grid.add_widget(TableCell(text=text, size_hint_x=width))

    def run_progress(self, done: int, total: int) -> None:
        self.running = True
        self.progress = done / total if total else 0.0
        self.status = f"Generating and scoring: {done} of {total} samples…"

    def run_finished(self, message: str) -> None:
        self.running = False
        self.status = message

    def on_back(self) -> None:
        """Bound by the app."""

    def on_run(self) -> None:
        """Bound by the app."""

    def on_cancel_run(self) -> None:
        """Bound by the app."""


class TableCell(BoxLayout):
    """One leaderboard cell."""

    text = StringProperty("")
    header = BooleanProperty(False)


class ChartImage(BoxLayout):
    """A chart PNG scaled to the screen's width."""

    source = StringProperty("")


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
