"""The benchmark screen: the leaderboard and charts found in data/benchmarks/, and a run of the built-in suite
on the selected model with a progress bar (through core.benchmark's runner API on a worker thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ui import clip  # noqa: F401  (ClipScrollView / ClipRecycleView in the kv rules)

__all__ = ["BUILTIN_SUITE", "QUICK_PROBLEMS", "BenchmarkScreen", "Board", "load_board", "run_builtin_suite"]

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
    from core.benchmark.leaderboard import build_leaderboard, load_summaries
    from core.benchmark.store import reports_dir

    board = Board()
    for entry in build_leaderboard(load_summaries(home)):
        speed = entry.summary.get("speed", {})
        board.rows.append(
            [
                entry.model,
                entry.style,
                entry.suite,
                _pct(entry.pass1),
                _num(speed.get("gen_tps", {}).get("median")),
                _num(speed.get("ttft_s", {}).get("median"), 2),
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


def run_builtin_suite(
    backend: Any,
    home: Path,
    model: str,
    on_progress: Callable[[int, int], None],
    cancel: threading.Event,
    limit: int | None = None,
) -> Any:
    """Run the built-in suite on ``model`` (blocking; call from a worker), then write the reports and the
    leaderboard like `python main_benchmark.py run` does. Returns the RunOutcome."""
    from core.benchmark.reports import write_leaderboard, write_report
    from core.benchmark.runner import BenchmarkRun, RunSpec
    from core.benchmark.store import reports_dir

    run = BenchmarkRun(
        RunSpec(model=model, suite=BUILTIN_SUITE, limit=limit),
        [backend.client],
        home,
        backend=backend.kind,
        on_progress=lambda done, total, _sample: on_progress(done, total),
    )
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if cancel.wait(0.1):
                run.cancel()
                return

    threading.Thread(target=watch, name="ia-bench-cancel", daemon=True).start()
    try:
        outcome = run.execute()
    finally:
        finished.set()
    if outcome.status == "complete" and outcome.summary is not None:
        name = "report_" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        write_report(
            [(f"{outcome.info.model} ({outcome.info.style})", outcome.summary)], reports_dir(home), name
        )
        write_leaderboard(home)
    return outcome


class BenchmarkScreen(BoxLayout):
    """Shows the leaderboard; events: on_back(), on_run(), on_cancel_run()."""

    rows = ListProperty([])
    charts = ListProperty([])
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
