"""Code extraction from real-world reply shapes, and the completion/program built from it (run for real)."""

from __future__ import annotations

import pytest

from core.benchmark.extraction import build_program, clean_reply, extract_code, to_completion
from core.benchmark.problems import Problem
from core.benchmark.sandbox import Sandbox

PROMPT = 'from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    """Return a + b."""\n'
PROBLEM = Problem(
    "t/0",
    PROMPT,
    "add",
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
)
GOOD = "def add(a: int, b: int) -> int:\n    return a + b"


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
