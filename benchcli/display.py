"""What the benchmark CLI prints: rich consoles, the progress bar, intervals and one-line summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from core.benchmark.records import printable

if TYPE_CHECKING:
    from core.benchmark.summary import RunSummary

__all__ = ["console", "err_console", "error", "fmt_ci", "progress", "summary_line"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def error(message: object, style: str = "red") -> None:
    """Print a message as plain text (error messages may contain brackets rich would read as markup)."""
    err_console.print(printable(message), style=style, markup=False)


def progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        speed_estimate_period=3600,  # samples can take minutes each: estimate the ETA over the whole run
    )


def fmt_ci(est: Any) -> str:
    """`50.0 [15.0, 85.0]` for an Estimate, `-` for none."""
    if est is None:
        return "-"
    return f"{100 * est.value:.1f} [{100 * est.low:.1f}, {100 * est.high:.1f}]"


def summary_line(summary: RunSummary) -> str:
    """`pass@1 40.0% [11.8, 76.9] (Wilson ...), 42.0 tok/s median (p90 50.0)` or `not scored`."""
    p1 = summary.pass1
    text = "not scored"
    if p1 is not None:
        text = f"pass@1 {100 * p1.value:.1f}% [{100 * p1.low:.1f}, {100 * p1.high:.1f}]"
        if p1.method:
            text += f" ({p1.method})"
    tps = summary.speed_of("gen_tps")
    if tps.median is not None:
        text += f", {tps.median:.1f} tok/s median" + ("" if tps.p90 is None else f" (p90 {tps.p90:.1f})")
    elif summary.samples > summary.errors:
        text += ", tok/s not reported (the server sent no token counts)"
    return text
