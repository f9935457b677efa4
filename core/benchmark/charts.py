"""PNG charts of benchmark summaries (matplotlib, Agg backend: no display needed).

`speed_vs_pass`: correctness (pass@1 with its 95% interval) against generation speed, one point per model.
`pass_map`: which problems each model solved, as a problem-by-model grid coloured by the share of samples
that passed. `speed_bars`: median and p90 of a speed figure per configuration (used by the sweep).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402

from core.benchmark.records import printable  # noqa: E402

__all__ = ["model_speed_panels", "pass_map", "speed_bars", "speed_vs_pass"]

if TYPE_CHECKING:
    from core.benchmark.summary import RunSummary

Labelled = list[tuple[str, "RunSummary"]]  # (label, summary)
_CMAP = LinearSegmentedColormap.from_list("pass", ["#d7301f", "#fdd49e", "#1a9850"])
_COLORS = plt.get_cmap("tab10")


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return path


def speed_vs_pass(runs: Labelled, path: Path, title: str = "Correctness against speed") -> Path:
    """Scatter of pass@1 (y, with 95% interval) against median generation tokens/s (x, p90 as a whisker)."""
    fig, ax = plt.subplots(figsize=(9, 6))
    points = []  # (x, y, label, color)
    right = 1.0
    for i, (label, summary) in enumerate(runs):
        p1 = summary.pass1
        tps = summary.speed_of("gen_tps")
        if not p1 or tps.median is None:
            continue
        x, y = float(tps.median), 100 * float(p1.value)
        yerr = [[y - 100 * float(p1.low)], [100 * float(p1.high) - y]]
        xerr = [[0.0], [max(0.0, float(tps.p90 or x) - x)]]
        right = max(right, float(tps.p90 or x))
        color = _COLORS(i % 10)
        ax.errorbar(
            x, y, yerr=yerr, xerr=xerr, fmt="o", markersize=9, capsize=5, color=color, label=printable(label)
        )
        points.append((x, y, printable(label), color))
    # Labels go above their points, pushed apart vertically (>= 7 points of pass@1) so close scores stay readable.
    label_y = 200.0
    for x, y, label, color in sorted(points, key=lambda p: -p[1]):
        label_y = min(y + 8, label_y - 7)
        ax.annotate(label, (x, y), xytext=(x + right * 0.04, label_y), textcoords="data", fontsize=10, color=color,
                    va="center", arrowprops={"arrowstyle": "-", "color": color, "lw": 0.8})  # fmt: skip
    plotted = len(points)
    low = min([label_y - 5, -5]) if points else -5
    ax.set_xlabel("Generation speed (tokens/s, median; whisker to p90)", fontsize=11)
    ax.set_ylabel("pass@1 (%) with 95% interval", fontsize=11)
    ax.set_ylim(low, 105)
    ax.set_xlim(0, right * 1.3)  # room for the labels right of the points
    ax.grid(True, alpha=0.3)
    ax.set_title(title if plotted else f"{title} (no scored run yet)", fontsize=13)
    if plotted:
        ax.legend(loc="best", fontsize=9, framealpha=0.9)
    return _save(fig, path)


def pass_map(runs: Labelled, path: Path, title: str = "Problems solved per model") -> Path:
    """Grid problem x model; each cell shows passed/n and is coloured red (none) to green (all). Problems
    are named by their entry point with their suite id beside it."""
    problems: list[str] = []
    names: dict[str, str] = {}
    for _, summary in runs:
        for task_id, score in summary.per_problem.items():
            if task_id not in names:
                problems.append(task_id)
                name = f"{score.name} ({task_id})" if score.name != task_id else task_id
                names[task_id] = printable(name)
    rows, cols = max(1, len(problems)), max(1, len(runs))
    width = min(4 + 1.6 * cols, 24)
    height = min(2 + 0.32 * rows, 60)
    fig, ax = plt.subplots(figsize=(width, height))
    grid = [[float("nan")] * cols for _ in range(rows)]
    for c, (_, summary) in enumerate(runs):
        per = summary.per_problem
        for r, task_id in enumerate(problems):
            entry = per.get(task_id)
            if entry and entry.n:
                grid[r][c] = entry.passed / entry.n
                ax.text(
                    c,
                    r,
                    f"{entry.passed}/{entry.n}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black",
                )
    ax.set_facecolor("#d9d9d9")  # problems a run did not cover (e.g. --limit) stay grey
    for c, (_, summary) in enumerate(runs):
        per = summary.per_problem
        for r, task_id in enumerate(problems):
            entry = per.get(task_id)
            if not (entry and entry.n):
                ax.text(c, r, "not run", ha="center", va="center", fontsize=7, color="#666666")
    image = ax.imshow(grid, cmap=_CMAP, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xticks(
        range(len(runs)), [printable(label) for label, _ in runs], rotation=20, ha="right", fontsize=9
    )
    ax.set_yticks(range(len(problems)), [names[t] for t in problems], fontsize=8)
    ax.set_xticks([x - 0.5 for x in range(1, cols)], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, rows)], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title(title if problems else f"{title} (no scored run yet)", fontsize=13)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="share of samples passing")
    return _save(fig, path)


def speed_bars(
    rows: list[tuple[str, float | None, float | None]], path: Path, *, xlabel: str, title: str
) -> Path:
    """Horizontal bars of the median with a p90 marker, one row per configuration (best first as given)."""
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.45 * len(rows) + 1.5)))
    labels = [label for label, _, _ in rows]
    medians = [m or 0.0 for _, m, _ in rows]
    ax.barh(range(len(rows)), medians, color="#4c78a8", label="median")
    for i, (_, median, p90) in enumerate(rows):
        if p90 is not None:
            ax.plot([p90], [i], marker="|", markersize=18, color="#e45756", label="p90" if i == 0 else None)
        if median is not None:
            ax.text(median, i, f" {median:.2f}", va="center", fontsize=9)
    ax.set_yticks(range(len(rows)), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_title(title, fontsize=13)
    ax.grid(True, axis="x", alpha=0.3)
    if rows:
        ax.legend(loc="lower right", fontsize=9)
    return _save(fig, path)


def model_speed_panels(
    rows: list[tuple[str, float | None, float | None, float | None, float | None]], path: Path, *, title: str
) -> Path:
    """Two panels per model: time to first token and generation tokens/s (bar: median, tick: p90)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, max(2.8, 0.5 * len(rows) + 1.6)), sharey=True)
    labels = [r[0] for r in rows]
    panels = (
        (axes[0], [r[1] for r in rows], [r[2] for r in rows], "time to first token (s)", "#f58518"),
        (axes[1], [r[3] for r in rows], [r[4] for r in rows], "generation tokens/s", "#4c78a8"),
    )
    for ax, medians, p90s, xlabel, color in panels:
        ax.barh(range(len(rows)), [m or 0.0 for m in medians], color=color, label="median")
        for i, (median, p90) in enumerate(zip(medians, p90s, strict=True)):
            if p90 is not None:
                ax.plot(
                    [p90], [i], marker="|", markersize=18, color="#333333", label="p90" if i == 0 else None
                )
            if median is not None:
                ax.text(median, i, f" {median:.2f}", va="center", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=11)
        ax.grid(True, axis="x", alpha=0.3)
        if rows:
            ax.legend(loc="lower right", fontsize=9)
    axes[0].set_yticks(range(len(rows)), labels, fontsize=10)
    axes[0].invert_yaxis()
    fig.suptitle(title if rows else f"{title} (no data)", fontsize=13)
    return _save(fig, path)
