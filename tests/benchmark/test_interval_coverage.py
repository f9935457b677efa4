"""The coverage the intervals claim (95%), measured, not asserted.

Where the outcomes can be listed (one sample per problem; 3 to 5 problems with a few samples each, all equally
hard), the coverage is computed exactly: the probability of every possible run times whether its interval
holds the true pass@k. No simulation tolerance is needed there: the number is exact for this seeded method.
Where problems differ in difficulty, seeded simulations of whole runs measure it, with a tolerance taken
from the simulation size (see _SIMULATION_FLOOR).
"""

from __future__ import annotations

import itertools
import math
import random

import pytest

from core.benchmark.scoring import pass_at_k_ci, wilson_interval

NOMINAL = 0.95
PASS_RATES = [0.0, 0.001, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0]


def _binomial(n: int, p: float) -> list[float]:
    return [math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(n + 1)]


def _exact_coverage_one_sample(problems: int, p: float, interval) -> float:
    return sum(
        probability
        for successes, probability in enumerate(_binomial(problems, p))
        if interval(successes)[0] <= p <= interval(successes)[1]
    )


@pytest.mark.parametrize("problems", [1, 2, 5, 20, 43, 164])
def test_one_sample_per_problem_covers_every_pass_rate_exactly(problems):
    """n = 1: every run of N problems is a count of successes; sum the probability of those covered."""
    estimates = {s: pass_at_k_ci([(1, 1)] * s + [(1, 0)] * (problems - s), 1) for s in range(problems + 1)}

    def interval(successes):
        return estimates[successes].low, estimates[successes].high

    rates = PASS_RATES + [i / 97 for i in range(1, 97)]
    worst = min(_exact_coverage_one_sample(problems, p, interval) for p in rates)
    assert worst >= NOMINAL - 1e-12, worst


def test_why_clopper_pearson_and_not_wilson():
    """Wilson's interval is close to 95% on average but not for every rate: at 5 problems it can cover 83%."""

    def wilson(successes):
        return wilson_interval(successes, 5)

    worst = min(_exact_coverage_one_sample(5, i / 1000, wilson) for i in range(1, 1000))
    assert worst < 0.90


def _exact_coverage_several_samples(problems: int, samples: int, k: int, rates: list[float]) -> dict:
    """Exact coverage for equally hard problems: every multiset of per-problem counts, with its probability."""
    outcomes = list(itertools.combinations_with_replacement(range(samples + 1), problems))
    estimates = {counts: pass_at_k_ci([(samples, c) for c in counts], k) for counts in outcomes}
    coverage = {}
    for p in rates:
        truth = 1 - (1 - p) ** k
        per_count = _binomial(samples, p)
        total = 0.0
        for counts in outcomes:
            probability = math.factorial(problems)
            for c in set(counts):
                probability *= per_count[c] ** counts.count(c) / math.factorial(counts.count(c))
            if estimates[counts].low <= truth <= estimates[counts].high:
                total += probability
        coverage[p] = total
    return coverage


@pytest.mark.parametrize(("problems", "samples", "k"), [(5, 3, 1), (5, 3, 2), (4, 4, 2), (3, 6, 1)])
def test_several_samples_per_problem_cover_every_pass_rate_exactly(problems, samples, k):
    """n > 1, few problems, including p = 0 and p = 1 (where every problem scores 0, or 1)."""
    coverage = _exact_coverage_several_samples(problems, samples, k, PASS_RATES)
    assert min(coverage.values()) >= NOMINAL, coverage


# Simulated runs: R runs, true coverage c; the measured share has standard error sqrt(c(1-c)/R), 1.5 points
# for R = 200 at c = 0.95. We accept down to 2.33 standard errors below 95% (a one-sided 1% test), so a
# method that truly covers 95% passes, and one that covers only 90% (the old bootstrap's level at 10
# problems) would be caught with probability about 3 in 4 per scenario.
_RUNS = 200
_SIMULATION_FLOOR = NOMINAL - 2.33 * math.sqrt(NOMINAL * (1 - NOMINAL) / _RUNS)


def _simulated_coverage(problems: int, samples: int, k: int, draw_rate, truth: float, seed: int) -> float:
    rng = random.Random(seed)
    covered = 0
    for run in range(_RUNS):
        counts = []
        for _ in range(problems):
            rate = draw_rate(rng)
            counts.append((samples, sum(rng.random() < rate for _ in range(samples))))
        estimate = pass_at_k_ci(counts, k, seed=run)
        covered += estimate.low <= truth <= estimate.high
    return covered / _RUNS


def _beta_truth(a: float, b: float, k: int) -> float:
    """Mean pass@k when each problem's pass rate is Beta(a, b): 1 - E[(1 - p)^k]."""
    return 1 - math.prod((b + j) / (a + b + j) for j in range(k))


@pytest.mark.parametrize(
    ("name", "problems", "samples", "k", "draw_rate", "truth"),
    [
        # Problems of very different difficulty (most nearly always or never solved), as real suites are.
        ("U-shaped Beta(0.3, 0.7)", 8, 3, 1, lambda rng: rng.betavariate(0.3, 0.7), _beta_truth(0.3, 0.7, 1)),
        ("a third unsolvable, else 0.7", 8, 3, 1, lambda rng: 0.0 if rng.random() < 1 / 3 else 0.7, 14 / 30),
        ("U-shaped, pass@2", 8, 3, 2, lambda rng: rng.betavariate(0.3, 0.7), _beta_truth(0.3, 0.7, 2)),
    ],
)
def test_problems_of_different_difficulty_are_covered(name, problems, samples, k, draw_rate, truth):
    coverage = _simulated_coverage(problems, samples, k, draw_rate, truth, seed=11)
    assert coverage >= _SIMULATION_FLOOR, (name, coverage)
