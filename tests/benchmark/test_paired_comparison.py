"""paired_comparison: two runs compared problem by problem (exact McNemar, or a paired bootstrap).

`compare` used to call two runs different when their intervals did not overlap, which is not a test: it
misses real differences (intervals of two runs overlap long before a paired test stops seeing a difference)
and, with the old zero-width intervals, announced differences no test supports.
"""

from __future__ import annotations

import random
from math import comb

import pytest

from core.benchmark.scoring import PairedComparison, paired_comparison, pass_at_k_ci


def _runs(outcomes: list[tuple[int, int]]) -> tuple[dict, dict]:
    """Two one-sample-per-problem runs from (a passed, b passed) per problem."""
    a = {f"t{i}": (1, x) for i, (x, _) in enumerate(outcomes)}
    b = {f"t{i}": (1, y) for i, (_, y) in enumerate(outcomes)}
    return a, b


@pytest.mark.parametrize(
    ("a_only", "b_only", "both", "neither", "expected"),
    [
        (3, 1, 6, 2, 2 * (comb(4, 0) + comb(4, 1)) / 2**4),  # 0.625
        (8, 0, 12, 20, 2 / 2**8),  # 0.0078125
        (10, 2, 5, 5, 2 * (comb(12, 0) + comb(12, 1) + comb(12, 2)) / 2**12),  # 0.03857...
        (1, 6, 0, 3, 2 * (comb(7, 0) + comb(7, 1)) / 2**7),  # 0.125
        (5, 5, 1, 1, 1.0),  # the doubled tail is capped at 1
        (0, 0, 4, 4, 1.0),  # no discordant problem: nothing to test
    ],
)
def test_mcnemar_p_values_against_hand_computed_binomials(a_only, b_only, both, neither, expected):
    a, b = _runs([(1, 0)] * a_only + [(0, 1)] * b_only + [(1, 1)] * both + [(0, 0)] * neither)
    result = paired_comparison(a, b)
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    total = a_only + b_only + both + neither
    assert result.problems == total
    assert result.difference == pytest.approx((a_only - b_only) / total)
    assert result.a_value == pytest.approx((a_only + both) / total)
    assert result.method == (
        f"exact McNemar test on {total} shared problems ({a_only} vs {b_only} discordant), Newcombe interval"
    )
    assert result.significant == (expected <= 0.05)
    assert result.low <= result.difference <= result.high


def test_overlapping_intervals_can_hide_a_real_difference():
    """40 problems: a solves 20, b the same 20 but 8 of them: intervals overlap, the paired test sees it."""
    a, b = _runs([(1, 1)] * 12 + [(1, 0)] * 8 + [(0, 0)] * 20)
    interval_a, interval_b = pass_at_k_ci(list(a.values()), 1), pass_at_k_ci(list(b.values()), 1)
    assert interval_a.low <= interval_b.high and interval_b.low <= interval_a.high  # they overlap
    result = paired_comparison(a, b)
    assert result.significant and result.p_value == pytest.approx(2 / 2**8)
    assert 0 < result.low < 0.2 < result.high
    assert result.describe("qwen", "llama") == (
        "qwen is better than llama at pass@1 by 20.0 points [7.4, 31.4] (95% interval), p = 0.008 "
        "(exact McNemar test on 40 shared problems (8 vs 0 discordant), Newcombe interval)"
    )


def test_none_of_five_against_all_of_five_is_not_yet_significant():
    """The old intervals [0, 0] and [1, 1] were 'apart: a real difference'; 5 vs 0 discordant is p = 1/16."""
    a, b = _runs([(0, 1)] * 5)
    result = paired_comparison(a, b)
    assert result.p_value == pytest.approx(0.0625)
    assert not result.significant
    assert result.low < 0 <= result.high  # the interval agrees with the test
    sentence = result.describe("small", "big")
    assert sentence.startswith("no significant difference between small and big at pass@1: ")
    assert "small - big = -100.0 points" in sentence and "p = 0.06" in sentence
    # One more problem the same way makes it significant: 2 / 2**6 = 0.031.
    a, b = _runs([(0, 1)] * 6)
    assert (
        paired_comparison(a, b)
        .describe("small", "big")
        .startswith("big is better than small at pass@1 by 100.0 points [")
    )


def test_only_shared_problems_count():
    a = {"x": (1, 1), "y": (1, 1), "only_a": (1, 1)}
    b = {"y": (1, 0), "x": (1, 0), "only_b": (1, 0)}
    result = paired_comparison(a, b)
    assert result.problems == 2
    assert (result.a_value, result.b_value) == (1.0, 0.0)
    assert "on 2 shared problems (2 vs 0 discordant)" in result.method


def test_sharing_no_problem_is_a_clear_error():
    with pytest.raises(ValueError, match="share no problem") as caught:
        paired_comparison({"HumanEval/0": (1, 1)}, {"ia_basic/is_prime": (1, 0)})
    assert "same suite" in str(caught.value)
    with pytest.raises(ValueError, match="share no problem"):
        paired_comparison({}, {"a": (1, 1)})


def test_impossible_k_names_the_problem_and_the_run():
    with pytest.raises(ValueError, match="t1 in the second run: pass@5 needs at least 5 samples"):
        paired_comparison({"t0": (5, 1), "t1": (5, 2)}, {"t0": (5, 1), "t1": (3, 2)}, k=5)


def _bootstrap_runs(rng: random.Random, problems: int, samples: int, shift: float) -> tuple[dict, dict]:
    """Two runs of problems of mixed difficulty; a's pass rate is b's plus ``shift`` on every problem."""
    a, b = {}, {}
    for i in range(problems):
        rate = rng.betavariate(0.7, 0.7)
        rate_a = min(1.0, max(0.0, rate + shift))
        a[f"t{i}"] = (samples, sum(rng.random() < rate_a for _ in range(samples)))
        b[f"t{i}"] = (samples, sum(rng.random() < rate for _ in range(samples)))
    return a, b


def test_paired_bootstrap_detects_a_real_difference():
    rng = random.Random(5)
    results = [paired_comparison(*_bootstrap_runs(rng, 30, 4, 0.15), seed=i) for i in range(25)]
    method = "paired bootstrap over 30 shared problems and their samples, 2000 resamples"
    assert all(r.method == method for r in results)
    detected = sum(r.significant and r.difference > 0 for r in results)
    # A 15-point gain on 30 problems x 4 samples: found in 79 of 100 runs when measured over more runs, so
    # 15 of 25 or more here (fewer than 15 has probability 0.8% at 79%). Adding the samples' noise on top
    # of the differences' spread instead of as a floor found it in 56 of those 100.
    assert detected >= 15, detected
    assert not any(r.significant and r.difference < 0 for r in results)


def test_paired_bootstrap_does_not_find_a_difference_that_is_not_there():
    """Same pass rates: at most 5% of runs may be called different (at most 4 of 40 here)."""
    rng = random.Random(6)
    results = [paired_comparison(*_bootstrap_runs(rng, 15, 3, 0.0), seed=i) for i in range(40)]
    false_alarms = sum(r.significant for r in results)
    # A test that really errs 5% of the time exceeds 4 of 40 with probability 0.05; one that errs 15% of
    # the time stays within 4 with probability 0.26. Measured over 400 such runs: 3% (a plain percentile
    # bootstrap of the differences, without the t-widening and the samples' noise: 6%).
    assert false_alarms <= 4, false_alarms
    assert all(r.low <= 0 <= r.high for r in results if not r.significant)


def test_identical_runs_with_several_samples():
    a = {f"t{i}": (5, 3) for i in range(10)}
    result = paired_comparison(a, dict(a))
    assert result.difference == 0 and not result.significant and result.p_value == 1.0
    assert result.low < 0 < result.high  # identical values: the samples' own noise still gives a width


def test_p_value_and_interval_always_agree():
    rng = random.Random(8)
    for trial in range(30):
        problems = rng.randint(2, 12)
        a = {f"t{i}": (3, rng.randint(0, 3)) for i in range(problems)}
        b = {f"t{i}": (3, rng.randint(0, 3)) for i in range(problems)}
        for confidence in (0.8, 0.95):
            result = paired_comparison(a, b, confidence=confidence, seed=trial)
            excludes_zero = result.low > 0 or result.high < 0
            assert result.significant == excludes_zero == (result.p_value <= 1 - confidence), result
            assert result.low <= result.difference <= result.high


def test_one_shared_problem_with_several_samples():
    result = paired_comparison({"t": (10, 9)}, {"t": (10, 1)})
    assert result.problems == 1 and result.difference == pytest.approx(0.8)
    assert not result.significant  # one problem cannot show that one model is better in general
    assert result.low < 0 < result.high
    assert result.method == "exact beta intervals of 1 shared problem, square-and-add"


def test_pass_at_k_comparison_and_describe_format():
    a = {f"t{i}": (5, 4) for i in range(30)}
    b = {f"t{i}": (5, 0 if i % 3 else 1) for i in range(30)}
    result = paired_comparison(a, b, k=2)
    assert isinstance(result, PairedComparison) and result.k == 2
    assert result.significant and result.p_value < 0.001
    sentence = result.describe("A", "B")
    assert sentence.startswith("A is better than B at pass@2 by ")
    assert "p < 0.001 (paired bootstrap over 30 shared problems" in sentence
