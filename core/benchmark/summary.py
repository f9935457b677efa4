"""The summary of one run (`summary.json`): pass@k with 95% intervals, per problem and per tier, speed figures.

Reports, charts and the leaderboard read only summaries, so they never need to re-run anything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from core.benchmark.metrics import speed_stats
from core.benchmark.scoring import pass_at_k, pass_at_k_interval
from core.benchmark.store import RunInfo, options_label

__all__ = ["SPEED_FIELDS", "summarize"]

SPEED_FIELDS = ("ttft_s", "gen_tps", "prompt_tps", "total_s", "load_s", "cpu_percent", "rss_mb", "gpu_mem_mb")


def _ks(n: int) -> list[int]:
    return [k for k in (1, 5, 10, 100) if k <= n]


def _tier(problem: Any) -> str:
    return str(getattr(problem, "tier", "") or "")


def summarize(
    info: RunInfo,
    problems: list[Any],
    samples: list[dict[str, Any]],
    results: list[dict[str, Any]],
    *,
    eval_s: float | None = None,
) -> dict[str, Any]:
    """Aggregate one run's samples and results into the summary record."""
    passed: dict[str, list[bool]] = defaultdict(list)
    for res in results:
        passed[str(res["task_id"])].append(bool(res.get("passed")))
    per_problem: dict[str, dict[str, Any]] = {}
    for problem in problems:
        flags = passed.get(problem.task_id, [])
        per_problem[problem.task_id] = {
            "tier": _tier(problem),
            "n": len(flags),
            "passed": sum(flags),
            "pass@1": (sum(flags) / len(flags)) if flags else None,
        }
    counts = [(v["n"], v["passed"]) for v in per_problem.values() if v["n"]]
    pass_k: dict[str, dict[str, float]] = {}
    for k in _ks(min((n for n, _ in counts), default=0)):
        low, high = pass_at_k_interval(counts, k)
        value = sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)
        pass_k[str(k)] = {"value": value, "low": low, "high": high}
    tiers: dict[str, dict[str, Any]] = {}
    by_tier: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for entry in per_problem.values():
        if entry["n"]:
            by_tier[entry["tier"] or "all"].append((entry["n"], entry["passed"]))
    for tier, tier_counts in sorted(by_tier.items()):
        low, high = pass_at_k_interval(tier_counts, 1)
        tiers[tier] = {
            "problems": len(tier_counts),
            "pass@1": sum(pass_at_k(n, c, 1) for n, c in tier_counts) / len(tier_counts),
            "low": low,
            "high": high,
        }
    speed = {}
    for name in SPEED_FIELDS:
        median, p90 = speed_stats([s.get(name) for s in samples if not s.get("error")])
        speed[name] = {"median": median, "p90": p90}
    done_reasons = Counter(str(s.get("done_reason")) for s in samples if not s.get("error"))
    return {
        "run_id": info.run_id,
        "model": info.model,
        "digest": info.digest,
        "backend": info.backend,
        "backend_version": info.backend_version,
        "hosts": info.hosts,
        "style": info.style,
        "suite": info.suite,
        "options": info.options,
        "options_label": options_label(info.options),
        "key": info.key,
        "n": info.n,
        "sandbox": info.sandbox,
        "created": info.created,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "problems": len(per_problem),
        "samples": len(samples),
        "errors": sum(1 for s in samples if s.get("error")),
        "truncated": done_reasons.get("length", 0),
        "pass_at_k": pass_k,
        "per_tier": tiers,
        "per_problem": per_problem,
        "speed": speed,
        "eval_s": eval_s,
    }
