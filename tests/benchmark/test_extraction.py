"""Code extraction from real-world reply shapes, and the completion/program built from it (run for real)."""

from __future__ import annotations

import pytest

from core.benchmark.evaluate import evaluate_samples
from core.benchmark.extraction import build_program, clean_reply, extract_code, to_completion
from core.benchmark.problems import Problem, load_problems, read_jsonl, write_jsonl
from core.benchmark.sandbox import Sandbox

PROMPT = 'from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    """Return a + b."""\n'
PROBLEM = Problem(
    "t/0",
    PROMPT,
    "add",
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
)
GOOD = "def add(a: int, b: int) -> int:\n    return a + b"
# The prompt's docstring repeated with its examples, as most code models do.
DOCUMENTED = (
    'def add(a: int, b: int) -> int:\n    """Return a + b.\n'
    '    >>> add(2, 3)\n    5\n    """\n    return a + b'
)


def _passes(reply: str, style: str = "chat") -> bool:
    code = extract_code(reply, PROBLEM, style)
    program = build_program(PROBLEM, to_completion(PROBLEM, code, style))
    return Sandbox.detect().run(program, PROBLEM.test, PROBLEM.entry_point).passed


REPLIES = {
    "bare fence": f"```python\n{GOOD}\n```",
    "prose around": f"Sure! Here is the function:\n\n```python\n{GOOD}\n```\n\nIt adds the numbers.",
    "py tag": f"```py\n{GOOD}\n```",
    "python3 tag": f"```python3\n{GOOD}\n```",
    "capitalised tag": f"```Python\n{GOOD}\n```",
    "untagged fence": f"```\n{GOOD}\n```",
    "tilde fence": f"~~~python\n{GOOD}\n~~~",
    "unclosed fence": f"Here you go:\n```python\n{GOOD}\n",
    "fence with indent": "  ```python\n  def add(a, b):\n      return a + b\n  ```",
    "several fences, example first": (
        "Usage:\n```python\nprint(add(1, 2))\n```\nImplementation:\n```python\n" + GOOD + "\n```\n"
        "Output:\n```text\n3\n```"
    ),
    "shell fence then python": f"Install nothing:\n```bash\npip install nothing\n```\n```python\n{GOOD}\n```",
    "think tags": f"<think>\nMaybe ```python\ndef add(a, b): return a - b\n``` no.\n</think>\n```python\n{GOOD}\n```",
    "unclosed think swallowed by template": f"I should add them.\n</think>\n\n```python\n{GOOD}\n```",
    "ansi codes": f"\x1b[1m\x1b[32m```python\n{GOOD}\n```\x1b[0m",
    "crlf": f"```python\r\n{GOOD.replace(chr(10), chr(13) + chr(10))}\r\n```",
    "doctest prompts": ">>> def add(a, b):\n...     return a + b\n...\n>>> add(2, 3)\n5",
    "tabs": "```python\ndef add(a, b):\n\tresult = a + b\n\treturn result\n```",
    "whole function repeated with demo": (
        f"```python\n{GOOD}\n\n\nif __name__ == '__main__':\n    print(add(2, 3))\n    assert add(1, 1) == 3\n```"
    ),
    "top-level demo prints and asserts": f"```python\n{GOOD}\n\nprint(add(2, 2))\nassert add(0, 0) == 1\n```",
    "helper function and import": (
        "```python\nimport operator\n\ndef _plus(a, b):\n    return operator.add(a, b)\n\n"
        "def add(a, b):\n    return _plus(a, b)\n```"
    ),
    "no fence, prose then code": f"The answer is simple.\n\n{GOOD}\n\nThat is all.",
    "only the body in a fence": "```python\n    return a + b\n```",
    "only the body, unindented": "```python\nreturn a + b\n```",
    "docstring with >>> examples": f"```python\n{DOCUMENTED}\n```",
    "docstring with >>> examples, unfenced": f"Here it is:\n\n{DOCUMENTED}\n\nIt returns the sum.",
    "docstring with >>> examples, crlf": f"```python\n{DOCUMENTED}\n```".replace("\n", "\r\n"),
    "docstring with >>> examples, tabs": (
        '```python\ndef add(a, b):\n\t"""Sum.\n\t>>> add(1, 2)\n\t3\n\t"""\n\treturn a + b\n```'
    ),
    "body only, with the docstring": (
        '```python\n    """Return a + b.\n    >>> add(2, 3)\n    5\n    """\n    return a + b\n```'
    ),
    "prose, code, usage transcript": (
        f"Here is the function:\n```python\n{DOCUMENTED}\n```\n"
        "Usage:\n```python\n>>> add(2, 3)\n5\n```\nDone."
    ),
    "prose, unfenced code, usage": f"The function:\n\n{GOOD}\n\nExample usage:\n\nprint(add(2, 3))  # 5\n",
    "helper in an earlier block": (
        "First a helper:\n```python\nimport operator\n\ndef _plus(a, b):\n"
        "    return operator.add(a, b)\n```\n"
        "Then the function:\n```python\ndef add(a, b):\n    return _plus(a, b)\n```"
    ),
    "unfenced helper, prose, then the entry point": (
        "import operator\n\ndef _plus(x, y):\n    total = operator.add(x, y)\n    return total\n\n"
        "Now the function itself:\n\ndef add(a, b):\n    return _plus(a, b)\n"
    ),
    "fence left open, cut in the demo": f"```python\n{DOCUMENTED}\n\n\nprint(add(2,",
    "fence left open, cut in prose": f"```python\n{GOOD}\n\nThis function adds the two numb",
    "fence left open, cut in a main guard": (
        f"```python\n{DOCUMENTED}\n\nif __name__ == '__main__':\n    print(add(1, "
    ),
    "demo assignment that raises": f"```python\n{GOOD}\n\nresult = add('a', 1)\nprint(result)\n```",
    "demo block that raises": (
        f"```python\n{GOOD}\n\nwith open('numbers.txt') as f:\n"
        "    print(add(*map(int, f.read().split())))\n```"
    ),
    "wrong demo asserts in a loop": (
        f"```python\n{GOOD}\n\nfor a, b in [(1, 2), (3, 4)]:\n    assert add(a, b) == 0\n```"
    ),
    "console transcript with a docstring": (
        '>>> def add(a, b):\n...     """Sum.\n...     >>> add(2, 3)\n...     5\n'
        '...     """\n...     return a + b\n'
        ">>> add(2, 3)\n5"
    ),
    "console transcript inside prose": (
        "In the REPL:\n\n>>> def add(a, b):\n...     return a + b\n...\n>>> add(2, 3)\n5\n\nDone."
    ),
    "two versions, both define it": (
        "First try:\n```python\ndef add(a, b):\n    return a + b\n```\nA typed version:\n```python\n"
        "def add(a: int, b: int) -> int:\n    '''Add.'''\n    total = a + b\n    return total\n```"
    ),
}


@pytest.mark.parametrize("shape", sorted(REPLIES))
def test_real_world_reply_shapes_yield_passing_code(shape):
    assert _passes(REPLIES[shape]), extract_code(REPLIES[shape], PROBLEM)


def test_wrong_code_is_extracted_faithfully_and_fails():
    reply = "```python\ndef add(a, b):\n    return a - b\n```"
    assert extract_code(reply, PROBLEM) == "def add(a, b):\n    return a - b"
    assert not _passes(reply)


def test_demo_code_is_dropped_but_definitions_kept():
    code = extract_code(REPLIES["whole function repeated with demo"], PROBLEM)
    assert "__main__" not in code and "print" not in code
    assert code.startswith("def add(")


def test_python_block_defining_the_entry_point_wins():
    code = extract_code(REPLIES["several fences, example first"], PROBLEM)
    assert code == GOOD


def test_clean_reply_removes_thinking_and_ansi():
    assert clean_reply("<think>x</think>A\x1b[31mB\x1b[0m") == "AB"
    assert clean_reply("visible <think>never closed") == "visible "
    assert clean_reply("<THINKING>a</THINKING>b") == "b"


def test_reply_without_code_gives_text_that_fails_cleanly():
    reply = "I cannot help with that."
    assert not _passes(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "I cannot help with that.",
        "Sure",  # a word that parses as Python is still no code
        "The answer:\n\n>>> add(2, 3)\n5\n",  # a usage session, no function
    ],
)
def test_a_reply_holding_no_code_extracts_nothing(reply):
    assert extract_code(reply, PROBLEM) == ""
    assert not _passes(reply)


def test_a_broken_block_is_kept_whole_so_it_fails_as_a_syntax_error():
    # a docstring cut by the token limit: no run of its lines is an answer (`add(2, 3)` parses, but is no
    # function body), so the model's block stays as written
    reply = '```python\ndef add(a, b):\n    """Add.\n    add(2, 3)\n'
    assert extract_code(reply, PROBLEM) == 'def add(a, b):\n    """Add.\n    add(2, 3)'
    program = build_program(PROBLEM, to_completion(PROBLEM, extract_code(reply, PROBLEM)))
    assert Sandbox.detect().run(program, PROBLEM.test, "add").reason == "syntax error"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("    return a + b\n\n\ndef other():\n    pass\n", "    return a + b\n\n"),
        ("    return a + b\nprint(add(1, 2))\n", "    return a + b"),
        ("    return a + b\n# tests\nassert add(1, 1) == 2\n", "    return a + b"),
        ("    return a + b\nif __name__ == '__main__':\n    pass\n", "    return a + b"),
        ("    return a + b\nclass X:\n    pass\n", "    return a + b"),
        ("    return a + b\n```\nmore text", "    return a + b"),
        ("    x = 1  # comment stays\n    return a + b\n", "    x = 1  # comment stays\n    return a + b\n"),
    ],
)
def test_complete_style_cuts_at_stop_sequences(raw, expected):
    assert extract_code(raw, PROBLEM, "complete") == expected


def test_complete_style_program_is_prompt_plus_completion():
    completion = extract_code("    return a + b\n\ndef junk(:\n", PROBLEM, "complete")
    assert to_completion(PROBLEM, completion, "complete") == completion
    assert build_program(PROBLEM, completion) == PROMPT + completion
    assert _passes("    return a + b\n\ndef junk(:\n", "complete")


def test_chat_completion_runs_in_the_reference_layout():
    completion = to_completion(PROBLEM, GOOD, "chat")
    program = PROBLEM.prompt + completion + "\n" + PROBLEM.test + "\ncheck(add)\n"
    namespace: dict = {}
    exec(compile(program, "<reference-layout>", "exec"), namespace)  # our own trusted code


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="unknown prompting style 'fim'"):
        extract_code("x", PROBLEM, "fim")


# The app's quick run (smollm2:135m, chat, temperature 0) on ia_basic/0, as the model wrote it: the prompt's
# docstring with its >>> examples, then a wrong body cut by the 256-token limit inside an open fence. The old
# extraction tested `is_prime(7)\nis_prime(1)`, the docstring's examples.
FINDING_REPLY = (
    '```python\ndef is_prime(n: int) -> bool:\n    """Return True if n is a prime number, False otherwise.\n'
    "    Numbers below 2 (including 0, 1, and negative numbers) are not prime.\n"
    "    >>> is_prime(7)\n    True\n"
    '    >>> is_prime(1)\n    False\n    """\n    if n < 2:\n        return False\n    if n == 2:\n'
    "        return False\n    if n > 3:\n        return False\n    if n < 3:\n        return False\n"
    "    if n % 3 == 0 and n % 5 == 0:\n        return False\n    if n == 6:\n        return False\n"
    "    if n > 9:\n        return False\n    if n < 10:\n        return False\n    if n == 11:\n"
    "        return False\n    if n == 12:\n        return False\n    if n == 14:\n        return False\n"
    "    if n == 16:\n        return False\n    if n == 19:\n        return False\n    if n == 20:\n"
    "        return False\n    if n == 21:\n        return False\n    if n == 22:\n        return False\n"
    "    if n =="
)
IS_PRIME = load_problems("ia_basic")["ia_basic/0"]


def _run(problem: Problem, reply: str, style: str = "chat"):
    code = extract_code(reply, problem, style)
    program = build_program(problem, to_completion(problem, code, style))
    return Sandbox.detect().run(program, problem.test, problem.entry_point, prompt=problem.prompt)


def test_the_findings_reply_gives_the_function_not_its_docstring_examples():
    code = extract_code(FINDING_REPLY, IS_PRIME)
    assert code != "is_prime(7)\nis_prime(1)"
    # the function as written, docstring included, up to its last whole line (the cut `if n ==` is left out)
    assert code == FINDING_REPLY[len("```python\n") : FINDING_REPLY.rindex("\n")]
    result = _run(IS_PRIME, FINDING_REPLY)
    assert not result.passed  # the model's is_prime is wrong (is_prime(2) is False): it fails on its merits
    assert "AssertionError" in result.result or "assert" in result.result.lower(), result.result


def test_a_correct_function_with_the_prompts_docstring_passes():
    body = (
        "    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n"
        "            return False\n        i += 1\n    return True\n"
    )
    reply = "```python\n" + IS_PRIME.prompt + body + "```\n\nThis checks divisors up to the square root."
    assert _run(IS_PRIME, reply).passed


@pytest.mark.parametrize(
    "completion",
    [
        "\tif a == 0:\n\t\treturn b\n\treturn a + b\n",  # tabs under a prompt indented with spaces
        "    return a + b\r\n\r\n\r\nresult = add(2, 3)\r\n",  # CRLF
        "    return a + b\n\n\nresult = add(2, [",  # cut by the token limit mid-statement
        "    return a + b\n\n\nadd('x', 1)\n",  # top-level demo call that raises
        "    return a + b\n\n\ntotal = add('x', 1)\n",  # top-level demo assignment that raises
    ],
)
def test_complete_style_shapes_pass(completion):
    assert _run(PROBLEM, completion, "complete").passed, extract_code(completion, PROBLEM, "complete")


def test_complete_style_keeps_helpers_the_function_uses_and_drops_demo():
    completion = "    return _plus(a, b)\n\n\n_plus = lambda a, b: a + b\nprint = None\nresult = add(1, 2)\n"
    code = extract_code(completion, PROBLEM, "complete")
    assert "_plus = lambda" in code and "result" not in code
    assert _run(PROBLEM, completion, "complete").passed


WRONG = "def add(a, b):\n    return a - b"
WRONG_REPLIES = {
    "plain": f"```python\n{WRONG}\n```",
    "with demo asserts that expect the wrong result": f"```python\n{WRONG}\n\nassert add(2, 3) == -1\n```",
    "cut by the token limit": f"```python\n{WRONG}\n\nprint(add(2,",
    "a right version only inside <think>": (
        f"<think>\n```python\n{GOOD}\n```\n</think>\n```python\n{WRONG}\n```"
    ),
    "a right version only in the docstring examples": (
        '```python\ndef add(a, b):\n    """>>> def add(a, b): return a + b\n    """\n    return a - b\n```'
    ),
    "body only": "```python\n    return a - b\n```",
    "unfenced": f"Here:\n\n{WRONG}\n",
    "then a right one repeated under the same name": f"```python\n{WRONG}\n\n{GOOD}\n```",
    "transcript": ">>> def add(a, b):\n...     return a - b\n...\n>>> add(2, 3)\n5",
}


@pytest.mark.parametrize("shape", sorted(WRONG_REPLIES))
def test_a_wrong_answer_is_extracted_faithfully_and_fails(shape):
    reply = WRONG_REPLIES[shape]
    code = extract_code(reply, PROBLEM)
    assert "return a - b" in code
    assert not _passes(reply)
    assert not _passes(reply.replace("```python\n", "```\n"))


def test_no_line_of_a_broken_function_is_taken_for_a_body():
    # shaped on a real smollm2 reply (ia_basic/40): a syntax error, and a later line that parses alone
    reply = "```python\ndef add(a, b):\n    return any(not in b for b in a)\n    return a + b\n```"
    assert (
        extract_code(reply, PROBLEM)
        == "def add(a, b):\n    return any(not in b for b in a)\n    return a + b"
    )
    assert not _passes(reply)


def test_a_program_output_block_does_not_replace_the_broken_code():
    # shaped on a real smollm2 reply (ia_basic/31): the python block has a syntax error, an untagged
    # block shows the output the model expects ("Result: 5" parses as an annotation)
    reply = "```python\ndef add(a, b):\n    return (a + b))\n\nprint(f'Result: {add(2, 3)}')\n```\n"
    reply += "This will output:\n```\nResult: 5\n```"
    assert extract_code(reply, PROBLEM).startswith("def add(a, b):\n    return (a + b))")


def test_the_unfinished_last_line_of_a_cut_reply_is_not_the_models_code():
    # a real smollm2 reply (HumanEval/35, temperature 0.8), shortened: a loop cut by the token limit in the
    # middle of a name; as it stands, its last line `max_element = max` would pass the tests
    problem = load_problems("humaneval")["HumanEval/35"]
    reply = "```python\n" + "max_element = " * 5 + "max_element = max"
    assert "max_element = max\n" not in extract_code(reply, problem) + "\n"
    assert not _run(problem, reply).passed
    assert _run(problem, reply + "\n```").passed  # closed, the line was finished: `max_element = max` it is
    # a raw completion cut by the token limit (done_reason "length"): the same
    completion = "    result = max(l)\n    return result_max"
    assert extract_code(completion, problem, "complete", cut=True) == "    result = max(l)\n"
    assert extract_code(completion, problem, "complete", cut=False) == completion
    assert extract_code(completion, problem, "complete") == completion  # not known: kept
    # a chat reply whose fence the model left open when it stopped by itself keeps its last line
    finished = f"```python\n{GOOD}"
    assert extract_code(finished, PROBLEM, cut=False) == GOOD
    assert extract_code(finished, PROBLEM) == "def add(a: int, b: int) -> int:"  # unknown: counted as cut


def test_a_function_repeated_in_one_block_is_read_as_its_first_answer():
    # small models loop: the first definition that returns is the answer, the repeats are dropped
    looping = f"```python\n{GOOD}\n\n{WRONG}\n\n{WRONG}\n\ndef add(a, b):\n    return"
    assert extract_code(looping, PROBLEM) == GOOD
    assert _passes(looping)
    # a docstring-only stub (the prompt repeated) before the real function is no answer: the function is
    stub_first = f'```python\ndef add(a, b):\n    """Add."""\n\n{GOOD}\n```'
    assert extract_code(stub_first, PROBLEM) == f'def add(a, b):\n    """Add."""\n\n{GOOD}'
    assert _passes(stub_first)


def test_code_inside_think_is_not_the_answer():
    code = extract_code(WRONG_REPLIES["a right version only inside <think>"], PROBLEM)
    assert code == WRONG


def test_demo_code_goes_and_the_function_is_kept_byte_for_byte():
    demo = "# Example usage:\nprint(add(2, 3))\nassert add(1, 1) == 3\n"
    reply = f"```python\nimport math\n\n{DOCUMENTED}\n\n{demo}```"
    assert extract_code(reply, PROBLEM) == f"import math\n\n{DOCUMENTED}"


def test_tabs_are_expanded_only_when_they_break_the_code():
    consistent = "```python\ndef add(a, b):\n\treturn a + b\n```"
    assert extract_code(consistent, PROBLEM) == "def add(a, b):\n\treturn a + b"
    mixed = "```python\ndef add(a, b):\n    if a:\n\treturn a + b\n    return b\n```"
    assert "\t" not in extract_code(mixed, PROBLEM) and _passes(mixed)


def _shapes(problem: Problem) -> dict[str, tuple[str, str]]:
    """A right answer (the canonical solution) written in each shape models use: name -> (style, reply)."""
    full, body, name = (
        problem.prompt + problem.canonical_solution,
        problem.canonical_solution,
        problem.entry_point,
    )
    session = ">>> " + "\n... ".join(full.rstrip("\n").split("\n")) + f"\n...\n>>> {name}\n<function {name}>"
    return {
        "fenced, prose around": ("chat", f"Here is the solution:\n\n```python\n{full}\n```\n\nIt works."),
        "fenced, wrong demo after": ("chat", f"```python\n{full}\n\nprint({name}())\nassert False\n```"),
        "unfenced": ("chat", f"Sure.\n\n{full}\n\nThis is correct."),
        "fence left open, cut": ("chat", f"```python\n{full}\n\n# Example\nprint({name}("),
        "crlf": ("chat", f"```python\n{full}\n```".replace("\n", "\r\n")),
        "tabs": ("chat", "```python\n" + full.replace("    ", "\t") + "\n```"),
        "body only": ("chat", f"```python\n{body}\n```"),
        "console session": ("chat", session),
        "wrong code in <think>": (
            "chat",
            f"<think>\n```python\ndef {name}(*args):\n    return None\n```\n</think>\n```python\n{full}\n```",
        ),
        "raw completion": ("complete", body),
    }


def test_every_right_answer_passes_in_every_reply_shape(tmp_path):
    """The canonical solutions of ia_basic and of every 4th HumanEval problem, each written in every shape:
    all pass (the shapes EvalPlus's sanitizer misses here: a body alone, a console session, some tabs)."""
    problems = {**load_problems("ia_basic"), **dict(list(load_problems("humaneval").items())[::4])}
    rows = []
    for problem in problems.values():
        for shape, (style, reply) in _shapes(problem).items():
            completion = to_completion(problem, extract_code(reply, problem, style), style)
            rows.append({"task_id": problem.task_id, "shape": shape, "completion": completion})
    write_jsonl(tmp_path / "shapes.jsonl", rows)
    results = read_jsonl(evaluate_samples(problems, tmp_path / "shapes.jsonl", workers=2, timeout=10.0))
    failed = [(r["task_id"], r["shape"], r["result"]) for r in results if not r["passed"]]
    assert not failed
    assert len(results) == 10 * len(problems)
