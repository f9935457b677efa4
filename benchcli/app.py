"""`python main_benchmark.py run|evaluate|rescore|selfcheck|report|compare|sweep|list`: arguments and output.

Runs HumanEval-format suites against Ollama, the embedded llama.cpp backend or an OpenAI-compatible server
(llama-server, LM Studio, vLLM: `--hosts URL/v1`), measures speed and resource use, scores samples in a
sandbox and writes reports, charts and a leaderboard under IA_HOME/data/. The
`multimodal` suite asks a vision model questions about images drawn by code and scores the answers exactly.
Everything here parses and prints; the work is done by the facade core.benchmark.service.

What it prints is in the interface's language: `--lang auto|en|fr` (anywhere on the command line), else the
settings' `language` (config.toml, IA_LANG), else the locale (LANG...); chosen before anything is printed, so
`--help` and argparse's own messages are translated too. Numbers go through core.i18n.format_*. The files it
writes (CSV, XLSX, JSON, Markdown, HTML reports and charts) keep their English column names and format.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from benchcli.display import console, dec, error, fmt_ci, pct, progress, summary_line
from core import i18n
from core.benchmark.records import printable
from core.benchmark.service import Benchmark, Hosts, build_options, make_spec
from core.errors import IAError, exit_code
from core.i18n import N_, _, format_datetime, format_number, ngettext

__all__ = [
    "LANG_CHOICES",
    "add_generation_flags",
    "build_parser",
    "choose_language",
    "main",
    "options_from_args",
    "run_with_hosts",
]

LANG_CHOICES = ("auto", "en", "fr")


def _home() -> Path:
    from config import load_settings

    return Path(load_settings({}).home)


def _hosts(args: argparse.Namespace) -> Hosts:
    return Hosts(getattr(args, "hosts", None), embedded=getattr(args, "embedded", None))


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(_("--option expects KEY=VALUE, not {text!r}").format(text=text))
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
        _("Run [bold]{run}[/bold]: {model}, {style} style, suite {suite}, {problems} problems x {n}").format(
            run=run.info.run_id,
            model=run.spec.model,
            style=run.spec.style,
            suite=run.spec.suite,
            problems=format_number(len(run.problems)),
            n=run.spec.n,
        )
    )
    console.print("  " + _("folder: {path}").format(path=run.store.dir), markup=False)
    with progress() as bar:
        total = len(run.problems) * run.spec.n
        # Start at the samples already done (resume), so they do not count as speed for the ETA.
        task = bar.add_task(run.spec.model, total=total, completed=total - len(run.pending()), last="")

        def on_progress(done: int, total: int, sample: Any) -> None:
            last = ""
            if sample is not None:
                tps = _("{tps} tok/s").format(tps=dec(sample.gen_tps)) if sample.gen_tps else "-"
                last = f"{sample.task_id} {tps}" + (" [red]" + _("error") + "[/red]" if sample.error else "")
            bar.update(task, completed=done, total=total, last=last)

        run.on_progress = on_progress
        outcome = run.execute()
    _say_outcome(run, outcome)
    return outcome


def _say_outcome(run: Any, outcome: Any) -> None:
    if outcome.status == "interrupted":
        stopped = ngettext(
            "Stopped: {count} new sample saved in {path}.",
            "Stopped: {count} new samples saved in {path}.",
            outcome.generated,
        ).format(count=format_number(outcome.generated), path=run.store.samples)
        again = _("Continue with: {command}").format(
            command=f"python main_benchmark.py run --resume {run.info.run_id}"  # i18n: a command to copy
        )
        console.print(f"{stopped} {again}", style="yellow", markup=False)
        return
    if outcome.status == "failed":
        error(outcome.error)
        if outcome.info.status == "generated":
            console.print(
                _("All samples are saved; score them with: {command}").format(
                    command=f"python main_benchmark.py report {run.info.run_id}"  # i18n: a command to copy
                ),
                markup=False,
            )
        else:
            console.print(
                _("Samples so far are kept; resume later with {flag}").format(
                    flag=f"--resume {run.info.run_id}"
                ),
                markup=False,
            )
        return
    if outcome.info.kind == "vision":
        console.print("  " + _("scored exactly: answers compared with the known ones as text (nothing run)"))
    else:
        console.print("  " + _("scored in the sandbox ({sandbox})").format(sandbox=outcome.info.sandbox))
    console.print(
        "  " + _("{model}: {summary}").format(model=run.spec.model, summary=summary_line(outcome.summary)),
        markup=False,
    )
    failures = {k: v for k, v in outcome.summary.reasons.items() if k != "passed"}
    if failures:
        listed = ", ".join(f"{k} x{format_number(v)}" for k, v in failures.items())
        console.print("  " + _("failures: {list}").format(list=listed), markup=False)


def _say_reports(paths: Sequence[Path]) -> None:
    console.print(_("Reports:"))
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
            raise IAError(  # i18n: the flags are typed as they are; the sentence is marked
                _("Say which model to benchmark: {flag} (several: {several} or {repeated}).").format(
                    flag="--model NAME",
                    several="--model a,b",
                    repeated="--model a --model b",
                )
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
        line = ngettext(
            "pass@{k}: {value} [{low}, {high}] over {count} problem",
            "pass@{k}: {value} [{low}, {high}] over {count} problems",
            est.problems,
        ).format(
            k=k,
            value=pct(est.value),
            low=dec(100 * est.low),
            high=dec(100 * est.high),
            count=format_number(est.problems),
        )
        console.print(line + method, markup=False)
    console.print(_("Results: {path}").format(path=outcome.path), markup=False)
    if outcome.malformed:
        error(
            ngettext(
                "{count} of {rows} rows could not be scored (kept in the results):",
                "{count} of {rows} rows could not be scored (kept in the results):",
                len(outcome.malformed),
            ).format(count=format_number(len(outcome.malformed)), rows=format_number(outcome.rows)),
            "yellow",
        )
        for row in outcome.malformed[:10]:
            if "line" in row:
                where = _("line {number}").format(number=row["line"])
            else:
                where = _("task {id!r}").format(id=row.get("task_id"))
            error(f"  {where}: {row['result']}", "yellow")
        if len(outcome.malformed) > 10:
            more = len(outcome.malformed) - 10
            error("  " + _("... and {count} more").format(count=format_number(more)), "yellow")
        if len(outcome.malformed) == outcome.rows:
            return 5  # nothing scored: the wrong problems file, or not a samples file at all
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    outcome = Benchmark(_home()).rescore(args.run)
    info = outcome.store.load_info()
    console.print(
        _("Rescored {model} {run}: {change}").format(
            model=info.model, run=info.run_id, change=outcome.describe()
        ),
        markup=False,
    )
    console.print(
        "  " + _("{model}: {summary}").format(model=info.model, summary=summary_line(outcome.after)),
        markup=False,
    )
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
        console.print(_("Scoring {model} {run} ...").format(model=info.model, run=info.run_id), markup=False)

    _say_reports(Benchmark(_home()).report_runs(args.runs, rescore=args.rescore, on_scoring=scoring))
    return 0


def _spread(summary: Any, name: str) -> str:
    spread = summary.speed_of(name)
    if spread.median is None:
        return "-"
    return f"{dec(spread.median, 2)} / {dec(spread.p90, 2)}"


def cmd_compare(args: argparse.Namespace) -> int:
    bench = Benchmark(_home())
    comparison = bench.compare(args.refs)
    table = Table(title=_("Side by side (pass@1 % with 95% interval)"))
    for col in (_("Run"), _("Model"), _("Style"), _("Options"), "pass@1", _("TTFT med/p90 s"),
                _("tok/s med/p90"), _("Errors")):  # fmt: skip
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
                    format_number(s.errors),
                )
            ]
        )
    console.print(table)
    methods = sorted({s.method for _store, s in comparison.runs if s.method})
    if methods:
        console.print(_("Intervals: {methods}.").format(methods="; ".join(methods)), markup=False)
    for verdict in comparison.verdicts:
        console.print(verdict, markup=False)
    if args.write:
        _say_reports(bench.report([store for store, _summary in comparison.runs]))
    return 0


# A run's status as run.json stores it (file format, English), shown in the interface's language.
STATUSES = {
    "running": N_("running"),
    "interrupted": N_("interrupted"),
    "generated": N_("generated"),
    "complete": N_("complete"),
}


def _started(created: str) -> str:
    """run.json's `created` (ISO 8601, UTC) as the locale writes a date, in local time; as stored if odd."""
    try:
        return format_datetime(datetime.fromisoformat(created).astimezone(), "short")
    except (TypeError, ValueError):
        return created or "-"


def cmd_list(args: argparse.Namespace) -> int:
    bench = Benchmark(_home())
    runs = Table(title=_("Runs in {folder}").format(folder=bench.home / "data" / "generated"))
    for col in (
        _("Run"),
        _("Started"),
        _("Model"),
        _("Style"),
        _("Suite"),
        _("Status"),
        _("Samples"),
        "pass@1",
    ):
        runs.add_column(col)
    for row in bench.runs():
        if row.info is None:
            error(row.error, "yellow")
            continue
        info = row.info
        cells = (info.run_id, _started(info.created), info.model, info.style, info.suite,
                 _(STATUSES.get(info.status, info.status)), format_number(row.samples))  # fmt: skip
        runs.add_row(*[printable(c) for c in cells], fmt_ci(row.summary.pass1 if row.summary else None))
    console.print(runs)
    board = Table(title=_("Leaderboard (latest run per model, digest, backend version and options)"))
    for col in ("#", _("Model"), _("Digest"), _("Backend"), _("Style"), _("Suite"), _("Options"), "pass@1",
                _("tok/s med"), _("Runs")):  # fmt: skip
        board.add_column(col)
    for i, e in enumerate(bench.leaderboard(), 1):
        tps = e.summary.speed_of("gen_tps").median
        cells = (e.model, e.digest[:12], f"{e.backend} {e.backend_version}", e.style, e.summary.suite_name,
                 e.options_label)  # fmt: skip
        board.add_row(
            str(i),
            *[printable(c) for c in cells],
            fmt_ci(e.summary.pass1),
            dec(tps),
            format_number(e.runs),
        )
    console.print(board)
    return 0


# ---------------------------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------------------------
# The sweep's figures (SweepPoint.row(): the CSV's column names, kept in files) as the terminal heads them.
SWEEP_COLUMNS = {
    "settings": N_("Settings"),
    "requests": N_("Requests"),
    "errors": N_("Errors"),
    "gen_tps_med": N_("tok/s med"),
    "gen_tps_p90": N_("tok/s p90"),
    "ttft_med": N_("TTFT med s"),
    "ttft_p90": N_("TTFT p90 s"),
    "prompt_tps_med": N_("prompt tok/s med"),
    "load_max_s": N_("load max s"),
    "cpu_med": N_("CPU med %"),
    "rss_p90_mb": N_("RSS p90 MB"),
}


def _sweep_cell(value: Any) -> str:
    if isinstance(value, float):
        return dec(value, 2)
    if isinstance(value, int):
        return format_number(value)
    return _("defaults") if value == "defaults" else str(value)


def cmd_sweep(args: argparse.Namespace) -> int:
    from core.benchmark.sweep import parse_grid

    grid = parse_grid(args.grid or ["num_ctx=2048,4096"])
    hosts = _hosts(args)
    console.print(hosts.note, markup=False)
    cancel = threading.Event()
    try:
        with progress() as bar:
            task = bar.add_task(_("sweep {model}").format(model=args.model), total=None, last="")

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
                console.print(_("Sweep stopped."), style="yellow")
                return 130
        table = Table(title=_("Option sweep: {model}").format(model=args.model))
        rows = [p.row() for p in sweep.points]
        for col in rows[0] if rows else []:
            table.add_column(_(SWEEP_COLUMNS[col]) if col in SWEEP_COLUMNS else col)
        for r in rows:
            table.add_row(*[_sweep_cell(v) for v in r.values()])
        console.print(table)
        best = sweep.best
        if best:
            console.print(
                _("Recommendation for this machine: [bold]{setup}[/bold]").format(
                    setup=_("defaults") if best.label == "defaults" else best.label
                )
            )
        else:
            console.print(_("No clean result."))
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
    p.add_argument("--suite", default="ia_basic", help=_("built-in suite: ia_basic | humaneval | multimodal"))
    p.add_argument(
        "--problems",
        help=_(
            "a problems file (.jsonl or .jsonl.gz) instead of --suite: HumanEval format, or vision problems "
            "written by `python -m core.benchmark.multimodal FILE`"
        ),
    )
    p.add_argument(
        "--style",
        choices=("chat", "complete"),
        default="chat",
        help=_("chat: instruction to a chat model; complete: raw completion for base models"),
    )
    p.add_argument("-n", type=int, default=1, help=_("samples per problem (default 1)"))
    p.add_argument("--temperature", type=float, help=_("default 0 when -n 1, else 0.8"))
    p.add_argument("--seed", type=int)
    p.add_argument("--top-p", type=float, dest="top_p")
    p.add_argument("--num-ctx", type=int, dest="num_ctx")
    p.add_argument(
        "--num-predict", type=int, dest="num_predict", help=_("max tokens per sample (default 256)")
    )
    p.add_argument(
        "--option",
        action="append",
        type=_parse_option,
        metavar="KEY=VALUE",
        help=_("any other Ollama option (repeatable)"),
    )
    p.add_argument("--limit", type=int, help=_("only the first N problems"))
    p.add_argument(
        "--hosts",
        help=_(
            "comma-separated server URLs sharing the work: Ollama, or OpenAI-compatible (a URL ending in /v1, "
            "or openai:URL; OPENAI_API_KEY is sent when set) (default: Ollama or embedded)"
        ),
    )
    p.add_argument(
        "--embedded", choices=("auto", "force", "off"), help=_("embedded backend use (default auto)")
    )


# The commands of the epilog, typed as they are, each with what it shows (translated).
EXAMPLES = (  # i18n: commands a person copies; their comments are marked
    ("python main_benchmark.py run --model smollm2:135m --suite ia_basic --style chat", ""),
    ("python main_benchmark.py run --model gemma3:270m --style complete -n 5 --temperature 0.8", ""),
    ("python main_benchmark.py run --model llava:7b --suite multimodal", N_("vision: images, exact answers")),
    ("python main_benchmark.py run --models a,b --hosts http://pc1:11434,http://pc2:11434", ""),
    ("python main_benchmark.py run --model MODEL --hosts http://127.0.0.1:8080/v1", N_("llama-server, LM Studio, vLLM")),
    ("python main_benchmark.py run --resume 20260101-120000-chat-1a2b3c", N_("after Ctrl-C")),
    ("python main_benchmark.py evaluate --problems ia_basic --samples replies.jsonl",
     N_("solution/completion/raw rows")),
    ("python main_benchmark.py rescore 20260101-120000-chat-1a2b3c", N_("re-extract a run's saved replies")),
    ("python main_benchmark.py compare smollm2:135m gemma3:270m", ""),
    ("python main_benchmark.py sweep --model smollm2:135m --grid num_ctx=2048,4096 --grid num_thread=1,2", ""),
    ("python main_benchmark.py list", ""),
    ("python main_benchmark.py --lang fr list", N_("in French, whatever the locale")),
)  # fmt: skip


def _description() -> str:
    return _(
        "IA_V3 benchmark: {usage}."
    ).format(
        usage="`python main_benchmark.py run|evaluate|rescore|selfcheck|report|compare|sweep|list`"  # i18n: a command
    )


def _epilog() -> str:
    width = max(len(command) for command, _note in EXAMPLES) + 2
    lines = [_("examples:")]
    for command, note in EXAMPLES:
        lines.append(f"  {command.ljust(width)}({_(note)})" if note else f"  {command}")
    lines.append(
        _("Results: {runs}; reports and leaderboard: {reports}.").format(
            runs="IA_HOME/data/generated/<model>/<run>/", reports="IA_HOME/data/benchmarks/"
        )
    )
    return "\n".join(lines)


# argparse's own words (usage, errors), looked up in our catalogs while the parser is built and used.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("unrecognized arguments: %s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
)


@contextlib.contextmanager
def _translated_argparse() -> Iterator[None]:
    """argparse says `usage:`, `options`, `error:` ... through its module's gettext `_` and `ngettext`: route
    them to IA_V3's catalogs (which hold ARGPARSE_MESSAGES) while the parser is built and parses."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = i18n._, i18n.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def _lang_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--lang",
        choices=LANG_CHOICES,
        default=default,
        help=_("language of what is printed (default: the settings' language, else the system's)"),
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, its help in the current language (call choose_language first)."""
    parser = argparse.ArgumentParser(
        prog=None,  # the name it was started by: main_benchmark.py, or iav3-bench (the console script)
        description=_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_epilog(),
    )
    _lang_option(parser, None)
    common = argparse.ArgumentParser(add_help=False)  # --lang after the command too: `list --lang fr`
    _lang_option(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common])

    run = command("run", _("generate samples for models, score them, write reports"))
    run.add_argument(
        "--model", "--models", action="append", dest="model", help=_("model name(s), comma-separated")
    )
    add_generation_flags(run)
    run.add_argument("--workers", type=int, default=1, help=_("concurrent requests per host (default 1)"))
    run.add_argument("--resume", metavar="RUN", help=_("continue a run without redoing finished samples"))
    run.add_argument(
        "--timeout", type=float, default=5.0, help=_("seconds per sample in the sandbox (default 5)")
    )
    run.set_defaults(func=cmd_run)

    ev = command(
        "evaluate",
        _(
            "score a samples file: solution, completion or raw (a model's reply) rows, in the sandbox "
            "(vision answers exactly)"
        ),
    )
    ev.add_argument("--problems", required=True, help=_("problems file or built-in suite name"))
    ev.add_argument("--samples", required=True)
    ev.add_argument(  # i18n: a file name pattern; the sentence is marked
        "--output", help=_("results file (default: {path})").format(path="<samples>_results.jsonl")
    )
    ev.add_argument("--timeout", type=float, default=5.0, help=_("seconds per sample (default 5)"))
    ev.add_argument("--workers", type=int, default=2, help=_("samples scored at once (default 2)"))
    ev.set_defaults(func=cmd_evaluate)

    rs = command(
        "rescore",
        _(
            "re-extract a finished run's saved replies with today's extraction, score them again and "
            "rewrite its results, summary and the reports"
        ),
    )
    rs.add_argument("run", metavar="RUN", help=_("run id or folder"))
    rs.set_defaults(func=cmd_rescore)

    sc = command("selfcheck", _("check that a suite's canonical solutions (vision: known answers) pass"))
    sc.add_argument("--problems", required=True, help=_("problems file or built-in suite name"))
    sc.add_argument("--timeout", type=float, default=10.0)
    sc.add_argument("--workers", type=int, default=2)
    sc.set_defaults(func=cmd_selfcheck)

    rep = command("report", _("regenerate reports (all runs, or the ones named)"))
    rep.add_argument("runs", nargs="*", help=_("run ids, folders or model names (default: every run)"))
    rep.add_argument("--rescore", action="store_true", help=_("score samples again before reporting"))
    rep.set_defaults(func=cmd_report)

    cmp_ = command("compare", _("runs or models side by side, with a paired test over shared problems"))
    cmp_.add_argument("refs", nargs="+", help=_("run ids, folders or model names (latest run)"))
    cmp_.add_argument("--write", action="store_true", help=_("also write a report with charts"))
    cmp_.set_defaults(func=cmd_compare)

    sw = command("sweep", _("speed under a grid of options; recommends a setup for this machine"))
    sw.add_argument("--model", required=True)
    add_generation_flags(sw)
    sw.add_argument(
        "--grid",
        action="append",
        metavar="NAME=V1,V2",
        help=_("an axis, e.g. {examples}").format(
            examples="num_ctx=2048,4096 num_thread=1,2 num_gpu=0,99 keep_alive=0,5m"
        ),
    )
    sw.add_argument("--repeat", type=int, default=1, help=_("rounds per combination"))
    sw.set_defaults(func=cmd_sweep, limit=2)

    ls = command("list", _("runs and the leaderboard"))
    ls.set_defaults(func=cmd_list)
    return parser


def _lang_in(argv: Sequence[str]) -> str | None:
    """The value of `--lang X` / `--lang=X` anywhere before a `--`, None without one."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def choose_language(argv: Sequence[str]) -> str:
    """Set the interface's language before anything is printed: `--lang` from ``argv`` when it is one of
    LANG_CHOICES, else the settings' language (config.toml, IA_LANG), else the system's. A config.toml that
    cannot be read leaves the system's language; the command itself then reports what is wrong with it."""
    wanted = _lang_in(argv)
    if wanted not in LANG_CHOICES:  # none, or a bad value argparse will refuse in the language chosen here
        try:
            from config import load_settings

            wanted = load_settings({}).language
        except IAError:
            wanted = "auto"
    return i18n.set_language(wanted)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    choose_language(argv)
    with _translated_argparse():
        args = build_parser().parse_args(argv)
    if getattr(args, "lang", None):  # e.g. an abbreviated `--lan fr` the first look did not see
        i18n.set_language(args.lang)
    try:
        return int(args.func(args) or 0)
    except IAError as exc:
        error(exc)
        return exit_code(exc)
    except KeyboardInterrupt:
        error(_("Interrupted."), "yellow")
        return 130
