"""IA_V3 benchmark: `python main_benchmark.py run|evaluate|selfcheck|report|compare|sweep|list`.

Runs HumanEval-format suites against Ollama (or the embedded llama.cpp backend), measures speed and resource
use, scores samples in a sandbox and writes reports, charts and a leaderboard under IA_HOME/data/. The
`multimodal` suite asks a vision model questions about images drawn by code and scores the answers exactly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from core.benchmark.leaderboard import run_label
from core.errors import IAError, exit_code

__all__ = ["Hosts", "build_parser", "main", "options_from_args", "run_with_hosts"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _error(message: object, style: str = "red") -> None:
    """Print a message as plain text (error messages may contain brackets rich would read as markup)."""
    err_console.print(str(message), style=style, markup=False)


# ---------------------------------------------------------------------------------------------------------
# Backend and options
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

    def __init__(self, args: argparse.Namespace) -> None:
        from config import load_settings, parse_host
        from core.ollama_client import OllamaClient

        flags: dict[str, Any] = {}
        if getattr(args, "embedded", None):
            flags["embedded"] = args.embedded
        self.settings = load_settings(flags)
        self.backend = None
        self.kind = "ollama"
        timeouts = {
            "connect_timeout": self.settings.connect_timeout,
            "first_token_timeout": self.settings.first_token_timeout,
            "stall_timeout": self.settings.stall_timeout,
        }
        urls = [u.strip() for u in (getattr(args, "hosts", None) or "").split(",") if u.strip()]
        if urls:
            from core.errors import ServerUnreachable

            self.clients = [OllamaClient(parse_host(u), **timeouts) for u in urls]
            # Results and reports say which backend served them: ask each server what it is (our embedded
            # server says so in a header, core.ollama_client.OllamaClient.identify).
            kinds = []
            for client in self.clients:
                kind = client.identify()
                if kind is None:
                    raise ServerUnreachable(client.host)
                kinds.append(kind)
            self.kind = "+".join(dict.fromkeys(kinds))
            self.note = "Using " + ", ".join(
                f"{c.host} ({k})" for c, k in zip(self.clients, kinds, strict=True)
            )
        else:
            from core.backend import connect

            self.backend = connect(self.settings)
            self.kind = self.backend.kind  # "embedded" also for one started by hand at OLLAMA_HOST
            self.clients = [self.backend.client]
            self.note = self.backend.note

    @property
    def home(self) -> Path:
        return Path(self.settings.home)

    def settle(self, model: str) -> None:
        """After Ctrl-C, let the embedded server we started finish the step it is in, then free the model.

        llama.cpp cannot abandon a step when the client leaves (a batch of a long prompt, which the embedded
        engine reads batch by batch so that a cancel is seen between them, or loading a model); an unload
        waits its turn behind that step on the server. Stopping the server (or the process) under a
        running step prints uvicorn's shutdown traceback and can even crash at exit. Ctrl-C again skips it."""
        if self.backend is None or self.backend.server is None:
            return
        console.print("Letting the embedded server finish its current step (Ctrl-C again to quit now)...")
        try:
            self.clients[0].unload(model)
        except (IAError, KeyboardInterrupt):
            pass

    def close(self) -> None:
        if self.backend is not None:
            if self.backend.server is not None:  # ours: stopping it must not print a traceback after Ctrl-C
                logging.getLogger("uvicorn.error").addFilter(_QUIET_SHUTDOWN)
            self.backend.close()
        else:
            for client in self.clients:
                client.close()


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--option expects KEY=VALUE, not {text!r}")
    for cast in (int, float):
        try:
            return key.strip(), cast(raw)
        except ValueError:
            pass
    if raw.lower() in ("true", "false"):
        return key.strip(), raw.lower() == "true"
    return key.strip(), raw


def options_from_args(args: argparse.Namespace, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ollama options from the flags over a preset's options; greedy (temperature 0) when n == 1 by default."""
    from core.benchmark.runner import DEFAULT_OPTIONS

    options: dict[str, Any] = dict(DEFAULT_OPTIONS)
    options.update(base or {})
    if "temperature" not in options:
        options["temperature"] = 0.0 if args.n == 1 else 0.8
    flags = {
        "temperature": args.temperature,
        "seed": args.seed,
        "top_p": args.top_p,
        "num_ctx": args.num_ctx,
        "num_predict": args.num_predict,
    }
    options.update({k: v for k, v in flags.items() if v is not None})
    options.update(dict(args.option or []))
    return options


# ---------------------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------------------
def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        speed_estimate_period=3600,  # samples can take minutes each: estimate the ETA over the whole run
    )


def _run_one(run: Any) -> Any:
    """Execute one BenchmarkRun with a progress bar; Ctrl-C stops it cleanly."""
    with _progress() as bar:
        total = len(run.problems) * run.spec.n
        # Start at the samples already done (resume), so they do not count as speed for the ETA.
        task = bar.add_task(run.spec.model, total=total, completed=total - len(run.pending()), last="")

        def on_progress(done: int, total: int, sample: Any) -> None:
            last = ""
            if sample is not None:
                tps = f"{sample.gen_tps:.1f} tok/s" if sample.gen_tps else "-"
                last = f"{sample.task_id} {tps}" + (" [red]error[/red]" if sample.error else "")
            bar.update(task, completed=done, total=total, last=last)

        run.on_progress = on_progress
        return run.execute()


def _summary_line(summary: dict[str, Any]) -> str:
    p1 = summary.get("pass_at_k", {}).get("1")
    tps = summary.get("speed", {}).get("gen_tps", {})
    text = (
        f"pass@1 {100 * p1['value']:.1f}% [{100 * p1['low']:.1f}, {100 * p1['high']:.1f}]"
        if p1
        else "not scored"
    )
    if tps.get("median") is not None:
        text += f", {tps['median']:.1f} tok/s median (p90 {tps['p90']:.1f})"
    return text


def _make_runs(
    args: argparse.Namespace, hosts: Hosts, base_options: dict[str, Any] | None
) -> tuple[list[Any], int]:
    """The runs to execute (a resumed one, or one per model) and the worst exit status met while opening."""
    from core.benchmark.runner import BenchmarkRun, RunSpec

    if args.resume:
        run = BenchmarkRun.resume(
            args.resume, hosts.clients, hosts.home, backend=hosts.kind, workers=args.workers
        )
        return [run], 0
    models = [m.strip() for m in ",".join(args.model or []).split(",") if m.strip()]
    if not models:
        raise IAError(
            "Say which model to benchmark: --model NAME (several: --model a,b or --model a --model b)."
        )
    runs, status = [], 0
    for model in models:
        spec = RunSpec(
            model=model,
            suite=args.problems or args.suite,
            style=args.style,
            n=args.n,
            options=options_from_args(args, base_options),
            limit=args.limit,
            timeout=args.timeout,
            workers=args.workers,
        )
        try:
            runs.append(BenchmarkRun(spec, hosts.clients, hosts.home, backend=hosts.kind))
        except IAError as exc:  # e.g. one model missing: say so, run the others
            _error(exc)
            status = max(status, exit_code(exc))
    return runs, status


def run_with_hosts(args: argparse.Namespace, hosts: Hosts, base_options: dict[str, Any] | None = None) -> int:
    """The `run` command on already connected hosts (also used by the per-model preset scripts)."""
    runs, status = _make_runs(args, hosts, base_options)
    complete = []
    for run in runs:
        outcome = _execute(run)
        if outcome.status == "interrupted":
            hosts.settle(run.spec.model)
            return 130
        if outcome.status == "failed":
            status = max(status, exit_code(outcome.error))
        else:
            complete.append(outcome)
    if complete:
        _write_reports(hosts.home, [(run_label(o.summary), o.summary) for o in complete])
    return status


def cmd_run(args: argparse.Namespace) -> int:
    hosts = Hosts(args)
    console.print(hosts.note)
    try:
        return run_with_hosts(args, hosts)
    finally:
        hosts.close()


def _execute(run: Any) -> Any:
    console.print(
        f"Run [bold]{run.info.run_id}[/bold]: {run.spec.model}, {run.spec.style} style, suite {run.spec.suite}, "
        f"{len(run.problems)} problems x {run.spec.n}"
    )
    console.print(f"  folder: {run.store.dir}")
    outcome = _run_one(run)
    if outcome.status == "interrupted":
        console.print(
            f"[yellow]Stopped: {outcome.generated} new sample(s) saved in {run.store.samples}. "
            f"Continue with: python main_benchmark.py run --resume {run.info.run_id}[/yellow]"
        )
        return outcome
    if outcome.status == "failed":
        _error(outcome.error)
        if outcome.info.status == "generated":
            console.print(
                f"All samples are saved; score them with: python main_benchmark.py report {run.info.run_id}"
            )
        else:
            console.print(f"Samples so far are kept; resume later with --resume {run.info.run_id}")
        return outcome
    if outcome.info.kind == "vision":
        console.print("  scored exactly: answers compared with the known ones as text (nothing run)")
    else:
        console.print(f"  scored in the sandbox ({outcome.info.sandbox})")
    console.print(f"  {run.spec.model}: {_summary_line(outcome.summary)}")
    return outcome


def _write_reports(home: Path, runs: list[tuple[str, dict[str, Any]]]) -> None:
    from core.benchmark.reports import write_leaderboard, write_report
    from core.benchmark.store import reports_dir

    name = "report_" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    files = write_report(runs, reports_dir(home), name)
    board = write_leaderboard(home)
    console.print("Reports:")
    for path in files.all() + board.all():
        console.print(f"  {path}")


# ---------------------------------------------------------------------------------------------------------
# evaluate / selfcheck
# ---------------------------------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    from core.benchmark.evaluate import evaluate_samples
    from core.benchmark.problems import load_suite, read_jsonl
    from core.benchmark.scoring import summarize

    problems = load_suite(args.problems)  # a vision suite's answers are compared exactly, no sandbox
    out = evaluate_samples(
        problems, args.samples, timeout=args.timeout, out_path=args.output, workers=args.workers
    )
    scored = summarize(read_jsonl(out), problems, ks=(1, 5, 10, 100))
    for k, est in scored.overall.items():
        console.print(
            f"pass@{k}: {100 * est.value:.1f}% [{100 * est.low:.1f}, {100 * est.high:.1f}] over {est.problems} problems"
        )
    console.print(f"Results: {out}")
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from core.benchmark.evaluate import selfcheck
    from core.benchmark.problems import load_suite

    report = selfcheck(load_suite(args.problems), timeout=args.timeout, workers=args.workers)
    console.print(report.describe(), markup=False)
    return 0 if report.ok else 5


# ---------------------------------------------------------------------------------------------------------
# report / compare / list
# ---------------------------------------------------------------------------------------------------------
def _home(args: argparse.Namespace) -> Path:
    from config import load_settings

    return Path(load_settings({}).home)


def _resolve(home: Path, ref: str) -> tuple[Any, dict[str, Any]]:
    """A run by id/folder, or the latest scored run of a model name."""
    from core.benchmark.leaderboard import load_summaries
    from core.benchmark.store import find_run
    from core.errors import BenchmarkError

    try:
        store = find_run(home, ref)
    except BenchmarkError:
        by_model = [(s, m) for s, m in load_summaries(home) if m.get("model") == ref]
        if not by_model:
            raise
        return max(by_model, key=lambda pair: str(pair[1].get("finished", "")))
    summary = store.load_summary()
    if summary is None:
        from core.benchmark.runner import evaluate_run

        summary = evaluate_run(store)
    return store, summary


def cmd_report(args: argparse.Namespace) -> int:
    from core.benchmark.runner import evaluate_run
    from core.benchmark.store import list_runs

    home = _home(args)
    stores = [_resolve(home, ref)[0] for ref in args.runs] if args.runs else list_runs(home)
    runs = []
    for store in stores:
        info = store.load_info()
        if not args.runs and info.status not in ("generated", "complete"):
            continue  # unfinished runs are reported only when named
        if args.rescore or store.load_summary() is None:
            if not store.load_samples():
                continue
            console.print(f"Scoring {info.model} {info.run_id} ...")
            evaluate_run(store)
        runs.append((run_label(store.load_summary()), store.load_summary()))
    if not runs:
        raise IAError(
            "No benchmark run with samples yet: start one with `python main_benchmark.py run --model NAME`."
        )
    _write_reports(home, runs)
    return 0


def _fmt_ci(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "-"
    return f"{100 * entry['value']:.1f} [{100 * entry['low']:.1f}, {100 * entry['high']:.1f}]"


def cmd_compare(args: argparse.Namespace) -> int:
    home = _home(args)
    pairs = [_resolve(home, ref) for ref in args.refs]
    table = Table(title="Side by side (pass@1 % with 95% interval)")
    for col in ("Run", "Model", "Style", "Options", "pass@1", "TTFT med/p90 s", "tok/s med/p90", "Errors"):
        table.add_column(col)
    for store, s in pairs:
        speed = s.get("speed", {})
        ttft, tps = speed.get("ttft_s", {}), speed.get("gen_tps", {})

        def two(d: dict[str, Any]) -> str:
            return "-" if d.get("median") is None else f"{d['median']:.2f} / {d['p90']:.2f}"

        table.add_row(
            s.get("run_id", store.dir.name),
            s.get("model", ""),
            s.get("style", ""),
            s.get("options_label", ""),
            _fmt_ci(s.get("pass_at_k", {}).get("1")),
            two(ttft),
            two(tps),
            str(s.get("errors", 0)),
        )
    console.print(table)
    scored = [s for _, s in pairs if s.get("pass_at_k", {}).get("1")]
    for i, a in enumerate(scored):
        for b in scored[i + 1 :]:
            pa, pb = a["pass_at_k"]["1"], b["pass_at_k"]["1"]
            overlap = pa["low"] <= pb["high"] and pb["low"] <= pa["high"]
            verdict = (
                "intervals overlap: no clear difference" if overlap else "intervals apart: a real difference"
            )
            console.print(f"{a['model']} vs {b['model']}: {verdict}")
    if args.write:
        _write_reports(home, [(run_label(s), s) for _, s in pairs])
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from core.benchmark.leaderboard import build_leaderboard, load_summaries
    from core.benchmark.store import list_runs

    home = _home(args)
    runs = Table(title=f"Runs in {home / 'data' / 'generated'}")
    for col in ("Run", "Model", "Style", "Suite", "Status", "Samples", "pass@1"):
        runs.add_column(col)
    for store in list_runs(home):
        try:
            info = store.load_info()
        except IAError as exc:
            _error(exc, "yellow")
            continue
        summary = store.load_summary() or {}
        runs.add_row(
            info.run_id,
            info.model,
            info.style,
            info.suite,
            info.status,
            str(len(store.load_samples())),
            _fmt_ci(summary.get("pass_at_k", {}).get("1")),
        )
    console.print(runs)
    board = Table(title="Leaderboard (latest run per model, digest, backend version and options)")
    for col in (
        "#",
        "Model",
        "Digest",
        "Backend",
        "Style",
        "Suite",
        "Options",
        "pass@1",
        "tok/s med",
        "Runs",
    ):
        board.add_column(col)
    for i, e in enumerate(build_leaderboard(load_summaries(home)), 1):
        tps = e.summary.get("speed", {}).get("gen_tps", {}).get("median")
        board.add_row(
            str(i),
            e.model,
            e.digest[:12],
            f"{e.backend} {e.backend_version}",
            e.style,
            e.suite + (f" (first {e.summary['limit']})" if e.summary.get("limit") else ""),
            e.options_label,
            _fmt_ci(e.summary.get("pass_at_k", {}).get("1")),
            "-" if tps is None else f"{tps:.1f}",
            str(e.runs),
        )
    console.print(board)
    return 0


# ---------------------------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------------------------
def cmd_sweep(args: argparse.Namespace) -> int:
    from core.benchmark.evaluate import is_vision_suite
    from core.benchmark.metrics import ResourceMonitor, find_server_pid
    from core.benchmark.runner import check_vision, load_suite_problems
    from core.benchmark.store import reports_dir, safe_name
    from core.benchmark.sweep import parse_grid, recommend, run_sweep, write_sweep_report

    grid = parse_grid(args.grid or ["num_ctx=2048,4096"])
    problems = load_suite_problems(args.problems or args.suite, args.limit)
    hosts = Hosts(args)
    console.print(hosts.note)
    cancel = threading.Event()
    client = hosts.clients[0]
    try:
        if is_vision_suite(problems):  # refused before any request, as `run` does
            check_vision(client, args.model)
        with ResourceMonitor(find_server_pid(client.host)) as monitor, _progress() as bar:
            task = bar.add_task(f"sweep {args.model}", total=None, last="")

            def on_progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, last=label)

            try:
                points = run_sweep(
                    client,
                    args.model,
                    problems,
                    grid,
                    style=args.style,
                    base_options=options_from_args(args),
                    repeat=args.repeat,
                    monitor=monitor,
                    cancel=cancel,
                    on_progress=on_progress,
                )
            except KeyboardInterrupt:
                cancel.set()
                console.print("[yellow]Sweep stopped.[/yellow]")
                return 130
        name = f"sweep_{safe_name(args.model)}_{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
        files = write_sweep_report(points, args.model, reports_dir(hosts.home), name)
        table = Table(title=f"Option sweep: {args.model}")
        rows = [p.row() for p in points]
        for col in rows[0] if rows else []:
            table.add_column(col)
        for r in rows:
            table.add_row(*[f"{v:.2f}" if isinstance(v, float) else str(v) for v in r.values()])
        console.print(table)
        best = recommend(points)
        console.print(
            f"Recommendation for this machine: [bold]{best.label}[/bold]" if best else "No clean result."
        )
        for path in files:
            console.print(f"  {path}")
        return 0
    finally:
        hosts.close()


# ---------------------------------------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------------------------------------
def _add_generation_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", default="ia_basic", help="built-in suite: ia_basic | humaneval | multimodal")
    p.add_argument(
        "--problems",
        help="a problems file (.jsonl or .jsonl.gz) instead of --suite: HumanEval format, or vision problems "
        "written by `python -m core.benchmark.multimodal FILE`",
    )
    p.add_argument(
        "--style",
        choices=("chat", "complete"),
        default="chat",
        help="chat: instruction to a chat model; complete: raw completion for base models",
    )
    p.add_argument("-n", type=int, default=1, help="samples per problem (default 1)")
    p.add_argument("--temperature", type=float, help="default 0 when -n 1, else 0.8")
    p.add_argument("--seed", type=int)
    p.add_argument("--top-p", type=float, dest="top_p")
    p.add_argument("--num-ctx", type=int, dest="num_ctx")
    p.add_argument("--num-predict", type=int, dest="num_predict", help="max tokens per sample (default 256)")
    p.add_argument(
        "--option",
        action="append",
        type=_parse_option,
        metavar="KEY=VALUE",
        help="any other Ollama option (repeatable)",
    )
    p.add_argument("--limit", type=int, help="only the first N problems")
    p.add_argument(
        "--hosts", help="comma-separated server URLs sharing the work (default: Ollama or embedded)"
    )
    p.add_argument("--embedded", choices=("auto", "force", "off"), help="embedded backend use (default auto)")


EXAMPLES = """examples:
  python main_benchmark.py run --model smollm2:135m --suite ia_basic --style chat
  python main_benchmark.py run --model gemma3:270m --style complete -n 5 --temperature 0.8
  python main_benchmark.py run --model llava:7b --suite multimodal        (vision: images, exact answers)
  python main_benchmark.py run --models a,b --hosts http://pc1:11434,http://pc2:11434
  python main_benchmark.py run --resume 20260101-120000-chat-1a2b3c     (after Ctrl-C)
  python main_benchmark.py compare smollm2:135m gemma3:270m
  python main_benchmark.py sweep --model smollm2:135m --grid num_ctx=2048,4096 --grid num_thread=1,2
  python main_benchmark.py list
Results: IA_HOME/data/generated/<model>/<run>/; reports and leaderboard: IA_HOME/data/benchmarks/."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main_benchmark.py",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="generate samples for models, score them, write reports")
    run.add_argument(
        "--model", "--models", action="append", dest="model", help="model name(s), comma-separated"
    )
    _add_generation_flags(run)
    run.add_argument("--workers", type=int, default=1, help="concurrent requests per host (default 1)")
    run.add_argument("--resume", metavar="RUN", help="continue a run without redoing finished samples")
    run.add_argument(
        "--timeout", type=float, default=5.0, help="seconds per sample in the sandbox (default 5)"
    )
    run.set_defaults(func=cmd_run)

    ev = sub.add_parser(
        "evaluate", help="score a samples file (HumanEval in the sandbox; vision answers exactly)"
    )
    ev.add_argument("--problems", required=True, help="problems file or built-in suite name")
    ev.add_argument("--samples", required=True)
    ev.add_argument("--output", help="results file (default: <samples>_results.jsonl)")
    ev.add_argument("--timeout", type=float, default=5.0, help="seconds per sample (default 5)")
    ev.add_argument("--workers", type=int, default=2, help="samples scored at once (default 2)")
    ev.set_defaults(func=cmd_evaluate)

    sc = sub.add_parser(
        "selfcheck", help="check that a suite's canonical solutions (vision: known answers) pass"
    )
    sc.add_argument("--problems", required=True, help="problems file or built-in suite name")
    sc.add_argument("--timeout", type=float, default=10.0)
    sc.add_argument("--workers", type=int, default=2)
    sc.set_defaults(func=cmd_selfcheck)

    rep = sub.add_parser("report", help="regenerate reports (all runs, or the ones named)")
    rep.add_argument("runs", nargs="*", help="run ids, folders or model names (default: every run)")
    rep.add_argument("--rescore", action="store_true", help="score samples again before reporting")
    rep.set_defaults(func=cmd_report)

    cmp_ = sub.add_parser("compare", help="runs or models side by side, with intervals")
    cmp_.add_argument("refs", nargs="+", help="run ids, folders or model names (latest run)")
    cmp_.add_argument("--write", action="store_true", help="also write a report with charts")
    cmp_.set_defaults(func=cmd_compare)

    sw = sub.add_parser("sweep", help="speed under a grid of options; recommends a setup for this machine")
    sw.add_argument("--model", required=True)
    _add_generation_flags(sw)
    sw.add_argument(
        "--grid",
        action="append",
        metavar="NAME=V1,V2",
        help="an axis, e.g. num_ctx=2048,4096 num_thread=1,2 num_gpu=0,99 keep_alive=0,5m",
    )
    sw.add_argument("--repeat", type=int, default=1, help="rounds per combination")
    sw.set_defaults(func=cmd_sweep, limit=2)

    ls = sub.add_parser("list", help="runs and the leaderboard")
    ls.set_defaults(func=cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except IAError as exc:
        _error(exc)
        return exit_code(exc)
    except KeyboardInterrupt:
        _error("Interrupted.", "yellow")
        return 130


if __name__ == "__main__":
    sys.exit(main())
