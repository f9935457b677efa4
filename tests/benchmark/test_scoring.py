"""pass@k against hand-computed values, the confidence intervals (exact and bootstrap), per-tier aggregation.

The coverage of the intervals is measured in test_interval_coverage.py, paired comparisons in
test_paired_comparison.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from math import comb

import pytest

from core.benchmark.problems import Problem
from core.benchmark.scoring import (
    Estimate,
    clopper_pearson_interval,
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


def _binomial_tail_at_least(successes: int, total: int, p: float) -> float:
    return sum(comb(total, i) * p**i * (1 - p) ** (total - i) for i in range(successes, total + 1))


def test_clopper_pearson_known_values():
    # 0 of n and n of n have closed forms: (alpha/2)^(1/n) is the probability of n passes (or n failures).
    assert clopper_pearson_interval(0, 5) == pytest.approx((0.0, 1 - 0.025 ** (1 / 5)), abs=1e-12)
    assert clopper_pearson_interval(0, 5)[1] == pytest.approx(0.5218, abs=1e-4)
    assert clopper_pearson_interval(5, 5) == pytest.approx((0.025 ** (1 / 5), 1.0), abs=1e-12)
    assert clopper_pearson_interval(0, 1) == pytest.approx((0.0, 0.975), abs=1e-12)
    # Published values (e.g. R's binom.test(8, 10)): [0.4439, 0.9748].
    low, high = clopper_pearson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4439, 0.9748)
    assert clopper_pearson_interval(0, 5, confidence=0.9)[1] == pytest.approx(1 - 0.05 ** (1 / 5), abs=1e-12)


@pytest.mark.parametrize(("successes", "total"), [(1, 5), (3, 7), (8, 10), (1, 200), (120, 200), (199, 200)])
def test_clopper_pearson_bounds_are_where_the_binomial_tails_reach_alpha_over_2(successes, total):
    """The defining property, checked with exact binomial sums (math.comb), not with the beta function."""
    low, high = clopper_pearson_interval(successes, total)
    assert _binomial_tail_at_least(successes, total, low) == pytest.approx(0.025, rel=1e-9)
    assert 1 - _binomial_tail_at_least(successes + 1, total, high) == pytest.approx(0.025, rel=1e-9)


def test_clopper_pearson_refuses_impossible_counts():
    for successes, total, confidence in [(3, 0, 0.95), (6, 5, 0.95), (-1, 5, 0.95), (1, 5, 1.0), (1, 5, 0.0)]:
        with pytest.raises(ValueError):
            clopper_pearson_interval(successes, total, confidence)


def test_zero_of_five_gets_the_exact_interval_not_zero_width():
    """The finding: the app's 0/5 quick run reported [0.0, 0.0]; 0 of 5 is about [0, 52%] (exact)."""
    estimate = pass_at_k_ci([(1, 0)] * 5, 1)
    assert (estimate.value, estimate.low) == (0.0, 0.0)
    assert estimate.high == pytest.approx(0.5218, abs=1e-4)
    assert estimate.method == "Clopper-Pearson over 5 problems"
    assert wilson_interval(0, 5)[1] == pytest.approx(0.4345, abs=1e-4)  # the "about 43%" is Wilson's


def test_n_of_n_is_not_certainty():
    estimate = pass_at_k_ci([(1, 1)] * 5, 1)
    assert estimate.value == estimate.high == 1.0
    assert estimate.low == pytest.approx(0.4782, abs=1e-4)


def test_one_problem_gives_a_wide_interval_not_the_estimate():
    """One problem says little about a model's pass rate; the old code returned [estimate, estimate]."""
    one = pass_at_k_ci([(10, 3)], 1)
    assert one.problems == 1 and one.value == pytest.approx(0.3)
    assert one.low < 0.05 and one.high > 0.95
    assert "1 problem" in one.method
    single = pass_at_k_ci([(1, 0)], 1)
    assert (single.low, single.high) == pytest.approx((0.0, 0.975))
    assert pass_at_k_ci([(5, 5)], 1).low == pytest.approx(0.025)


@pytest.mark.parametrize(
    ("counts", "k"),
    [
        ([(5, 3)] * 5, 1),  # every problem 3 of 5: a plain bootstrap over problems gives [0.6, 0.6]
        ([(5, 3)] * 2, 1),
        ([(5, 3)] * 40, 1),
        ([(10, 4)] * 8, 5),
        ([(5, 0)] * 20, 1),
        ([(5, 5)] * 20, 1),
        ([(10, 10)] * 20, 10),
        ([(10, 0)] * 20, 10),
        ([(1, 1)] * 100, 1),
        ([(1, 0)] * 100, 1),
        ([(10, 6)] * 30, 5),  # pass@5 of 6 of 10 is exactly 1: identical ones
    ],
)
def test_identical_per_problem_values_never_give_a_zero_width_interval(counts, k):
    estimate = pass_at_k_ci(counts, k)
    assert estimate.low <= estimate.value <= estimate.high
    assert estimate.high - estimate.low > 0.01, estimate


def test_interval_methods_are_named():
    assert pass_at_k_ci([(1, 1)] * 30 + [(1, 0)] * 13, 1).method == "Clopper-Pearson over 43 problems"
    # Problems that passed all or none of their samples: exact over problems as well.
    assert pass_at_k_ci([(5, 5)] * 3 + [(5, 0)] * 2, 1).method == "Clopper-Pearson over 5 problems"
    mixed = pass_at_k_ci([(5, 2), (5, 3), (5, 0), (5, 5)] * 10, 1)
    assert mixed.method.startswith("bootstrap over 40 problems and their samples, 2000 resamples")
    assert pass_at_k_ci([(5, 2), (5, 3)] * 10, 1, resamples=500).method.startswith(
        "bootstrap over 20 problems and their samples, 500 resamples"
    )


def test_rare_passes_are_widened_to_the_pooled_exact_interval():
    """1 pass in 86 samples: the bootstrap alone would be too narrow; the pooled exact interval is the floor."""
    counts = [(2, 1)] + [(2, 0)] * 42
    estimate = pass_at_k_ci(counts, 1)
    pooled = clopper_pearson_interval(1, 86)
    assert estimate.low <= pooled[0] and estimate.high >= pooled[1]
    assert estimate.method.endswith("widened to the exact interval of all samples pooled")


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible():
    counts = [(5, c) for c in (0, 1, 2, 3, 4, 5)] * 10
    first = pass_at_k_ci(counts, 1)
    assert first == pass_at_k_ci(counts, 1)
    assert first == pass_at_k_ci(list(reversed(counts)), 1)  # the order of the problems does not matter
    assert first.value == pytest.approx(0.5)
    assert first.low < 0.5 < first.high
    # Close to the normal approximation 0.5 +- 1.96 * sd / sqrt(60), sd of the per-problem values ~0.342,
    # widened by the samples' own noise: about [0.41, 0.59] to [0.39, 0.61].
    assert 0.37 < first.low < 0.42 and 0.58 < first.high < 0.63
    assert pass_at_k_ci(counts, 1, seed=1) != first  # the seed is used


def test_confidence_and_resamples_are_checked():
    with pytest.raises(ValueError, match="confidence"):
        pass_at_k_ci([(1, 1)] * 5, 1, confidence=1.5)
    with pytest.raises(ValueError, match="resamples"):
        pass_at_k_ci([(5, 2)] * 5, 1, resamples=10)
    with pytest.raises(ValueError, match="at least 10 samples"):
        pass_at_k_ci([(5, 2)] * 5, 10)
    with pytest.raises(ValueError, match="at least one problem"):
        pass_at_k_ci([], 1)
    narrower = pass_at_k_ci([(1, 0)] * 5, 1, confidence=0.8)
    assert narrower.high == pytest.approx(1 - 0.1 ** (1 / 5))


def test_estimate_keeps_its_old_constructor_and_stays_json_ready():
    old_style = Estimate(0.5, 0.4, 0.6, 10)
    assert old_style.method == ""
    record = asdict(pass_at_k_ci([(1, 0)] * 5, 1))
    assert json.loads(json.dumps(record)) == record
    assert set(record) == {"value", "low", "high", "problems", "method"}


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
    assert as_json["overall"]["pass@1"]["method"].startswith("bootstrap over 3 problems")
    assert as_json["tiers"]["hard"]["pass@2"]["method"] == "Clopper-Pearson over 1 problem"
    assert json.loads(json.dumps(as_json)) == as_json
    assert as_json["per_problem"]["b"] == {"n": 2, "c": 0}


def test_summary_of_nothing_is_empty():
    summary = summarize([])
    assert summary.overall == {} and summary.per_problem == {}
