"""The benchmark screen: the leaderboard and charts found in data/benchmarks/, and a run of the built-in suite
on the selected model with a progress bar, then that run's problems (entry point, pass/fail, failure reason)
and its pass@1 with the interval and how it was computed.

The run goes through the facade core.benchmark.service, as `python main_benchmark.py run` does: the same
options, label ("smollm2:135m (chat, first 5)"), scoring and reports.

It also lists the option sweeps (`python main_benchmark.py sweep`, read back by core.benchmark.sweep_results)
with the setup each recommends and the figures behind it, and saves a recommendation as a chat profile in one
click (core.profiles; named "<model>-sweep-<date>", never over an existing profile), then tells the app
(`App.profiles_changed()` when it has it) so its profiles list shows it.

Its texts are in the interface's language (kv rules through ui.i18n, the Python-made ones re-made when the
language changes); numbers and dates through core.i18n.format_*.

Public API:
    load_board(home) -> Board(rows, charts, sweeps)
    sweep_texts(sweep) -> (title, recommendation, figures);  sweep_profile_name(model, created, taken) -> str
    save_sweep_profile(settings, sweep) -> (name, path)     # ConfigError: nothing recommended, bad name
    run_builtin_suite(backend, home, model, on_progress(done, total), cancel, limit=None) -> RunOutcome
    run_headline(summary) -> str;  run_failures(outcome) -> [reports.Failure]
    run_rows(summary, failures=()) -> [[name, id, "passed" | "failed", why], ...]   # why: "exception: RecursionError…"
    BenchmarkScreen (show_board(board), show_run(summary, failures), run_progress, run_finished; event
                     on_save_profile(card), handled by the screen itself)
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.utils import escape_markup

from core import i18n
from core.benchmark.records import printable
from core.benchmark.sweep_results import SweepResult
from core.errors import ConfigError
from core.i18n import _, format_datetime, format_decimal, format_number, format_percent, ngettext
from ui import clip  # noqa: F401  (ClipScrollView / ClipRecycleView in the kv rules)
from ui import i18n as ui_i18n  # noqa: F401  (_() in the kv rules)

if TYPE_CHECKING:
    from config import Settings

__all__ = [  # i18n: names of this module
    "BUILTIN_SUITE",
    "QUICK_PROBLEMS",
    "BenchmarkScreen",
    "Board",
    "SweepCard",
    "load_board",
    "run_builtin_suite",
    "run_failures",
    "run_headline",
    "run_rows",
    "save_sweep_profile",
    "sweep_profile_name",
    "sweep_texts",
]

BUILTIN_SUITE = "ia_basic"
QUICK_PROBLEMS = 5
MAX_SWEEPS = 10  # the newest sweeps shown


@dataclass
class Board:
    """What the screen shows: leaderboard rows (already formatted), chart images and option sweeps, newest
    first."""

    rows: list[list[str]] = field(default_factory=list)
    charts: list[Path] = field(default_factory=list)
    sweeps: list[SweepResult] = field(default_factory=list)


def _pct(value: Any) -> str:
    return "–" if value is None else format_percent(float(value))


def _num(value: Any, digits: int = 1) -> str:
    return "–" if value is None else format_decimal(float(value), digits)


def load_board(home: Path) -> Board:
    """Read every run's summary (collapsed into the leaderboard), list the PNG charts of data/benchmarks/ and
    read the option sweeps there."""
    from core.benchmark.service import Benchmark
    from core.benchmark.store import reports_dir
    from core.benchmark.sweep_results import list_sweeps

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
            (p for p in out.glob("*.png") if not p.name.startswith("sweep_")),  # a sweep's is in its card
            key=lambda p: (not p.name.startswith("leaderboard"), -p.stat().st_mtime),
        )
        board.charts = pngs[:6]
    board.sweeps = list_sweeps(home)[:MAX_SWEEPS]
    return board


def run_headline(summary: Any) -> str:
    """`smollm2:135m (chat, first 5): pass@1 0% [0%, 43%] over 5 problems, Wilson ...; sandbox bwrap`."""
    p1 = summary.pass1
    if p1 is None:
        score = _("not scored")
    else:
        score = ngettext(
            "pass@1 {value} [{low}, {high}] over {count} problem",
            "pass@1 {value} [{low}, {high}] over {count} problems",
            p1.problems,
        ).format(value=_pct(p1.value), low=_pct(p1.low), high=_pct(p1.high), count=format_number(p1.problems))
        if p1.method:
            score += f" ({p1.method})"
    return _("{label}: {score}; sandbox: {sandbox}").format(
        label=summary.label, score=score, sandbox=summary.sandbox or _("unknown")
    )


def _why(reason: str, result: str) -> str:
    """`exception: RecursionError: maximum recursion depth exceeded`; the reason alone when the result adds
    nothing to it (a bare AssertionError, a timeout)."""
    detail = (result.removeprefix("failed: ").strip().splitlines() or [""])[0]
    if detail in ("", "AssertionError", "timed out", "passed"):  # i18n: the sandbox's result words
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
            verdict = _("passed")
        elif score.passed:
            verdict = _("{passed}/{n} passed").format(passed=score.passed, n=score.n)
        else:
            verdict = _("failed")
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


# ---------------------------------------------------------------------------------------------------------
# option sweeps
# ---------------------------------------------------------------------------------------------------------
def _local(created: datetime | None) -> str:
    return "–" if created is None else format_datetime(created.astimezone(), "medium")


def _setup(label: str) -> str:
    return _("the defaults") if label == "defaults" else label


def sweep_texts(sweep: SweepResult) -> tuple[str, str, str]:
    """A sweep's card (Kivy markup, in the interface's language): its title (model and date), the setup it
    recommends, and the figures behind it (that combination's speed and first-token time, the combinations
    tried)."""
    title = _("[b]{model}[/b]  ·  sweep of {date}").format(
        model=escape_markup(sweep.model), date=_local(sweep.created)
    )
    if sweep.label is None:
        recommendation = _("No combination ran cleanly: nothing to recommend.")
    else:
        recommendation = _("Recommended setup: [b]{setup}[/b]").format(
            setup=escape_markup(_setup(sweep.label))
        )
        dropped = {k: v for k, v in sweep.settings.items() if k not in sweep.options}
        if dropped:
            recommendation += "  " + _("({settings}: a request setting, not kept in a profile)").format(
                settings=" ".join(f"{k}={v}" for k, v in dropped.items())
            )
    best = sweep.best or {}
    figures = _("{tps} tokens/s median (p90 {p90}), first token in {ttft} s, {errors} errors").format(
        tps=_num(best.get("gen_tps_med")),
        p90=_num(best.get("gen_tps_p90")),
        ttft=_num(best.get("ttft_med"), 2),
        errors=format_number(best.get("errors") or 0),
    )
    tried = len(sweep.rows)
    figures += "  ·  " + ngettext("{count} combination tried", "{count} combinations tried", tried).format(
        count=format_number(tried)
    )
    return title, recommendation, escape_markup(figures)


def sweep_profile_name(model: str, created: datetime | None, taken: Callable[[str], bool]) -> str:
    """``smollm2-135m-sweep-2026-12-04`` (a valid profile name: letters, digits, '-', '_', '.'), with ``-2``,
    ``-3``... added while ``taken(name)`` says a profile has it already."""
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", model).strip("-._")[:40].strip("-._") or "model"
    day = (created or datetime.now()).astimezone().strftime("%Y-%m-%d")
    base = f"{slug}-sweep-{day}"
    name, number = base, 2
    while taken(name):
        name, number = f"{base}-{number}", number + 1
    return name


def save_sweep_profile(settings: Settings, sweep: SweepResult) -> tuple[str, Path]:
    """Save the sweep's recommendation as a new profile (its model and recommended options, no system prompt)
    under a name no profile has yet; returns (name, file). ConfigError when the sweep recommends nothing or
    the profile cannot be written."""
    from core.profiles import Profile, profile_path, save_profile

    if sweep.label is None:
        raise ConfigError(sweep.name, _("this sweep recommends no setup: no combination ran cleanly"))
    name = sweep_profile_name(sweep.model, sweep.created, lambda n: profile_path(settings, n).exists())
    path = save_profile(settings, Profile(name=name, model=sweep.model, options=sweep.options))
    return name, path


class SweepCard(BoxLayout):
    """One option sweep: title, recommended setup, figures, and its "Save as profile" button."""

    sweep = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    recommendation = StringProperty("")
    figures = StringProperty("")
    saved = StringProperty("")  # where the profile went, or why it could not be saved
    can_save = BooleanProperty(False)
    saving = BooleanProperty(False)

    __events__ = ("on_save",)

    def show(self, sweep: SweepResult) -> None:
        self.sweep = sweep
        self.title, self.recommendation, self.figures = sweep_texts(sweep)
        self.can_save = sweep.label is not None

    def on_save(self) -> None:
        """Bound by the screen."""


class BenchmarkScreen(BoxLayout):
    """Shows the leaderboard; events: on_back(), on_run(), on_cancel_run(), on_save_profile(card) (saved by
    the screen itself)."""

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
    sweeps = ListProperty([])  # SweepResult, newest first

    __events__ = ("on_back", "on_run", "on_cancel_run", "on_save_profile")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._board: Board | None = None
        self._run: tuple[Any, Sequence[Any]] | None = None
        self._saved: dict[str, tuple[str, Path] | str] = {}  # sweep name -> (profile, file) or the failure
        ref = weakref.WeakMethod(self._relabel)

        def relabel(lang: str) -> None:
            method = ref()
            if method is None:
                i18n.remove_listener(relabel)
            else:
                method(lang)

        i18n.add_listener(relabel)

    def _relabel(self, _lang: str) -> None:
        """The language changed: re-make the texts set from Python (the kv rules follow by themselves)."""
        if self._board is not None:
            self.show_board(self._board)
        if self._run is not None:
            self.show_run(*self._run)

    def show_board(self, board: Board) -> None:
        self._board = board
        self.rows = board.rows
        self.charts = [str(p) for p in board.charts]
        self.sweeps = list(board.sweeps)
        self.empty = not board.rows and not board.charts and not board.sweeps
        grid = self.ids.table
        grid.clear_widgets()
        if board.rows:
            for text in (
                _("Model"),
                _("Style"),
                _("Suite"),
                "pass@1",
                _("tokens/s"),
                _("first token s"),
                _("runs"),
            ):
                grid.add_widget(TableCell(text=text, header=True))
            for row in board.rows:
                for text in row:
                    grid.add_widget(TableCell(text=text))
        images = self.ids.charts_box
        images.clear_widgets()
        for path in self.charts:
            images.add_widget(ChartImage(source=path))
        cards = self.ids.sweeps_box
        cards.clear_widgets()
        for sweep in board.sweeps:
            card = SweepCard()
            card.show(sweep)
            card.saved = self._saved_text(sweep.name)
            card.bind(on_save=lambda widget: self.dispatch("on_save_profile", widget))
            cards.add_widget(card)

    def _saved_text(self, sweep_name: str) -> str:
        saved = self._saved.get(sweep_name)
        if saved is None:
            return ""
        if isinstance(saved, str):
            return _("Could not save the profile: {reason}").format(reason=saved)
        name, path = saved
        return _("Saved as profile “{name}” in {path}; apply it from the panel’s profiles.").format(
            name=name, path=path
        )

    def on_save_profile(self, card: SweepCard) -> None:
        """Save the card's recommendation as a new profile, off the window's thread when the app has its
        controller; the card then says where it went, and the app's profiles list is refreshed."""
        if card.sweep is None or card.saving:
            return
        app = App.get_running_app()
        settings = getattr(app, "settings", None)
        if settings is None:
            from config import load_settings

            settings = load_settings({})
        sweep = card.sweep
        card.saving = True

        def done(result: tuple[str, Path]) -> None:
            card.saving = False
            self._saved[sweep.name] = result
            card.saved = self._saved_text(sweep.name)
            refresh = getattr(app, "profiles_changed", None)
            if callable(refresh):
                refresh()

        def failed(exc: BaseException) -> None:
            card.saving = False
            self._saved[sweep.name] = str(exc)
            card.saved = self._saved_text(sweep.name)

        controller = getattr(app, "controller", None)
        if controller is not None:
            controller.run(lambda: save_sweep_profile(settings, sweep), done, failed)
            return
        try:
            result = save_sweep_profile(settings, sweep)
        except (ConfigError, OSError) as exc:
            failed(exc)
        else:
            done(result)

    def show_run(self, summary: Any, failures: Sequence[Any] = ()) -> None:
        """The run just finished: its headline and one row per problem (name, id, result, why it failed)."""
        self._run = (summary, failures)
        self.headline = run_headline(summary)
        self.run_rows = run_rows(summary, failures)
        grid = self.ids.run_table
        grid.clear_widgets()
        if self.run_rows:
            widths = (0.18, 0.14, 0.12, 0.56)  # room for what the sample raised
            headers = (_("Problem"), _("Id"), _("Result"), _("Why it failed"))
            for text, width in zip(headers, widths, strict=True):
                grid.add_widget(TableCell(text=text, header=True, size_hint_x=width))
            for row in self.run_rows:
                for text, width in zip(row, widths, strict=True):
                    grid.add_widget(TableCell(text=text, size_hint_x=width))

    def run_progress(self, done: int, total: int) -> None:
        self.running = True
        self.progress = done / total if total else 0.0
        self.status = _("Generating and scoring: {done} of {total} samples…").format(
            done=format_number(done), total=format_number(total)
        )

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
    text_color = ListProperty([0, 0, 0, 1])  # set by the rule from the theme


class ChartImage(BoxLayout):
    """A chart PNG scaled to the screen's width."""

    source = StringProperty("")


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
