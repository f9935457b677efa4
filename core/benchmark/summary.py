"""The summary of one run (`summary.json`): pass@k with 95% intervals, per problem and per tier, speed figures.

Reports, charts and the leaderboard read only summaries, so they never need to re-run anything.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from core.benchmark.metrics import speed_stats
from core.benchmark.scoring import summarize as score
from core.benchmark.store import RunInfo, options_label

__all__ = ["SPEED_FIELDS", "summarize"]

KS = (1, 5, 10, 100)
SPEED_FIELDS = ("ttft_s", "gen_tps", "prompt_tps", "total_s", "load_s", "cpu_percent", "rss_mb", "gpu_mem_mb")


def _estimate(est: Any) -> dict[str, float]:
    return {"value": est.value, "low": est.low, "high": est.high}


def summarize(
    info: RunInfo,
    problems: list[Any],
    samples: list[dict[str, Any]],
    results: list[dict[str, Any]],
    *,
    eval_s: float | None = None,
) -> dict[str, Any]:
    """Aggregate one run's samples and results into the summary record (pass@k from core.benchmark.scoring)."""
    scored = score(results, {p.task_id: p for p in problems}, ks=KS)
    per_problem: dict[str, dict[str, Any]] = {}
    for problem in problems:
        n, c = scored.per_problem.get(problem.task_id, (0, 0))
        per_problem[problem.task_id] = {
            "tier": str(getattr(problem, "tier", "") or ""),
            "n": n,
            "passed": c,
            "pass@1": (c / n) if n else None,
        }
    pass_k = {str(k): _estimate(est) for k, est in scored.overall.items()}
    tiers: dict[str, dict[str, Any]] = {}
    for tier, estimates in sorted(scored.tiers.items()):
        if 1 in estimates:
            est = estimates[1]
            tiers[tier] = {"problems": est.problems, "pass@1": est.value, "low": est.low, "high": est.high}
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
        "kind": info.kind,
        "limit": info.limit,
        "options": info.options,
        "options_label": options_label(info.options),
        "key": info.key,
        "n": info.n,
        "sandbox": info.sandbox,
        "created": info.created,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "complete": len(samples) == len(problems) * info.n and not any(s.get("error") for s in samples),
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
