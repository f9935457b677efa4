"""The leaderboard across runs, keyed by model name and digest, backend version, options, style and suite.

Several runs of the same configuration collapse into one entry (the latest), so re-running a model updates
its row instead of adding a duplicate; a different digest, backend version or option set is a new row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.benchmark.store import RunStore, list_runs

__all__ = ["LeaderboardEntry", "build_leaderboard", "load_summaries", "run_label"]


@dataclass
class LeaderboardEntry:
    """One configuration's best-known figures (from its latest complete run)."""

    key: str
    model: str
    digest: str
    backend: str
    backend_version: str
    style: str
    suite: str
    options_label: str
    runs: int
    summary: dict[str, Any]
    run_dir: Path | None = None

    @property
    def pass1(self) -> float | None:
        value = self.summary.get("pass_at_k", {}).get("1", {}).get("value")
        return None if value is None else float(value)

    @property
    def label(self) -> str:
        """Short name for tables and charts."""
        return run_label(self.summary)


def run_label(summary: dict[str, Any]) -> str:
    """`smollm2:135m (chat)`, or `smollm2:135m (chat, first 12)` for a run limited to the first problems."""
    limit = f", first {summary['limit']}" if summary.get("limit") else ""
    return f"{summary.get('model', '?')} ({summary.get('style', '')}{limit})"


def load_summaries(home: Path) -> list[tuple[RunStore, dict[str, Any]]]:
    """(run, summary) for every run that has a readable summary.json, oldest first."""
    found = []
    for store in list_runs(home):
        summary = store.load_summary()
        if summary is not None:
            found.append((store, summary))
    return found


def build_leaderboard(summaries: list[tuple[RunStore | None, dict[str, Any]]]) -> list[LeaderboardEntry]:
    """Collapse runs by key (latest wins) and sort by suite, then pass@1 and generation speed, best first."""
    by_key: dict[str, LeaderboardEntry] = {}
    for store, summary in summaries:
        if (
            summary.get("complete") is False
        ):  # a partial run scored on request is not a configuration's result
            continue
        key = str(summary.get("key", ""))
        previous = by_key.get(key)
        runs = previous.runs + 1 if previous else 1
        if previous and str(previous.summary.get("finished", "")) > str(summary.get("finished", "")):
            previous.runs = runs
            continue
        by_key[key] = LeaderboardEntry(
            key=key,
            model=str(summary.get("model", "?")),
            digest=str(summary.get("digest", "")),
            backend=str(summary.get("backend", "")),
            backend_version=str(summary.get("backend_version", "")),
            style=str(summary.get("style", "")),
            suite=str(summary.get("suite", "")),
            options_label=str(summary.get("options_label", "")),
            runs=runs,
            summary=summary,
            run_dir=store.dir if store else None,
        )

    def order(entry: LeaderboardEntry) -> tuple[str, float, float]:
        tps = entry.summary.get("speed", {}).get("gen_tps", {}).get("median") or 0.0
        return (entry.suite, -(entry.pass1 or 0.0), -float(tps))

    return sorted(by_key.values(), key=order)
