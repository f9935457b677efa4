"""pass@k (unbiased estimator of Chen et al., 2021) with a 95% confidence interval, per problem and per tier.

Public API:
    pass_at_k(n: int, c: int, k: int) -> float            # 1 - C(n-c, k) / C(n, k), stable product form
    pass_at_k_ci(counts: Sequence[tuple[int, int]], k, *, confidence=0.95, resamples=2000, seed=0)
        -> Estimate(value, low, high, problems)           # percentile bootstrap over problems
    wilson_interval(successes, total, confidence=0.95) -> (low, high)
    counts_by_problem(results: Iterable[dict]) -> dict[task_id, (n, c)]     # results: {"task_id", "passed"}
    summarize(results, problems=None, ks=(1, 10, 100)) -> Summary           # overall + per tier, k <= n only
The interval: the benchmark's problems are a sample of possible problems, so we resample problems with
replacement (seeded, reproducible) and take the 2.5th and 97.5th percentiles of the mean pass@k. With one
problem (or none) the interval collapses to the estimate.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

__all__ = [
    "Estimate",
    "Summary",
    "counts_by_problem",
    "pass_at_k",
    "pass_at_k_ci",
    "summarize",
    "wilson_interval",
]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c of them correct) passes."""
    if not 0 <= c <= n or k < 1 or n < 1:
        raise ValueError(f"pass@k needs 0 <= c <= n, n >= 1 and k >= 1 (got n={n}, c={c}, k={k})")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem (got {n})")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


@dataclass(frozen=True)
class Estimate:
    """Mean pass@k over problems with its confidence interval."""

    value: float
    low: float
    high: float
    problems: int


def pass_at_k_ci(
    counts: Sequence[tuple[int, int]],
    k: int,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """Mean pass@k over problems ((n, c) each) with a percentile-bootstrap interval over problems."""
    scores = [pass_at_k(n, c, k) for n, c in counts]
    if not scores:
        raise ValueError("pass@k needs at least one problem with results")
    mean = sum(scores) / len(scores)
    if len(scores) == 1:
        return Estimate(mean, mean, mean, 1)
    rng = random.Random(seed)
    size = len(scores)
    means = sorted(sum(rng.choices(scores, k=size)) / size for _ in range(resamples))
    tail = (1.0 - confidence) / 2
    low = means[int(tail * (resamples - 1))]
    high = means[int(round((1.0 - tail) * (resamples - 1)))]
    return Estimate(mean, min(low, mean), max(high, mean), size)


def wilson_interval(successes: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (pass@1 with one sample per problem)."""
    if total <= 0 or not 0 <= successes <= total:
        raise ValueError(f"need 0 <= successes <= total and total > 0 (got {successes}/{total})")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * ((p * (1 - p) / total + z * z / (4 * total * total)) ** 0.5) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return low, high


def counts_by_problem(results: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """(samples, passed samples) per task_id, in first-seen order."""
    counts: dict[str, list[int]] = {}
    for record in results:
        entry = counts.setdefault(record["task_id"], [0, 0])
        entry[0] += 1
        entry[1] += bool(record["passed"])
    return {task: (n, c) for task, (n, c) in counts.items()}


@dataclass
class Summary:
    """pass@k overall and per tier; ``per_problem`` holds (n, c) per task."""

    overall: dict[int, Estimate] = field(default_factory=dict)
    tiers: dict[str, dict[int, Estimate]] = field(default_factory=dict)
    per_problem: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``pass@k`` keys)."""
        return {
            "overall": {f"pass@{k}": asdict(est) for k, est in self.overall.items()},
            "tiers": {
                tier: {f"pass@{k}": asdict(est) for k, est in ests.items()}
                for tier, ests in self.tiers.items()
            },
            "per_problem": {task: {"n": n, "c": c} for task, (n, c) in self.per_problem.items()},
        }


def _estimates(counts: list[tuple[int, int]], ks: Sequence[int]) -> dict[int, Estimate]:
    smallest = min(n for n, _ in counts)
    return {k: pass_at_k_ci(counts, k) for k in ks if k <= smallest}


def summarize(
    results: Iterable[Mapping[str, Any]],
    problems: Mapping[str, Any] | None = None,
    ks: Sequence[int] = (1, 10, 100),
) -> Summary:
    """pass@k for every k not larger than the fewest samples of any problem, overall and per tier."""
    per_problem = counts_by_problem(results)
    summary = Summary(per_problem=per_problem)
    if not per_problem:
        return summary
    summary.overall = _estimates(list(per_problem.values()), ks)
    if problems:
        by_tier: dict[str, list[tuple[int, int]]] = {}
        for task, counts in per_problem.items():
            tier = getattr(problems.get(task), "tier", "") or ""
            if tier:
                by_tier.setdefault(tier, []).append(counts)
        summary.tiers = {tier: _estimates(counts, ks) for tier, counts in by_tier.items()}
    return summary
