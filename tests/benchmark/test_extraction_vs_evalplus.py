"""Our extraction against EvalPlus's sanitizer, on real replies of our two embedded models.

The replies are saved in tests/benchmark/data/replies.jsonl (made by tests/benchmark/make_replies.py through
the real pipeline: smollm2:135m in chat style, gemma3:270m in complete style, on ia_basic and HumanEval), so
this test needs the sandbox, not the models. Both sides run in the real sandbox through ``evaluate_samples``
(2 workers):

- ours: ``to_completion(problem, extract_code(raw, problem, style, cut=...), style)``, exactly what ``run``
  scores (``cut`` from the saved done_reason);
- EvalPlus: ``sanitize(text, entrypoint)`` where ``text`` is the reply for a chat reply and ``prompt + "\\n" +
  raw`` for a raw completion (as EvalPlus's own ``sanitize`` script builds it from a ``completion``). Its
  output is a whole program; it runs as the program after the prompt, completion ``"\\n" + sanitized``, the
  layout our ``to_completion`` gives a full function (the prompt's stub is then redefined).

Asserted: every sample EvalPlus's output passes, ours passes too; the samples only ours passes are exactly the
reviewed list in tests/benchmark/data/ours_only_passes.json, each with the reason a person reading the reply
agrees with. Identical programs are run once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from evalplus.sanitize import sanitize

from core.benchmark.evaluate import evaluate_samples
from core.benchmark.extraction import clean_reply, extract_code, to_completion
from core.benchmark.problems import load_problems, read_jsonl, write_jsonl

DATA = Path(__file__).resolve().parent / "data"
REPLIES = DATA / "replies.jsonl"
REVIEWED = DATA / "ours_only_passes.json"


def reply_key(row: dict) -> str:
    """A reply's name in the reviewed list: run, model, problem and seed."""
    return f"{row['run']}|{row['model']}|{row['task_id']}|seed={row['seed']}"


@pytest.fixture(scope="module")
def problems():
    return {**load_problems("ia_basic"), **load_problems("humaneval")}


@pytest.fixture(scope="module")
def replies():
    return read_jsonl(REPLIES)


def evalplus_completion(problem, row: dict) -> str:
    text = row["raw"] if row["style"] == "chat" else problem.prompt + "\n" + row["raw"]
    return "\n" + sanitize(text, problem.entry_point) + "\n"


def was_cut(row: dict) -> bool | None:
    """What ``run`` passes as ``cut``: the server's done_reason said whether the token limit ended it."""
    return None if row.get("done_reason") is None else row["done_reason"] == "length"


def our_completion(problem, row: dict) -> str:
    code = extract_code(row["raw"], problem, row["style"], cut=was_cut(row))
    return to_completion(problem, code, row["style"])


@pytest.fixture(scope="module")
def verdicts(problems, replies, tmp_path_factory):
    """For each reply: (our completion, EvalPlus's completion, ours passed, EvalPlus's passed)."""
    pairs = [
        (our_completion(problems[r["task_id"]], r), evalplus_completion(problems[r["task_id"]], r))
        for r in replies
    ]
    programs = sorted(
        {(row["task_id"], code) for row, pair in zip(replies, pairs, strict=True) for code in pair}
    )
    samples = tmp_path_factory.mktemp("vs-evalplus") / "samples.jsonl"
    write_jsonl(samples, [{"task_id": task, "completion": code} for task, code in programs])
    results = read_jsonl(evaluate_samples(problems, samples, workers=2, timeout=5.0))
    passed = {(r["task_id"], r["completion"]): r["passed"] for r in results}
    return [
        (ours, theirs, passed[(row["task_id"], ours)], passed[(row["task_id"], theirs)])
        for row, (ours, theirs) in zip(replies, pairs, strict=True)
    ]


def test_the_saved_replies_cover_both_models_both_suites(replies):
    counts = Counter((row["model"], row["style"], row["suite"]) for row in replies)
    assert counts[("smollm2:135m", "chat", "ia_basic")] == 5 + 3 * 43
    assert counts[("smollm2:135m", "chat", "humaneval")] == 2 * 164
    assert counts[("gemma3:270m", "complete", "ia_basic")] == 43
    assert counts[("gemma3:270m", "complete", "humaneval")] == 164
    assert len({reply_key(row) for row in replies}) == len(replies)
    assert {row.get("done_reason") for row in replies} <= {"stop", "length", None}


def test_every_sample_evalplus_passes_ours_passes_too(replies, verdicts):
    lost = [
        f"{reply_key(row)}\n--- ours:\n{ours}\n--- evalplus:\n{theirs}"
        for row, (ours, theirs, our_pass, their_pass) in zip(replies, verdicts, strict=True)
        if their_pass and not our_pass
    ]
    assert not lost, "\n\n".join(lost)


def test_ours_passes_more_only_where_reviewed(replies, verdicts):
    reviewed = json.loads(REVIEWED.read_text(encoding="utf-8"))
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in reviewed.values())
    only_ours = {
        reply_key(row)
        for row, (_ours, _theirs, our_pass, their_pass) in zip(replies, verdicts, strict=True)
        if our_pass and not their_pass
    }
    assert only_ours - set(reviewed) == set(), "passes only ours gives, not reviewed yet"
    assert set(reviewed) - only_ours == set(), "reviewed passes that no longer happen"


def _reply_lines(raw: str) -> set[str]:
    lines = set()
    for line in clean_reply(raw).split("\n"):
        line = line.expandtabs(4).strip()
        lines.add(line)
        lines.add(re.sub(r"^(>>>|\.\.\.) ?", "", line).strip())
    return lines


def test_extraction_only_selects_lines_of_the_reply(problems, replies):
    """No code is written or fixed: every line of what we extract is a line the model wrote."""
    for row in replies:
        code = extract_code(row["raw"], problems[row["task_id"]], row["style"], cut=was_cut(row))
        written = _reply_lines(row["raw"])
        invented = [
            line for line in code.split("\n") if line.strip() and line.expandtabs(4).strip() not in written
        ]
        assert not invented, (reply_key(row), invented)
