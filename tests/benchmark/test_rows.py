"""`evaluate` on samples files that mix solution, completion and raw rows, through the real sandbox, and on
files no character or broken line can stop: every row gets a result, written back escaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.benchmark.evaluate import evaluate_samples
from core.benchmark.extraction import build_program, extract_code, to_completion
from core.benchmark.problems import builtin_suite

ROOT = Path(__file__).resolve().parents[2]
SUITE = builtin_suite("ia_basic")
PRIME = SUITE["ia_basic/0"]  # is_prime
GOOD_BODY = PRIME.canonical_solution
GOOD_FUNCTION = "def is_prime(n):\n" + GOOD_BODY
WRONG_FUNCTION = "def is_prime(n):\n    return n % 2 == 1\n"


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _results(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().decode("utf-8").splitlines()]


def test_one_file_mixes_the_three_kinds_and_keeps_every_field(tmp_path: Path) -> None:
    """completion (HumanEval), solution (EvalPlus) and raw (a reply) rows in one file, each run as its kind
    says; the results keep the input fields and add passed, result, reason and the code that ran (the old
    evaluate refused any row without a completion)."""
    from core.benchmark.samples import extract_reply

    reply = f"Sure! Here is the function:\n\n```python\n{GOOD_FUNCTION}```\n\nIt checks odd divisors only."
    rows = [
        {"task_id": PRIME.task_id, "completion": GOOD_BODY, "model": "a"},
        {"task_id": PRIME.task_id, "solution": GOOD_FUNCTION, "model": "b"},
        {"task_id": PRIME.task_id, "raw": reply, "model": "c"},
        {"task_id": PRIME.task_id, "raw": GOOD_BODY, "style": "complete", "model": "d"},
        {"task_id": PRIME.task_id, "solution": WRONG_FUNCTION, "completion": GOOD_BODY, "model": "e"},
    ]
    out = evaluate_samples(SUITE, _write(tmp_path / "mixed.jsonl", rows))
    results = _results(out)
    assert [r["model"] for r in results] == ["a", "b", "c", "d", "e"]
    for row, result in zip(rows, results, strict=True):
        assert {k: result[k] for k in row} == row  # every input field kept as it was
        assert result["isolation"] and result["duration_s"] > 0
    assert [r["passed"] for r in results] == [True, True, True, True, False]
    assert [r["reason"] for r in results] == ["passed", "passed", "passed", "passed", "assertion"]
    assert results[0]["code"] == build_program(PRIME, GOOD_BODY)  # prompt + completion
    assert results[1]["code"] == GOOD_FUNCTION  # the whole program, as it is
    chat = to_completion(PRIME, extract_code(reply, PRIME, "chat"), "chat")
    assert results[2]["code"] == build_program(PRIME, chat)  # extracted exactly as `run` does
    assert results[3]["code"] == build_program(PRIME, extract_reply(PRIME, GOOD_BODY, "complete").completion)
    assert results[4]["code"] == WRONG_FUNCTION  # a row with both: the solution wins, as in EvalPlus


@pytest.mark.parametrize(
    ("reply", "style", "passed", "reason"),
    [
        (f"```python\n{GOOD_FUNCTION}```", "chat", True, "passed"),
        (f"```python\n{WRONG_FUNCTION}```", "chat", False, "assertion"),
        (f"```python\ndef helper(k):\n    return k\n\n{GOOD_FUNCTION}```", "chat", True, "passed"),
        (GOOD_FUNCTION, "chat", True, "passed"),  # unfenced code
        ("```python\ndef is_prime(n):\n    return (n\n```", "chat", False, "syntax error"),
        ("```python\ndef is_prime(n):\n    raise ValueError('no')\n```", "chat", False, "exception"),
        ("```python\ndef is_prime(n):\n    while True:\n        pass\n```", "chat", False, "timeout"),
        ("", "chat", False, "nothing extracted"),
        ("<think>\n\n</think>\n", "chat", False, "nothing extracted"),
        ("\n\n", "complete", False, "nothing extracted"),
        (GOOD_BODY, "complete", True, "passed"),
    ],
    ids=[
        "right",
        "wrong",
        "helper",
        "unfenced",
        "syntax",
        "raises",
        "loops",
        "empty",
        "think-only",
        "blank-completion",
        "completion",
    ],  # fmt: skip
)
def test_a_raw_reply_gets_the_verdict_a_reader_expects(tmp_path: Path, reply, style, passed, reason) -> None:
    path = _write(tmp_path / "raw.jsonl", [{"task_id": PRIME.task_id, "raw": reply, "style": style}])
    (result,) = _results(evaluate_samples(SUITE, path, timeout=2.0))
    assert (result["passed"], result["reason"]) == (passed, reason), result["result"]
    if reason == "nothing extracted":  # not run at all: no code, no sandbox
        assert result["code"] == "" and result["duration_s"] == 0.0 and result["isolation"] == "not run"
        assert result["result"].startswith("failed: nothing extracted")


def test_a_raw_row_of_a_failed_generation_is_not_run(tmp_path: Path) -> None:
    row = {"task_id": PRIME.task_id, "raw": f"```python\n{GOOD_FUNCTION}", "error": "the server stalled"}
    (result,) = _results(evaluate_samples(SUITE, _write(tmp_path / "err.jsonl", [row])))
    assert result["passed"] is False and result["reason"] == "nothing extracted" and result["code"] == ""
    assert "the server stalled" in result["result"]


def test_a_lone_surrogate_in_a_sample_no_longer_loses_every_result(tmp_path: Path) -> None:
    """The finding: "A single lone surrogate in a sample makes `evaluate` crash after scoring, with no results
    written." One such field among good rows: both results land, the surrogate escaped in the file."""
    samples = _write(
        tmp_path / "surrogate.jsonl",
        [{"task_id": PRIME.task_id, "completion": GOOD_BODY, "model": "m\udc80"},
         {"task_id": PRIME.task_id, "completion": GOOD_BODY}],
    )  # fmt: skip
    out = evaluate_samples(SUITE, samples)
    assert b'"model": "m\\udc80"' in out.read_bytes()
    results = _results(out)
    assert [(r["passed"], r.get("model")) for r in results] == [(True, "m\udc80"), (True, None)]


def test_any_character_is_written_back_escaped_and_every_result_lands(tmp_path: Path) -> None:
    """A lone surrogate, a NUL and bytes that are not UTF-8, in the code and in other fields: each row is
    scored, the results file is valid UTF-8 JSON, and reading it back gives the same characters (the old
    evaluate crashed after scoring on the surrogate, with no results written)."""
    samples = tmp_path / "odd.jsonl"
    lines = [
        json.dumps(
            {"task_id": PRIME.task_id, "completion": GOOD_BODY + "    # \ud800\n", "note": "lone \udfff"}
        ),
        json.dumps({"task_id": PRIME.task_id, "completion": "    return 1\x00\n", "note": "nul \x00 here"}),
        json.dumps({"task_id": PRIME.task_id, "raw": f"```python\n{GOOD_FUNCTION}```", "note": "é 中"}),
    ]
    data = ("\n".join(lines) + "\n").encode("ascii")
    data += (
        b'{"task_id": "ia_basic/0", "completion": "    return True  # \xff\xfe\\n", "note": "bad \xc3("}\n'
    )
    samples.write_bytes(data)
    out = evaluate_samples(SUITE, samples)
    raw = out.read_bytes()
    raw.decode("utf-8")  # strict: the file is valid UTF-8
    assert b"\\ud800" in raw and b"\\udfff" in raw and b"\\u0000" in raw and b"\\udcff" in raw
    assert "é 中".encode() in raw  # readable text stays readable
    results = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    assert len(results) == 4
    assert [r["note"] for r in results] == ["lone \udfff", "nul \x00 here", "é 中", "bad \udcc3("]
    assert (
        results[0]["completion"].endswith("# \ud800\n") and results[0]["result"]
    )  # scored (UTF-8 cannot hold it)
    assert results[1]["passed"] is False and results[2]["passed"] is True
    assert results[3]["completion"] == "    return True  # \udcff\udcfe\n" and results[3]["passed"] is False


def test_a_malformed_line_becomes_a_row_that_says_so(tmp_path: Path) -> None:
    samples = tmp_path / "broken.jsonl"
    good = json.dumps({"task_id": PRIME.task_id, "completion": GOOD_BODY})
    samples.write_text(f'{good}\n{{"task_id": "ia_basic/0", "compl\n\n[1, 2]\n{good}\n', encoding="utf-8")
    results = _results(evaluate_samples(SUITE, samples))
    assert [r.get("line") for r in results] == [None, 2, 4, None]
    assert [r["passed"] for r in results] == [True, False, False, True]
    assert results[1]["reason"] == results[2]["reason"] == "malformed row"
    assert (
        results[1]["text"] == '{"task_id": "ia_basic/0", "compl' and "not valid JSON" in results[1]["result"]
    )
    assert results[2]["malformed"] == "not a JSON object (a list)"
    assert results[2]["result"] == "not scored: line 4 is not a JSON object (a list)"


def test_the_cli_scores_raw_rows_as_a_subprocess(tmp_path: Path) -> None:
    """`python main_benchmark.py evaluate` on a file of raw replies: the verdicts, pass@1 and the results."""
    rows = [
        {"task_id": PRIME.task_id, "raw": f"```python\n{GOOD_FUNCTION}```"},
        {"task_id": PRIME.task_id, "raw": "I cannot help with that."},
        {"task_id": PRIME.task_id, "raw": ""},
    ]
    samples = _write(tmp_path / "replies.jsonl", rows)
    out = tmp_path / "scored.jsonl"
    done = subprocess.run(
        [sys.executable, "main_benchmark.py", "evaluate", "--problems", "ia_basic", "--samples", str(samples),
         "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS="400"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "pass@1: 33.3%" in done.stdout and f"Results: {out}" in done.stdout
    results = _results(out)
    assert [r["passed"] for r in results] == [True, False, False]
    assert results[2]["reason"] == "nothing extracted"
