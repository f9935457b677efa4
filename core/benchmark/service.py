"""The benchmark's one facade: hosts, runs, scoring, rescoring, reports, compare and the leaderboard.

The CLI front-end (the `benchcli` package behind `python main_benchmark.py`) and the desktop app
(ui/benchmark_screen.py) both call this module and only display what it returns, so a run is configured,
labelled (summary.run_label), scored and reported the same way wherever it starts.

Public API:
    Hosts(urls=None, *, embedded=None)     the servers to run on: `--hosts` URLs (each asked what it is; a URL
                                           ending in /v1 or written openai:URL is an OpenAI-compatible server),
                                           or the default backend (Ollama, else the embedded fallback)
    Hosts.attach(backend)                  a backend someone else owns (the app's): never closed here
        .clients, .kind ("ollama" | "embedded" | "openai" | "ollama+openai" ...), .note, .settings,
        .settle(model, notify=None), .close()
    build_options(n=1, base=None, flags=None, extra=None) -> dict   DEFAULT_OPTIONS < base < flags < extra;
                                           temperature 0 (greedy) when n == 1 unless given
    make_spec(model, *, suite="ia_basic", style="chat", n=1, limit=None, timeout=5.0, workers=1,
              base_options=None, flags=None, extra=None) -> RunSpec
    Benchmark(home)
        .open_runs(specs, hosts) -> (runs, errors)      one BenchmarkRun per spec; a spec that cannot open
                                                         (e.g. its model is missing) gives an error instead
        .resume(ref, hosts, *, workers=1) -> BenchmarkRun
        .execute(runs, hosts, *, run_one=None, notify=None) -> Batch
              each run in turn (run_one(run) -> RunOutcome, default run.execute()); an interruption stops
              the batch (the embedded server we started finishes its step, notify(message) says so);
              then one report of the complete runs plus the leaderboard
        .report(stores) -> list[Path]                    a run report (failures included) + leaderboard
        .report_runs(refs=(), *, rescore=False, on_scoring=None) -> list[Path]       the `report` command
        .resolve(ref) -> (RunStore, RunSummary)          run id, folder or model name (its latest run)
        .rescore(ref) -> Rescore                          re-extract and re-score a run from its replies
        .compare(refs) -> Comparison                      side by side, paired test over shared problems
        .runs() -> list[RunRow]; .leaderboard() -> list[LeaderboardEntry]
        .evaluate(problems, samples, *, output=None, timeout=5.0, workers=2) -> Evaluation
        .selfcheck(problems, *, timeout=10.0, workers=2) -> SelfcheckReport
        .sweep(hosts, model, problems, grid, *, style, options, repeat, cancel, on_progress) -> Sweep
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import BenchmarkError, IAError, ServerUnreachable
from core.i18n import _, format_percent, ngettext

if TYPE_CHECKING:  # the heavy modules load when a command needs them (`--help` stays fast)
    from core.benchmark.leaderboard import LeaderboardEntry
    from core.benchmark.runner import BenchmarkRun, RunOutcome, RunSpec
    from core.benchmark.store import RunInfo, RunStore
    from core.benchmark.summary import RunSummary

__all__ = [
    "Batch",
    "Benchmark",
    "Comparison",
    "Evaluation",
    "Hosts",
    "Rescore",
    "RunRow",
    "Sweep",
    "build_options",
    "make_spec",
]


# ---------------------------------------------------------------------------------------------------------
# Hosts and options
# ---------------------------------------------------------------------------------------------------------
class _QuietShutdown(logging.Filter):
    """Drops uvicorn's report of requests still running when we stop the embedded server we started (a second
    Ctrl-C while it finishes a slow step, see Hosts.settle). The run has already saved its samples and said
    how to resume; a traceback would only alarm."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return "graceful shutdown" not in record.getMessage() and not isinstance(
            error, asyncio.CancelledError
        )


_QUIET_SHUTDOWN = _QuietShutdown()


class Hosts:
    """The clients to run on: `--hosts` URLs, or the default backend (Ollama, else embedded fallback)."""

    def __init__(self, urls: str | Sequence[str] | None = None, *, embedded: str | None = None) -> None:
        from config import load_settings
        from core.backend import make_client

        flags: dict[str, Any] = {"embedded": embedded} if embedded else {}
        self.settings = load_settings(flags)
        self.backend: Any = None
        self._owned = True
        self.kind = "ollama"
        timeouts = {
            "connect_timeout": self.settings.connect_timeout,
            "first_token_timeout": self.settings.first_token_timeout,
            "stall_timeout": self.settings.stall_timeout,
        }
        if isinstance(urls, str):
            urls = urls.split(",")
        hosts = [u.strip() for u in urls or () if u.strip()]
        if hosts:
            # An Ollama URL or an OpenAI-compatible one (…/v1, openai:URL): core.backend.make_client decides.
            self.clients = [make_client(u, **timeouts) for u in hosts]
            # Results and reports say which backend served them: ask each server what it is (our embedded
            # server says so in a header, core.ollama_client.OllamaClient.identify; an OpenAI-compatible server
            # is "openai").
            kinds = []
            for client in self.clients:
                kind = client.identify()
                if kind is None:
                    self.close()
                    raise ServerUnreachable(client.host, backend=client.server_kind or "ollama")
                kinds.append(kind)
            self.kind = "+".join(dict.fromkeys(kinds))
            self.note = _("Using {hosts}").format(
                hosts=", ".join(f"{c.host} ({k})" for c, k in zip(self.clients, kinds, strict=True))
            )
        else:
            from core.backend import connect

            self.backend = connect(self.settings)
            self.kind = self.backend.kind  # "embedded" also for one started by hand at OLLAMA_HOST
            self.clients = [self.backend.client]
            self.note = self.backend.note

    @classmethod
    def attach(cls, backend: Any, settings: Any = None) -> Hosts:
        """Hosts over a connected core.backend.Backend owned by the caller (the app): close() leaves it."""
        hosts = cls.__new__(cls)
        hosts.settings = settings
        hosts.backend = backend
        hosts._owned = False
        hosts.kind = backend.kind
        hosts.clients = [backend.client]
        hosts.note = backend.note
        return hosts

    def settle(self, model: str, notify: Callable[[str], None] | None = None) -> None:
        """After Ctrl-C, let the embedded server we started finish the step it is in, then free the model.

        llama.cpp cannot abandon a step when the client leaves (a batch of a long prompt, which the embedded
        engine reads batch by batch so that a cancel is seen between them, or loading a model); an unload
        waits its turn behind that step on the server. Stopping the server (or the process) under a
        running step prints uvicorn's shutdown traceback and can even crash at exit. Ctrl-C again skips it."""
        if not self._owned or self.backend is None or self.backend.server is None:
            return
        if notify is not None:
            notify(_("Letting the embedded server finish its current step (Ctrl-C again to quit now)..."))
        try:
            self.clients[0].unload(model)
        except (IAError, KeyboardInterrupt):
            pass

    def close(self) -> None:
        if not self._owned:
            return
        if self.backend is not None:
            if self.backend.server is not None:  # ours: stopping it must not print a traceback after Ctrl-C
                logging.getLogger("uvicorn.error").addFilter(_QUIET_SHUTDOWN)
            self.backend.close()
        else:
            for client in self.clients:
                client.close()


def build_options(
    n: int = 1,
    base: Mapping[str, Any] | None = None,
    flags: Mapping[str, Any] | None = None,
    extra: Iterable[tuple[str, Any]] | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Ollama options: DEFAULT_OPTIONS, then a preset's ``base``, then the named ``flags`` that are set (not
    None), then ``extra`` (--option KEY=VALUE); greedy (temperature 0) when n == 1, else 0.8, unless given."""
    from core.benchmark.runner import DEFAULT_OPTIONS

    options: dict[str, Any] = dict(DEFAULT_OPTIONS)
    options.update(base or {})
    if "temperature" not in options:
        options["temperature"] = 0.0 if n == 1 else 0.8
    options.update({k: v for k, v in (flags or {}).items() if v is not None})
    options.update(dict(extra or {}))
    return options


def make_spec(
    model: str,
    *,
    suite: str = "ia_basic",
    style: str = "chat",
    n: int = 1,
    limit: int | None = None,
    timeout: float = 5.0,
    workers: int = 1,
    base_options: Mapping[str, Any] | None = None,
    flags: Mapping[str, Any] | None = None,
    extra: Iterable[tuple[str, Any]] | Mapping[str, Any] | None = None,
) -> RunSpec:
    """The RunSpec of one model, with its options built as every front-end builds them (build_options)."""
    from core.benchmark.runner import RunSpec

    return RunSpec(
        model=model,
        suite=suite,
        style=style,
        n=n,
        options=build_options(n, base_options, flags, extra),
        limit=limit,
        timeout=timeout,
        workers=workers,
    )


# ---------------------------------------------------------------------------------------------------------
# What the facade returns
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Batch:
    """Runs executed in turn: their outcomes, whether one was interrupted, and the reports written."""

    outcomes: list[RunOutcome] = field(default_factory=list)
    interrupted: bool = False
    reports: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status == "complete"]

    @property
    def errors(self) -> list[IAError]:
        return [o.error for o in self.outcomes if o.status == "failed" and o.error is not None]


def _tally(summary: RunSummary | None) -> tuple[int, int]:
    """(passed samples, scored samples) of a summary."""
    if summary is None:
        return 0, 0
    return (
        sum(p.passed for p in summary.per_problem.values()),
        sum(p.n for p in summary.per_problem.values()),
    )


@dataclass
class Rescore:
    """A run re-extracted and re-scored from its saved replies: before, after, and what changed."""

    store: RunStore
    before: RunSummary | None
    after: RunSummary
    reextracted: int  # samples whose extracted code changed
    verdicts_changed: int  # samples that pass now and failed before, or the other way round
    reports: list[Path] = field(default_factory=list)

    def describe(self) -> str:
        """e.g. "pass@1 0/5 -> 2/5; 3 samples re-extracted, 2 verdicts changed; extraction 1a2b.. -> 3c4d..";"""
        passed, total = _tally(self.after)
        if self.before is None or self.before.pass1 is None:
            score = _("pass@1 not scored before -> {passed}/{total}").format(passed=passed, total=total)
        else:
            was, was_total = _tally(self.before)
            score = f"pass@1 {was}/{was_total} -> {passed}/{total}"
            if self.after.n > 1 and self.after.pass1 is not None:
                score += " " + _("samples ({before} -> {after})").format(
                    before=format_percent(self.before.pass1.value, 1),
                    after=format_percent(self.after.pass1.value, 1),
                )
        parts = [
            score,
            ngettext("{count} sample re-extracted", "{count} samples re-extracted", self.reextracted).format(
                count=self.reextracted
            ),
            ngettext("{count} verdict changed", "{count} verdicts changed", self.verdicts_changed).format(
                count=self.verdicts_changed
            ),
        ]
        old = (self.before.extraction if self.before else "") or _("not recorded")
        if old != self.after.extraction:
            parts.append(_("extraction {old} -> {new}").format(old=old, new=self.after.extraction))
        else:
            parts.append(_("extraction {name} (unchanged)").format(name=self.after.extraction))
        return "; ".join(parts)


@dataclass
class Comparison:
    """Runs side by side and a paired verdict for each pair (over the problems both ran)."""

    runs: list[tuple[RunStore, RunSummary]]
    verdicts: list[str] = field(default_factory=list)
    pairs: list[Any] = field(default_factory=list)  # scoring.PairedComparison, one per comparable pair


@dataclass
class RunRow:
    """One run folder for `list`: its run.json (or why it cannot be read), samples and summary."""

    store: RunStore
    info: RunInfo | None
    samples: int
    summary: RunSummary | None
    error: IAError | None = None


@dataclass
class Evaluation:
    """A samples file scored: where the results are, pass@k, and the rows that could not be scored."""

    path: Path
    scored: Any  # scoring.Summary
    rows: int
    malformed: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Sweep:
    points: list[Any]
    files: list[Path]
    best: Any


# ---------------------------------------------------------------------------------------------------------
# The facade
# ---------------------------------------------------------------------------------------------------------
class Benchmark:
    """Every benchmark operation on one IA_HOME (see the module docstring)."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    # -- runs --------------------------------------------------------------------------------------------
    def open_runs(self, specs: Sequence[RunSpec], hosts: Hosts) -> tuple[list[BenchmarkRun], list[IAError]]:
        from core.benchmark.runner import BenchmarkRun

        runs, errors = [], []
        for spec in specs:
            try:
                runs.append(BenchmarkRun(spec, hosts.clients, self.home, backend=hosts.kind))
            except IAError as exc:  # e.g. one model missing: say so, run the others
                errors.append(exc)
        return runs, errors

    def resume(self, ref: str, hosts: Hosts, *, workers: int = 1) -> BenchmarkRun:
        from core.benchmark.runner import BenchmarkRun

        return BenchmarkRun.resume(ref, hosts.clients, self.home, backend=hosts.kind, workers=workers)

    def execute(
        self,
        runs: Sequence[BenchmarkRun],
        hosts: Hosts,
        *,
        run_one: Callable[[BenchmarkRun], RunOutcome] | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> Batch:
        """Run each in turn; stop at an interruption; then report the complete runs and the leaderboard."""
        batch = Batch()
        for run in runs:
            outcome = run_one(run) if run_one else run.execute()
            batch.outcomes.append(outcome)
            if outcome.status == "interrupted":
                batch.interrupted = True
                hosts.settle(run.spec.model, notify)
                return batch
        if batch.complete:
            batch.reports = self.report([o.store for o in batch.complete])
        return batch

    # -- reports -----------------------------------------------------------------------------------------
    def report(self, stores: Sequence[RunStore]) -> list[Path]:
        """One report of these runs (tables, charts, each failure with its code and reply) + the leaderboard."""
        from core.benchmark.reports import ReportRun, load_failures, write_leaderboard, write_report
        from core.benchmark.store import reports_dir
        from core.benchmark.summary import run_label

        runs = []
        for store in stores:
            summary = store.load_summary()
            if summary is not None:
                runs.append(ReportRun(run_label(summary), summary, load_failures(store, summary)))
        name = "report_" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        files = write_report(runs, reports_dir(self.home), name).all() if runs else []
        return files + write_leaderboard(self.home).all()

    def report_runs(
        self,
        refs: Sequence[str] = (),
        *,
        rescore: bool = False,
        on_scoring: Callable[[RunInfo], None] | None = None,
    ) -> list[Path]:
        """The `report` command: the runs named (default: every generated or complete run), scored first
        when they have no summary yet (or always with ``rescore``)."""
        from core.benchmark.runner import evaluate_run
        from core.benchmark.store import list_runs

        stores = [self.resolve(ref)[0] for ref in refs] if refs else list_runs(self.home)
        chosen = []
        for store in stores:
            info = store.load_info()
            if not refs and info.status not in ("generated", "complete"):
                continue  # unfinished runs are reported only when named
            if rescore or store.load_summary() is None:
                if not store.load_samples():
                    continue
                if on_scoring is not None:
                    on_scoring(info)
                evaluate_run(store)
            chosen.append(store)
        if not chosen:
            raise IAError(
                _(
                    "No benchmark run with samples yet: start one with `python main_benchmark.py run --model NAME`."
                )
            )
        return self.report(chosen)

    def resolve(self, ref: str) -> tuple[RunStore, RunSummary]:
        """A run by id/folder (scored now if it has no summary), or the latest scored run of a model name."""
        from core.benchmark.leaderboard import load_summaries
        from core.benchmark.runner import evaluate_run
        from core.benchmark.store import find_run

        try:
            store = find_run(self.home, ref)
        except BenchmarkError:
            by_model = [(s, m) for s, m in load_summaries(self.home) if m.model == ref]
            if not by_model:
                raise
            return max(by_model, key=lambda pair: pair[1].finished)
        summary = store.load_summary()
        if summary is None:
            summary = evaluate_run(store)
        return store, summary

    def rescore(self, ref: str) -> Rescore:
        """Re-extract every saved reply of a run with today's extraction, score it again, rewrite its
        results, summary and the reports, and say what changed."""
        from core.benchmark.runner import evaluate_run
        from core.benchmark.store import find_run

        store = find_run(self.home, ref)
        before = store.load_summary()
        old_completions = {_key(s): s.get("completion") for s in store.load_samples()}
        old_verdicts = {_key(r): bool(r.get("passed")) for r in store.load_results() if "task_id" in r}
        if not old_completions:
            raise BenchmarkError(_("Run {run} has no samples to score yet.").format(run=store.dir.name))
        after = evaluate_run(store)
        new_completions = {_key(s): s.get("completion") for s in store.load_samples()}
        new_verdicts = {_key(r): bool(r.get("passed")) for r in store.load_results() if "task_id" in r}
        reextracted = sum(
            1 for k, v in new_completions.items() if k in old_completions and old_completions[k] != v
        )
        changed = sum(1 for k, v in new_verdicts.items() if k in old_verdicts and old_verdicts[k] != v)
        return Rescore(store, before, after, reextracted, changed, self.report([store]))

    # -- compare, list, leaderboard ------------------------------------------------------------------------
    def compare(self, refs: Sequence[str]) -> Comparison:
        """Runs side by side; every pair of scored code runs gets a paired test over the problems both ran."""
        runs = [self.resolve(ref) for ref in refs]
        from core.benchmark.scoring import paired_comparison

        comparison = Comparison(runs)
        names = _distinct_labels([s for _store, s in runs])
        scored = [(name, s) for name, (_store, s) in zip(names, runs, strict=True) if s.pass1 is not None]
        for i, (name_a, a) in enumerate(scored):
            for name_b, b in scored[i + 1 :]:
                try:
                    pair = paired_comparison(a.counts(), b.counts(), k=1)
                except ValueError:
                    comparison.verdicts.append(
                        _("{a} vs {b}: no problem in common, so no paired comparison.").format(
                            a=name_a, b=name_b
                        )
                    )
                    continue
                comparison.pairs.append(pair)
                comparison.verdicts.append(pair.describe(name_a, name_b))
        return comparison

    def runs(self) -> list[RunRow]:
        from core.benchmark.store import list_runs

        rows = []
        for store in list_runs(self.home):
            try:
                info = store.load_info()
            except IAError as exc:
                rows.append(RunRow(store, None, 0, None, exc))
                continue
            rows.append(RunRow(store, info, len(store.load_samples()), store.load_summary()))
        return rows

    def leaderboard(self) -> list[LeaderboardEntry]:
        from core.benchmark.leaderboard import build_leaderboard, load_summaries

        return build_leaderboard(load_summaries(self.home))

    # -- samples files -----------------------------------------------------------------------------------
    def evaluate(
        self,
        problems: str,
        samples: str | Path,
        *,
        output: str | Path | None = None,
        timeout: float = 5.0,
        workers: int = 2,
    ) -> Evaluation:
        """Score a samples file (rows of any kind: solution, completion, raw) against a suite."""
        from core.benchmark.evaluate import evaluate_samples, scored
        from core.benchmark.problems import load_suite
        from core.benchmark.records import read_rows
        from core.benchmark.samples import MALFORMED
        from core.benchmark.scoring import summarize

        suite = load_suite(problems)  # a vision suite's answers are compared exactly, no sandbox
        out = evaluate_samples(suite, samples, timeout=timeout, out_path=output, workers=workers)
        results = [r for r in read_rows(out) if isinstance(r, dict)]
        bad = [r for r in results if r.get("reason") == MALFORMED]
        return Evaluation(out, summarize(scored(results), suite, ks=(1, 5, 10, 100)), len(results), bad)

    def selfcheck(self, problems: str, *, timeout: float = 10.0, workers: int = 2) -> Any:
        from core.benchmark.evaluate import selfcheck
        from core.benchmark.problems import load_suite

        return selfcheck(load_suite(problems), timeout=timeout, workers=workers)

    # -- sweep -------------------------------------------------------------------------------------------
    def sweep(
        self,
        hosts: Hosts,
        model: str,
        problems: str,
        grid: dict[str, list[Any]],
        *,
        limit: int | None = None,
        style: str = "chat",
        options: dict[str, Any] | None = None,
        repeat: int = 1,
        cancel: threading.Event | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> Sweep:
        """Speed under a grid of options on the first host; writes the sweep report; recommends a setup."""
        from core.benchmark.evaluate import is_vision_suite
        from core.benchmark.metrics import ResourceMonitor, find_server_pid
        from core.benchmark.runner import check_vision, load_suite_problems
        from core.benchmark.store import reports_dir, safe_name
        from core.benchmark.sweep import recommend, run_sweep, write_sweep_report

        chosen = load_suite_problems(problems, limit)
        client = hosts.clients[0]
        if is_vision_suite(chosen):  # refused before any request, as `run` does
            check_vision(client, model)
        with ResourceMonitor(find_server_pid(client.host)) as monitor:
            points = run_sweep(
                client,
                model,
                chosen,
                grid,
                style=style,
                base_options=options or build_options(),
                repeat=repeat,
                monitor=monitor,
                cancel=cancel or threading.Event(),
                on_progress=on_progress,
            )
        name = f"sweep_{safe_name(model)}_{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
        files = write_sweep_report(points, model, reports_dir(self.home), name)
        return Sweep(points, files, recommend(points))


def _key(record: Mapping[str, Any]) -> tuple[str, int]:
    try:
        return str(record.get("task_id")), int(record.get("sample_index", 0))
    except (TypeError, ValueError):
        return str(record.get("task_id")), 0


def _distinct_labels(summaries: Sequence[RunSummary]) -> list[str]:
    """run_label of each, with the run id added where two runs would read the same."""
    from core.benchmark.summary import run_label

    labels = [run_label(s) for s in summaries]
    return [
        f"{label} [{s.run_id}]" if labels.count(label) > 1 else label
        for label, s in zip(labels, summaries, strict=True)
    ]
