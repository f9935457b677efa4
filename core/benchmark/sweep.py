"""Option sweep: the same short prompts under a grid of settings, to find the fastest setup for this machine.

Grid axes are Ollama options (num_ctx, num_thread, num_gpu, num_batch, ...) plus `keep_alive`, which is a
request field rather than an option. Each combination runs `repeat` times over a few problems; the first
request of a combination also pays the (re)load, which is reported apart as load time.
"""

from __future__ import annotations

import csv
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.benchmark import charts
from core.benchmark.generation import Sample, generate_sample
from core.benchmark.metrics import ResourceMonitor, speed_stats
from core.errors import ConfigError
from core.i18n import _
from core.ollama_client import OllamaClient

__all__ = ["SweepPoint", "parse_grid", "recommend", "run_sweep", "write_sweep_report"]

_REQUEST_FIELDS = ("keep_alive",)


@dataclass
class SweepPoint:
    """Measurements of one combination of settings."""

    settings: dict[str, Any]
    samples: list[Sample] = field(default_factory=list)

    def _stats(self, name: str) -> tuple[float | None, float | None]:
        return speed_stats([getattr(s, name) for s in self.samples if s.error is None])

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.error)

    @property
    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.settings.items()) or "defaults"

    def row(self) -> dict[str, Any]:
        ttft, ttft90 = self._stats("ttft_s")
        tps, tps90 = self._stats("gen_tps")
        ptps, _ptps90 = self._stats("prompt_tps")
        load = max((s.load_s for s in self.samples if s.load_s is not None), default=None)
        cpu, _cpu90 = self._stats("cpu_percent")
        _rss_median, rss = self._stats("rss_mb")
        return {
            "settings": self.label,
            "requests": len(self.samples),
            "errors": self.errors,
            "gen_tps_med": tps,
            "gen_tps_p90": tps90,
            "ttft_med": ttft,
            "ttft_p90": ttft90,
            "prompt_tps_med": ptps,
            "load_max_s": load,
            "cpu_med": cpu,
            "rss_p90_mb": rss,
        }


def _parse_value(raw: str) -> Any:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """`["num_ctx=2048,4096", "keep_alive=0,5m"]` -> {"num_ctx": [2048, 4096], "keep_alive": [0, "5m"]}."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        parsed = [_parse_value(v.strip()) for v in values.split(",") if v.strip()]
        if not sep or not key or not parsed:
            raise ConfigError(item, _("a sweep axis is written name=value1,value2 (e.g. num_ctx=2048,4096)"))
        grid[key] = parsed
    return grid


def run_sweep(
    client: OllamaClient,
    model: str,
    problems: list[Any],
    grid: dict[str, list[Any]],
    *,
    style: str = "chat",
    base_options: dict[str, Any] | None = None,
    repeat: int = 1,
    monitor: ResourceMonitor | None = None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> list[SweepPoint]:
    """Measure every combination of the grid (cartesian product); stops early when `cancel` is set."""
    axes = list(grid)
    combos = [dict(zip(axes, values, strict=True)) for values in itertools.product(*grid.values())] or [{}]
    total = len(combos) * len(problems) * repeat
    points: list[SweepPoint] = []
    done = 0
    for combo in combos:
        point = SweepPoint(combo)
        points.append(point)
        options = dict(base_options or {})
        options.update({k: v for k, v in combo.items() if k not in _REQUEST_FIELDS})
        for _repeat in range(repeat):
            for problem in problems:
                if cancel is not None and cancel.is_set():
                    return points
                sample = generate_sample(
                    client,
                    model,
                    problem,
                    style=style,
                    options=options,
                    index=0,
                    monitor=monitor,
                    keep_alive=combo.get("keep_alive"),
                )
                if sample is not None:
                    point.samples.append(sample)
                done += 1
                if on_progress:
                    on_progress(done, total, point.label)
    return points


def recommend(points: list[SweepPoint]) -> SweepPoint | None:
    """The error-free combination with the highest median generation speed (lower TTFT breaks ties)."""
    usable = [p for p in points if p.samples and not p.errors and p.row()["gen_tps_med"] is not None]
    if not usable:
        return None
    return max(usable, key=lambda p: (round(p.row()["gen_tps_med"], 1), -(p.row()["ttft_med"] or 0.0)))


def write_sweep_report(points: list[SweepPoint], model: str, out_dir: Path, name: str) -> list[Path]:
    """`<name>.md`, `<name>.csv` and `<name>.png` (tokens/s per combination, median and p90)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [p.row() for p in points]
    best = recommend(points)
    csv_path = out_dir / f"{name}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["settings"])
        writer.writeheader()
        writer.writerows(rows)
    ordered = sorted(rows, key=lambda r: -(r["gen_tps_med"] or 0.0))
    png = charts.speed_bars(
        [(r["settings"], r["gen_tps_med"], r["gen_tps_p90"]) for r in ordered],
        out_dir / f"{name}.png",
        xlabel="generation tokens/s (bar: median, red tick: p90)",
        title=f"Option sweep for {model}",
    )
    lines = [f"# Option sweep for {model}", ""]
    lines.append(
        f"Recommendation for this machine: **{best.label}**." if best else "No combination ran cleanly."
    )
    lines += ["", f"![{png.stem}]({png.name})", ""]
    header = list(rows[0]) if rows else []
    if header:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _cell in header) + "|")
        for r in ordered:
            cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in r.values()]
            lines.append("| " + " | ".join(cells) + " |")
    md = out_dir / f"{name}.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [md, csv_path, png]
