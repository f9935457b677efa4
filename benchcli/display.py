"""What the benchmark CLI prints: rich consoles, the progress bar, intervals and one-line summaries.

Numbers are written as the interface's locale writes them (core.i18n.format_*): ``50.0 [15.0, 85.0]`` in
English, ``50,0 [15,0, 85,0]`` in French. Files the benchmark writes are not made here and keep their format.
"""

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
from core.i18n import _, format_decimal, format_percent

if TYPE_CHECKING:
    from core.benchmark.summary import RunSummary

__all__ = ["console", "dec", "err_console", "error", "fmt_ci", "pct", "progress", "summary_line"]

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
        TextColumn(_("ETA")),
        TimeRemainingColumn(),
        console=console,
        speed_estimate_period=3600,  # samples can take minutes each: estimate the ETA over the whole run
    )


def dec(value: float | None, digits: int = 1) -> str:
    """A measure in the locale's decimals (``12.3`` / ``12,3``), ``-`` for none."""
    return "-" if value is None else format_decimal(value, digits)


def pct(fraction: float, digits: int = 1) -> str:
    """A fraction as the locale's percentage: ``40.0%`` / ``40,0 %``."""
    return format_percent(fraction, digits)


def fmt_ci(est: Any) -> str:
    """`50.0 [15.0, 85.0]` (points of percentage, the locale's decimals) for an Estimate, `-` for none."""
    if est is None:
        return "-"
    return f"{dec(100 * est.value)} [{dec(100 * est.low)}, {dec(100 * est.high)}]"


def summary_line(summary: RunSummary) -> str:
    """`pass@1 40.0% [11.8, 76.9] (Wilson ...), 42.0 tok/s median (p90 50.0)` or `not scored`."""
    p1 = summary.pass1
    text = _("not scored")
    if p1 is not None:
        text = _("pass@1 {value} [{low}, {high}]").format(
            value=pct(p1.value), low=dec(100 * p1.low), high=dec(100 * p1.high)
        )
        if p1.method:
            text += f" ({p1.method})"
    tps = summary.speed_of("gen_tps")
    if tps.median is not None:
        text += ", " + _("{tps} tok/s median").format(tps=dec(tps.median))
        if tps.p90 is not None:
            text += " " + _("(p90 {tps})").format(tps=dec(tps.p90))
    elif summary.samples > summary.errors:
        text += ", " + _("tok/s not reported (the server sent no token counts)")
    return text
