"""Statistics per model from the DEV-mode records (`IA_HOME/data/dev_responses.jsonl`): a table and a PNG chart.

Per model: requests, errors, median and p90 time to first token, median and p90 generation tokens/s, median
total time. Lines that cannot be read are reported by number and skipped; the file is never modified.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from core.benchmark.charts import model_speed_panels
from core.benchmark.metrics import speed_stats
from core.benchmark.store import read_jsonl

__all__ = ["ModelStats", "load_records", "main", "model_stats"]


@dataclass
class ModelStats:
    """Aggregated DEV records of one model."""

    model: str
    count: int
    errors: int
    ttft_median: float | None
    ttft_p90: float | None
    tps_median: float | None
    tps_p90: float | None
    total_median: float | None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def load_records(path: Path) -> tuple[list[dict[str, Any]], list[int], int]:
    """The usable records, the numbers of lines that are not JSON objects, and how many records lack a model."""
    records, bad = read_jsonl(path)
    kept = [rec for rec in records if rec.get("model")]
    return kept, bad, len(records) - len(kept)


def model_stats(records: list[dict[str, Any]]) -> list[ModelStats]:
    """One ModelStats per model, most used first. Failed requests count as errors and not in the speeds."""
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_model[str(rec["model"])].append(rec)
    out = []
    for model, recs in by_model.items():
        ok = [r for r in recs if not r.get("error")]
        ttft = speed_stats([_float(r.get("ttft_s")) for r in ok])
        tps = speed_stats([_float(r.get("gen_tps")) for r in ok])
        total = speed_stats([_float(r.get("total_s")) for r in ok])
        out.append(ModelStats(model, len(recs), len(recs) - len(ok), *ttft, *tps, total[0]))
    return sorted(out, key=lambda s: (-s.count, s.model))


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    from config import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="records file (default: IA_HOME/data/dev_responses.jsonl)")
    parser.add_argument(
        "--chart", type=Path, help="PNG to write (default: IA_HOME/data/benchmarks/dev_logs_<time>.png)"
    )
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    settings = load_settings({})
    path = args.file or settings.data_dir / "dev_responses.jsonl"
    if not path.exists():
        console.print(
            f"No DEV records at {path}: turn DEV mode on (IA_DEV=1 or /dev in the CLI) and chat first.",
            markup=False,
        )
        return 1
    records, bad, no_model = load_records(path)
    if bad:
        lines = ", ".join(str(b) for b in bad)
        console.print(f"Skipped unreadable line(s) of {path}: {lines}.", style="yellow", markup=False)
    if no_model:
        console.print(f"Skipped {no_model} record(s) without a model name.", style="yellow", markup=False)
    stats = model_stats(records)
    table = Table(title=f"DEV records per model ({len(records)} requests, {path})")
    for col in (
        "Model",
        "Requests",
        "Errors",
        "TTFT med s",
        "TTFT p90 s",
        "tok/s med",
        "tok/s p90",
        "total med s",
    ):
        table.add_column(col, justify="left" if col == "Model" else "right")
    for s in stats:
        table.add_row(s.model, str(s.count), str(s.errors), _fmt(s.ttft_median), _fmt(s.ttft_p90),
                      _fmt(s.tps_median, 1), _fmt(s.tps_p90, 1), _fmt(s.total_median))  # fmt: skip
    console.print(table)
    if not args.no_chart and stats:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        chart = args.chart or settings.data_dir / "benchmarks" / f"dev_logs_{stamp}.png"
        rows = [(s.model, s.ttft_median, s.ttft_p90, s.tps_median, s.tps_p90) for s in stats]
        model_speed_panels(rows, chart, title=f"DEV records: speed per model ({len(records)} requests)")
        console.print(f"Chart: {chart}", markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
