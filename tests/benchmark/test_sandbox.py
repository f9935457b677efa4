"""Sandbox behaviour for ordinary code: verdicts, limits, environment, and that legitimate code still works."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.benchmark.sandbox import ISOLATION_LEVELS, Limits, Sandbox
from core.errors import SandboxUnavailable

SQUARE_TEST = "def check(candidate):\n    assert candidate(3) == 9\n    assert candidate(-2) == 4\n"


@pytest.fixture(params=["cold", "pooled"])
def box(request) -> Sandbox:
    """Each behaviour holds for a sandbox started per sample and for the pooled per-worker zygotes."""
    sandbox = Sandbox.detect()
    if request.param == "pooled":
        if sandbox.level != "bwrap":
            if shutil.which("bwrap"):
                pytest.fail(f"bwrap is installed but unusable; detected {sandbox.level}")
            pytest.skip("pooled sandboxes need bwrap")
        with sandbox.prewarmed(2):
            yield sandbox
    else:
        yield sandbox


def test_detect_prefers_bubblewrap_when_it_works():
    box = Sandbox.detect()
    assert box.level in ISOLATION_LEVELS
    if box.level != "bwrap":
        # Installed but failing is a bug of ours (mounts, permissions), not a property of the machine.
        assert not shutil.which("bwrap"), f"bwrap is installed but unusable; detected {box.level}"
        pytest.skip(f"bwrap is not installed; detected {box.level}")


def test_environment_variable_forces_a_level(monkeypatch):
    monkeypatch.setenv("IA_SANDBOX", "rlimits")
    assert Sandbox.detect().level == "rlimits"


def test_unknown_level_is_refused_with_a_clear_message():
    with pytest.raises(SandboxUnavailable, match="unknown isolation level 'chroot'"):
        Sandbox.detect("chroot")


def test_correct_code_passes_and_reports_isolation(box):
    result = box.run("def square(x):\n    return x * x\n", SQUARE_TEST, "square")
    assert (result.passed, result.result, result.isolation) == (True, "passed", box.level)
    assert 0 < result.duration_s < 10


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def square(x):\n    return x + x\n", "failed: AssertionError"),
        ("def square(x):\n    return 1 / 0\n", "failed: ZeroDivisionError: division by zero"),
        ("def square(x)\n    return x\n", "failed: SyntaxError"),
        ("def cube(x):\n    return x ** 3\n", "failed: NameError: the code does not define 'square'"),
        ("import not_a_module_anywhere\n", "failed: ModuleNotFoundError"),
    ],
)
def test_failures_say_why(box, code, expected):
    result = box.run(code, SQUARE_TEST, "square")
    assert not result.passed
    assert result.result.startswith(expected), result.result


def test_wall_clock_timeout(box):
    result = box.run(
        "import time\ndef square(x):\n    time.sleep(30)\n", SQUARE_TEST, "square", Limits(timeout_s=1)
    )
    assert (result.passed, result.result) == (False, "timed out")
    assert result.duration_s < 5


def test_cpu_limit_ends_busy_code_even_with_a_long_wall_timeout(box):
    limits = Limits(timeout_s=30, cpu_s=1)
    result = box.run("def square(x):\n    while True:\n        pass\n", SQUARE_TEST, "square", limits)
    assert (result.passed, result.result) == (False, "timed out")
    assert result.duration_s < 15


def test_memory_limit_raises_memory_error(box):
    code = "def square(x):\n    blob = bytearray(3 * 1024 ** 3)\n    return x * x\n"
    result = box.run(code, SQUARE_TEST, "square", Limits(memory_mb=256))
    assert not result.passed
    assert "MemoryError" in result.result or "killed" in result.result


def test_file_size_limit(box):
    code = "with open('f', 'wb') as h:\n    h.write(b'0' * (4 * 1024 * 1024))\ndef square(x):\n    return x * x\n"
    result = box.run(code, SQUARE_TEST, "square", Limits(fsize_mb=1))
    assert not result.passed
    assert "SIGXFSZ" in result.result or "File too large" in result.result


def test_environment_is_empty_and_working_directory_is_fresh(box, monkeypatch):
    monkeypatch.setenv("IA_SECRET_TOKEN", "do-not-leak")
    code = (
        "import os\n"
        "assert dict(os.environ) == {}, dict(os.environ)\n"
        "assert os.listdir('.') == []\n"
        "open('scratch.txt', 'w').write('mine')\n"
        "def square(x):\n    return x * x\n"
    )
    assert box.run(code, SQUARE_TEST, "square").passed
    assert box.run(code, SQUARE_TEST, "square").passed  # the previous run's file is gone


def test_output_is_swallowed(box):
    code = "import sys\nprint('noise' * 1000)\nsys.stderr.write('more')\ndef square(x):\n    print(x)\n    return x * x\n"
    assert box.run(code, SQUARE_TEST, "square").passed


def test_plain_return_types_survive_the_copy(box):
    code = "def f(kind):\n    return {'b': True, 'n': None, 'f': -0.0, 't': (1, [2]), 's': {3}, 'd': {'k': b'v'}}[kind]\n"
    test = (
        "def check(candidate):\n"
        "    assert candidate('b') is True\n"
        "    assert candidate('n') is None\n"
        "    assert str(candidate('f')) == '-0.0'\n"
        "    assert candidate('t') == (1, [2]) and type(candidate('t')) is tuple\n"
        "    assert candidate('s') == {3}\n"
        "    assert candidate('d') == {'k': b'v'}\n"
    )
    result = box.run(code, test, "f")
    assert result.passed, result.result


def test_iterators_are_passed_through_lazily(box):
    code = "def evens(n):\n    return (i for i in range(n) if i % 2 == 0)\ndef doubled(xs):\n    return map(lambda v: v * 2, xs)\n"
    test = "def check(candidate):\n    assert list(candidate(7)) == [0, 2, 4, 6]\n    assert list(doubled([1, 2])) == [2, 4]\n"
    assert box.run(code, test, "evens").passed


def test_non_plain_return_values_fail_with_a_reason(box):
    code = "class Box:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Box()\n"
    result = box.run(code, "def check(candidate):\n    assert candidate(1) == 1\n", "f")
    assert not result.passed
    assert "which is not plain data" in result.result and "type Box" in result.result


def test_test_code_sees_helpers_defined_by_the_prompt(box):
    code = "def encode(s):\n    return s[::-1]\ndef decode(s):\n    return s[::-1]\n"
    test = "import random\ndef check(candidate):\n    for w in ('abc', 'hello'):\n        assert candidate(encode(w)) == w\n"
    assert box.run(code, test, "decode").passed


def test_legitimate_stdlib_use_works_under_the_guard(box):
    code = (
        "from collections import namedtuple\nfrom dataclasses import dataclass\nimport enum, typing, re, json\n"
        "import hashlib, fractions, statistics, functools, itertools\n"
        "Point = namedtuple('Point', 'x y')\n"
        "class Colour(enum.Enum):\n    RED = 1\n"
        "@dataclass\nclass Pair:\n    a: int\n    b: int\n"
        "T = typing.TypeVar('T')\n"
        "def f(x: typing.List[int]) -> str:\n"
        "    p = Point(*x)\n"
        "    total = Pair(p.x, p.y).a + Pair(p.x, p.y).b\n"
        "    return hashlib.md5(json.dumps([total, Colour.RED.value]).encode()).hexdigest()\n"
    )
    test = (
        "import hashlib, json\n"
        "def check(candidate):\n"
        "    assert candidate([1, 2]) == hashlib.md5(json.dumps([3, 1]).encode()).hexdigest()\n"
    )
    result = box.run(code, test, "f")
    assert result.passed, result.result


def test_samples_run_in_parallel(box):
    def one(i: int) -> bool:
        return box.run(f"def square(x):\n    return x * x + {i % 2}\n", SQUARE_TEST, "square").passed

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(one, range(16)))
    assert outcomes == [i % 2 == 0 for i in range(16)]


def test_code_without_test_passes_when_it_runs_cleanly(box):
    assert box.run("x = sum(range(10))\nassert x == 45\n").passed
    assert not box.run("raise ValueError('boom')\n").passed
