"""The leaderboard across runs, keyed by model name and digest, backend version, options, style and suite.

Several runs of the same configuration collapse into one entry (the latest), so re-running a model updates
its row instead of adding a duplicate; a different digest, backend version or option set is a new row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.benchmark.store import RunStore, list_runs
from core.benchmark.summary import RunSummary, run_label

__all__ = ["LeaderboardEntry", "build_leaderboard", "load_summaries", "run_label"]


@dataclass
class LeaderboardEntry:
    """One configuration's best-known figures (from its latest complete run)."""

    summary: RunSummary
    runs: int
    run_dir: Path | None = None

    @property
    def key(self) -> str:
        return self.summary.key

    @property
    def model(self) -> str:
        return self.summary.model

    @property
    def digest(self) -> str:
        return self.summary.digest

    @property
    def backend(self) -> str:
        return self.summary.backend

    @property
    def backend_version(self) -> str:
        return self.summary.backend_version

    @property
    def style(self) -> str:
        return self.summary.style

    @property
    def suite(self) -> str:
        return self.summary.suite

    @property
    def options_label(self) -> str:
        return self.summary.options_label

    @property
    def pass1(self) -> float | None:
        return self.summary.pass1.value if self.summary.pass1 else None

    @property
    def label(self) -> str:
        """Short name for tables and charts."""
        return run_label(self.summary)


def load_summaries(home: Path) -> list[tuple[RunStore, RunSummary]]:
    """(run, summary) for every run that has a readable summary.json, oldest first."""
    found = []
    for store in list_runs(home):
        summary = store.load_summary()
        if summary is not None:
            found.append((store, summary))
    return found


def build_leaderboard(summaries: list[tuple[RunStore | None, RunSummary]]) -> list[LeaderboardEntry]:
    """Collapse runs by key (latest wins) and sort by suite, then pass@1 and generation speed, best first."""
    by_key: dict[str, LeaderboardEntry] = {}
    for store, summary in summaries:
        if not summary.complete:  # a partial run scored on request is not a configuration's result
            continue
        previous = by_key.get(summary.key)
        runs = previous.runs + 1 if previous else 1
        if previous and previous.summary.finished > summary.finished:
            previous.runs = runs
            continue
        by_key[summary.key] = LeaderboardEntry(summary, runs, store.dir if store else None)

    def order(entry: LeaderboardEntry) -> tuple[str, float, float]:
        tps = entry.summary.speed_of("gen_tps").median or 0.0
        return (entry.suite, -(entry.pass1 or 0.0), -float(tps))

    return sorted(by_key.values(), key=order)
