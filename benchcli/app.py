"""`python main_benchmark.py run|evaluate|rescore|selfcheck|report|compare|sweep|list`: arguments and output.

Runs HumanEval-format suites against Ollama, the embedded llama.cpp backend or an OpenAI-compatible server
(llama-server, LM Studio, vLLM: `--hosts URL/v1`), measures speed and resource use, scores samples in a
sandbox and writes reports, charts and a leaderboard under IA_HOME/data/. The
`multimodal` suite asks a vision model questions about images drawn by code and scores the answers exactly.
Everything here parses and prints; the work is done by the facade core.benchmark.service.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from benchcli.display import console, error, fmt_ci, progress, summary_line
from core.benchmark.records import printable
from core.benchmark.service import Benchmark, Hosts, build_options, make_spec
from core.errors import IAError, exit_code

__all__ = ["add_generation_flags", "build_parser", "main", "options_from_args", "run_with_hosts"]


def _home() -> Path:
    from config import load_settings

    return Path(load_settings({}).home)


def _hosts(args: argparse.Namespace) -> Hosts:
    return Hosts(getattr(args, "hosts", None), embedded=getattr(args, "embedded", None))


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


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "temperature": args.temperature,
        "seed": args.seed,
        "top_p": args.top_p,
        "num_ctx": args.num_ctx,
        "num_predict": args.num_predict,
    }


def options_from_args(args: argparse.Namespace, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ollama options from the flags over a preset's options (service.build_options)."""
    return build_options(args.n, base, _flags(args), args.option)


# ---------------------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------------------
def _run_one(run: Any) -> Any:
    """Execute one BenchmarkRun with a progress bar and say how it ended; Ctrl-C stops it cleanly."""
    console.print(
        f"Run [bold]{run.info.run_id}[/bold]: {run.spec.model}, {run.spec.style} style, suite {run.spec.suite}, "
        f"{len(run.problems)} problems x {run.spec.n}"
    )
    console.print(f"  folder: {run.store.dir}")
    with progress() as bar:
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
        outcome = run.execute()
    _say_outcome(run, outcome)
    return outcome


def _say_outcome(run: Any, outcome: Any) -> None:
    if outcome.status == "interrupted":
        console.print(
            f"[yellow]Stopped: {outcome.generated} new sample(s) saved in {run.store.samples}. "
            f"Continue with: python main_benchmark.py run --resume {run.info.run_id}[/yellow]"
        )
        return
    if outcome.status == "failed":
        error(outcome.error)
        if outcome.info.status == "generated":
            console.print(
                f"All samples are saved; score them with: python main_benchmark.py report {run.info.run_id}"
            )
        else:
            console.print(f"Samples so far are kept; resume later with --resume {run.info.run_id}")
        return
    if outcome.info.kind == "vision":
        console.print("  scored exactly: answers compared with the known ones as text (nothing run)")
    else:
        console.print(f"  scored in the sandbox ({outcome.info.sandbox})")
    console.print(f"  {run.spec.model}: {summary_line(outcome.summary)}", markup=False)
    failures = {k: v for k, v in outcome.summary.reasons.items() if k != "passed"}
    if failures:
        console.print("  failures: " + ", ".join(f"{k} x{v}" for k, v in failures.items()), markup=False)


def _say_reports(paths: Sequence[Path]) -> None:
    console.print("Reports:")
    for path in paths:
        console.print(f"  {path}", markup=False)


def run_with_hosts(args: argparse.Namespace, hosts: Hosts, base_options: dict[str, Any] | None = None) -> int:
    """The `run` command on already connected hosts (also used by the per-model preset scripts)."""
    bench = Benchmark(Path(hosts.settings.home))
    status = 0
    if args.resume:
        runs = [bench.resume(args.resume, hosts, workers=args.workers)]
    else:
        models = [m.strip() for m in ",".join(args.model or []).split(",") if m.strip()]
        if not models:
            raise IAError(
                "Say which model to benchmark: --model NAME (several: --model a,b or --model a --model b)."
            )
        specs = [
            make_spec(
                model,
                suite=args.problems or args.suite,
                style=args.style,
                n=args.n,
                limit=args.limit,
                timeout=args.timeout,
                workers=args.workers,
                base_options=base_options,
                flags=_flags(args),
                extra=args.option,
            )
            for model in models
        ]
        runs, errors = bench.open_runs(specs, hosts)
        for exc in errors:
            error(exc)
            status = max(status, exit_code(exc))
    batch = bench.execute(runs, hosts, run_one=_run_one, notify=console.print)
    if batch.interrupted:
        return 130
    for exc in batch.errors:
        status = max(status, exit_code(exc))
    if batch.reports:
        _say_reports(batch.reports)
    return status


def cmd_run(args: argparse.Namespace) -> int:
    hosts = _hosts(args)
    console.print(hosts.note, markup=False)
    try:
        return run_with_hosts(args, hosts)
    finally:
        hosts.close()


# ---------------------------------------------------------------------------------------------------------
# evaluate / rescore / selfcheck
# ---------------------------------------------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    outcome = Benchmark(_home()).evaluate(
        args.problems, args.samples, output=args.output, timeout=args.timeout, workers=args.workers
    )
    for k, est in outcome.scored.overall.items():
        method = f" ({est.method})" if est.method else ""
        console.print(
            f"pass@{k}: {100 * est.value:.1f}% [{100 * est.low:.1f}, {100 * est.high:.1f}] over "
            f"{est.problems} problems{method}",
            markup=False,
        )
    console.print(f"Results: {outcome.path}", markup=False)
    if outcome.malformed:
        error(
            f"{len(outcome.malformed)} of {outcome.rows} rows could not be scored (kept in the results):",
            "yellow",
        )
        for row in outcome.malformed[:10]:
            where = f"line {row['line']}" if "line" in row else f"task {row.get('task_id')!r}"
            error(f"  {where}: {row['result']}", "yellow")
        if len(outcome.malformed) > 10:
            error(f"  ... and {len(outcome.malformed) - 10} more", "yellow")
        if len(outcome.malformed) == outcome.rows:
            return 5  # nothing scored: the wrong problems file, or not a samples file at all
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    outcome = Benchmark(_home()).rescore(args.run)
    info = outcome.store.load_info()
    console.print(f"Rescored {info.model} {info.run_id}: {outcome.describe()}", markup=False)
    console.print(f"  {info.model}: {summary_line(outcome.after)}", markup=False)
    _say_reports(outcome.reports)
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    report = Benchmark(_home()).selfcheck(args.problems, timeout=args.timeout, workers=args.workers)
    console.print(report.describe(), markup=False)
    return 0 if report.ok else 5


# ---------------------------------------------------------------------------------------------------------
# report / compare / list
# ---------------------------------------------------------------------------------------------------------
def cmd_report(args: argparse.Namespace) -> int:
    def scoring(info: Any) -> None:
        console.print(f"Scoring {info.model} {info.run_id} ...", markup=False)

    _say_reports(Benchmark(_home()).report_runs(args.runs, rescore=args.rescore, on_scoring=scoring))
    return 0


def _spread(summary: Any, name: str) -> str:
    spread = summary.speed_of(name)
    if spread.median is None:
        return "-"
    return f"{spread.median:.2f} / " + ("-" if spread.p90 is None else f"{spread.p90:.2f}")


def cmd_compare(args: argparse.Namespace) -> int:
    bench = Benchmark(_home())
    comparison = bench.compare(args.refs)
    table = Table(title="Side by side (pass@1 % with 95% interval)")
    for col in ("Run", "Model", "Style", "Options", "pass@1", "TTFT med/p90 s", "tok/s med/p90", "Errors"):
        table.add_column(col)
    for store, s in comparison.runs:
        table.add_row(
            *[
                printable(cell)
                for cell in (
                    s.run_id or store.dir.name,
                    s.model,
                    s.style,
                    s.options_label,
                    fmt_ci(s.pass1),
                    _spread(s, "ttft_s"),
                    _spread(s, "gen_tps"),
                    str(s.errors),
                )
            ]
        )
    console.print(table)
    methods = sorted({s.method for _, s in comparison.runs if s.method})
    if methods:
        console.print("Intervals: " + "; ".join(methods) + ".", markup=False)
    for verdict in comparison.verdicts:
        console.print(verdict, markup=False)
    if args.write:
        _say_reports(bench.report([store for store, _ in comparison.runs]))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    bench = Benchmark(_home())
    runs = Table(title=f"Runs in {bench.home / 'data' / 'generated'}")
    for col in ("Run", "Model", "Style", "Suite", "Status", "Samples", "pass@1"):
        runs.add_column(col)
    for row in bench.runs():
        if row.info is None:
            error(row.error, "yellow")
            continue
        info = row.info
        cells = (info.run_id, info.model, info.style, info.suite, info.status, str(row.samples))
        runs.add_row(*[printable(c) for c in cells], fmt_ci(row.summary.pass1 if row.summary else None))
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
    for i, e in enumerate(bench.leaderboard(), 1):
        tps = e.summary.speed_of("gen_tps").median
        cells = (e.model, e.digest[:12], f"{e.backend} {e.backend_version}", e.style, e.summary.suite_name,
                 e.options_label)  # fmt: skip
        board.add_row(
            str(i),
            *[printable(c) for c in cells],
            fmt_ci(e.summary.pass1),
            "-" if tps is None else f"{tps:.1f}",
            str(e.runs),
        )
    console.print(board)
    return 0


# ---------------------------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------------------------
def cmd_sweep(args: argparse.Namespace) -> int:
    from core.benchmark.sweep import parse_grid

    grid = parse_grid(args.grid or ["num_ctx=2048,4096"])
    hosts = _hosts(args)
    console.print(hosts.note, markup=False)
    cancel = threading.Event()
    try:
        with progress() as bar:
            task = bar.add_task(f"sweep {args.model}", total=None, last="")

            def on_progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, last=label)

            try:
                sweep = Benchmark(Path(hosts.settings.home)).sweep(
                    hosts,
                    args.model,
                    args.problems or args.suite,
                    grid,
                    limit=args.limit,
                    style=args.style,
                    options=options_from_args(args),
                    repeat=args.repeat,
                    cancel=cancel,
                    on_progress=on_progress,
                )
            except KeyboardInterrupt:
                cancel.set()
                console.print("[yellow]Sweep stopped.[/yellow]")
                return 130
        table = Table(title=f"Option sweep: {args.model}")
        rows = [p.row() for p in sweep.points]
        for col in rows[0] if rows else []:
            table.add_column(col)
        for r in rows:
            table.add_row(*[f"{v:.2f}" if isinstance(v, float) else str(v) for v in r.values()])
        console.print(table)
        best = sweep.best
        console.print(
            f"Recommendation for this machine: [bold]{best.label}[/bold]" if best else "No clean result."
        )
        for path in sweep.files:
            console.print(f"  {path}", markup=False)
        return 0
    finally:
        hosts.close()


# ---------------------------------------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------------------------------------
def add_generation_flags(p: argparse.ArgumentParser) -> None:
    """The flags of `run` and `sweep` (and of the per-model preset scripts)."""
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
        "--hosts",
        help="comma-separated server URLs sharing the work: Ollama, or OpenAI-compatible (a URL ending in /v1, "
        "or openai:URL; OPENAI_API_KEY is sent when set) (default: Ollama or embedded)",
    )
    p.add_argument("--embedded", choices=("auto", "force", "off"), help="embedded backend use (default auto)")


DESCRIPTION = (
    "IA_V3 benchmark: `python main_benchmark.py run|evaluate|rescore|selfcheck|report|compare|sweep|list`."
)
EXAMPLES = """examples:
  python main_benchmark.py run --model smollm2:135m --suite ia_basic --style chat
  python main_benchmark.py run --model gemma3:270m --style complete -n 5 --temperature 0.8
  python main_benchmark.py run --model llava:7b --suite multimodal        (vision: images, exact answers)
  python main_benchmark.py run --models a,b --hosts http://pc1:11434,http://pc2:11434
  python main_benchmark.py run --model MODEL --hosts http://127.0.0.1:8080/v1   (llama-server, LM Studio, vLLM)
  python main_benchmark.py run --resume 20260101-120000-chat-1a2b3c     (after Ctrl-C)
  python main_benchmark.py evaluate --problems ia_basic --samples replies.jsonl   (solution/completion/raw rows)
  python main_benchmark.py rescore 20260101-120000-chat-1a2b3c          (re-extract a run's saved replies)
  python main_benchmark.py compare smollm2:135m gemma3:270m
  python main_benchmark.py sweep --model smollm2:135m --grid num_ctx=2048,4096 --grid num_thread=1,2
  python main_benchmark.py list
Results: IA_HOME/data/generated/<model>/<run>/; reports and leaderboard: IA_HOME/data/benchmarks/."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=None,  # the name it was started by: main_benchmark.py, or iav3-bench (the console script)
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="generate samples for models, score them, write reports")
    run.add_argument(
        "--model", "--models", action="append", dest="model", help="model name(s), comma-separated"
    )
    add_generation_flags(run)
    run.add_argument("--workers", type=int, default=1, help="concurrent requests per host (default 1)")
    run.add_argument("--resume", metavar="RUN", help="continue a run without redoing finished samples")
    run.add_argument(
        "--timeout", type=float, default=5.0, help="seconds per sample in the sandbox (default 5)"
    )
    run.set_defaults(func=cmd_run)

    ev = sub.add_parser(
        "evaluate",
        help="score a samples file: solution, completion or raw (a model's reply) rows, in the sandbox "
        "(vision answers exactly)",
    )
    ev.add_argument("--problems", required=True, help="problems file or built-in suite name")
    ev.add_argument("--samples", required=True)
    ev.add_argument("--output", help="results file (default: <samples>_results.jsonl)")
    ev.add_argument("--timeout", type=float, default=5.0, help="seconds per sample (default 5)")
    ev.add_argument("--workers", type=int, default=2, help="samples scored at once (default 2)")
    ev.set_defaults(func=cmd_evaluate)

    rs = sub.add_parser(
        "rescore",
        help="re-extract a finished run's saved replies with today's extraction, score them again and "
        "rewrite its results, summary and the reports",
    )
    rs.add_argument("run", metavar="RUN", help="run id or folder")
    rs.set_defaults(func=cmd_rescore)

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

    cmp_ = sub.add_parser(
        "compare", help="runs or models side by side, with a paired test over shared problems"
    )
    cmp_.add_argument("refs", nargs="+", help="run ids, folders or model names (latest run)")
    cmp_.add_argument("--write", action="store_true", help="also write a report with charts")
    cmp_.set_defaults(func=cmd_compare)

    sw = sub.add_parser("sweep", help="speed under a grid of options; recommends a setup for this machine")
    sw.add_argument("--model", required=True)
    add_generation_flags(sw)
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
        error(exc)
        return exit_code(exc)
    except KeyboardInterrupt:
        error("Interrupted.", "yellow")
        return 130
