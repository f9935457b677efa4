"""pass@k against hand-computed values, the confidence intervals, and per-tier aggregation."""

from __future__ import annotations

from math import comb

import pytest

from core.benchmark.problems import Problem
from core.benchmark.scoring import (
    Estimate,
    counts_by_problem,
    pass_at_k,
    pass_at_k_ci,
    summarize,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (5, 2, 1, 0.4),  # c / n
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (5, 2, 3, 0.9),  # 1 - C(3,3)/C(5,3) = 1 - 1/10
        (5, 2, 4, 1.0),  # fewer than k failures: some correct sample is always drawn
        (10, 0, 5, 0.0),
        (10, 10, 10, 1.0),
        (10, 1, 5, 0.5),  # 1 - C(9,5)/C(10,5) = 1 - 126/252
        (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    ],
)
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_stable_product_matches_the_exact_binomial_formula_for_large_n():
    for n, c, k in [(200, 13, 1), (200, 13, 10), (200, 13, 100), (1000, 1, 500), (150, 149, 1)]:
        exact = 1 - comb(n - c, k) / comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize(("n", "c", "k"), [(0, 0, 1), (3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4)])
def test_impossible_inputs_are_refused(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_interval_of_a_single_problem_is_the_estimate():
    estimate = pass_at_k_ci([(10, 3)], 1)
    assert estimate.value == pytest.approx(0.3)
    assert estimate.low == estimate.value == estimate.high and estimate.problems == 1


def test_interval_when_everything_passes_or_fails_is_degenerate():
    assert pass_at_k_ci([(5, 5)] * 20, 1) == Estimate(1.0, 1.0, 1.0, 20)
    assert pass_at_k_ci([(5, 0)] * 20, 1) == Estimate(0.0, 0.0, 0.0, 20)


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible():
    counts = [(1, 1)] * 30 + [(1, 0)] * 70
    first = pass_at_k_ci(counts, 1)
    assert first == pass_at_k_ci(counts, 1)
    assert first.value == pytest.approx(0.3)
    assert first.low < 0.3 < first.high
    # Close to the normal approximation 0.3 +- 1.96 * sqrt(0.3 * 0.7 / 100) = [0.210, 0.390].
    assert first.low == pytest.approx(0.21, abs=0.025)
    assert first.high == pytest.approx(0.39, abs=0.025)


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    with pytest.raises(ValueError):
        wilson_interval(3, 0)


def test_counts_and_per_tier_summary():
    problems = {
        "a": Problem("a", "", "f", "", tier="easy"),
        "b": Problem("b", "", "f", "", tier="easy"),
        "c": Problem("c", "", "f", "", tier="hard"),
    }
    results = [
        {"task_id": "a", "passed": True},
        {"task_id": "a", "passed": False},
        {"task_id": "b", "passed": False},
        {"task_id": "b", "passed": False},
        {"task_id": "c", "passed": True},
        {"task_id": "c", "passed": True},
    ]
    assert counts_by_problem(results) == {"a": (2, 1), "b": (2, 0), "c": (2, 2)}
    summary = summarize(results, problems, ks=(1, 2, 10))
    assert set(summary.overall) == {1, 2}  # pass@10 needs 10 samples per problem
    assert summary.overall[1].value == pytest.approx((0.5 + 0 + 1) / 3)
    assert summary.overall[2].value == pytest.approx((1 + 0 + 1) / 3)
    assert summary.tiers["easy"][1].value == pytest.approx(0.25)
    assert summary.tiers["hard"][2].value == 1.0
    as_json = summary.to_dict()
    assert as_json["overall"]["pass@1"]["problems"] == 3
    assert as_json["per_problem"]["b"] == {"n": 2, "c": 0}


def test_summary_of_nothing_is_empty():
    summary = summarize([])
    assert summary.overall == {} and summary.per_problem == {}
