"""A set of prompts across models with a speed table: time, status, CPU % and RAM % while answering.

`python tools/benchmark_responses.py --models smollm2:135m,gemma3:270m [--prompts FILE]` (default: every
installed model and a built-in prompt set). The table is printed and written to IA_HOME/data/benchmarks/
as Markdown and CSV.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.benchmark.metrics import ResourceMonitor, find_server_pid
from core.benchmark.store import reports_dir
from core.errors import IAError, ModelNotFound, ServerUnreachable, exit_code
from core.ollama_client import OllamaClient

__all__ = ["DEFAULT_PROMPTS", "ResponseRow", "load_prompts", "main", "run_prompts"]

DEFAULT_PROMPTS = [
    "Say hello in one short sentence.",
    "Write a Python function that returns the factorial of n.",
    "Explain in two sentences what a hash table is.",
    "List three prime numbers greater than 50.",
    "Translate 'good morning' into French and Spanish.",
]


@dataclass
class ResponseRow:
    """One prompt sent to one model."""

    model: str
    prompt: str
    status: str  # ok | length (hit num_predict) | error text
    time_s: float
    ttft_s: float | None
    gen_tps: float | None
    reply_chars: int
    cpu_percent: float | None
    ram_percent: float | None


def load_prompts(path: Path | None) -> list[str]:
    """Prompts from a file (one per line; blank lines and lines starting with # are skipped) or the defaults."""
    if path is None:
        return list(DEFAULT_PROMPTS)
    text = path.read_text(encoding="utf-8")
    prompts = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not prompts:
        raise IAError(f"No prompt in {path}: write one prompt per line.")
    return prompts


def run_prompts(
    client: OllamaClient, models: list[str], prompts: list[str], options: dict, monitor: ResourceMonitor
) -> list[ResponseRow]:
    """Every prompt to every model in turn; a failed request becomes a row with its error as status."""
    rows = []
    for model in models:
        for prompt in prompts:
            start = time.monotonic()
            stream = client.chat_stream(model, [{"role": "user", "content": prompt}], options=options)
            status = "ok"
            try:
                with stream:
                    for _ in stream:
                        pass
            except (ServerUnreachable, ModelNotFound):
                raise
            except IAError as exc:
                status = f"error: {exc}"
            end = time.monotonic()
            usage = monitor.usage(start, end)
            stats = stream.stats
            if stats is not None and stats.done_reason == "length":
                status = "length"
            rows.append(
                ResponseRow(
                    model,
                    prompt,
                    status,
                    round(end - start, 3),
                    stats.ttft_s if stats else None,
                    stats.gen_tps if stats else None,
                    len(stream.text),
                    usage.cpu_percent,
                    usage.ram_percent,
                )  # fmt: skip
            )
    return rows


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _write(rows: list[ResponseRow], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"responses_{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    csv_path = stem.with_suffix(".csv")
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ResponseRow.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    md = stem.with_suffix(".md")
    lines = ["# Responses across models", "", "| Model | Prompt | Status | Time s | TTFT s | tok/s | CPU % | RAM % |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        prompt = r.prompt.replace("|", "\\|")[:60]
        lines.append(f"| {r.model} | {prompt} | {r.status.replace('|', '/')} | {r.time_s:.2f} | {_fmt(r.ttft_s)} | "
                     f"{_fmt(r.gen_tps, 1)} | {_fmt(r.cpu_percent, 0)} | {_fmt(r.ram_percent, 1)} |")  # fmt: skip
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [md, csv_path]


def main(argv: list[str] | None = None) -> int:
    from config import load_settings
    from core.backend import connect

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated model names (default: every installed model)")
    parser.add_argument("--prompts", type=Path, help="file with one prompt per line")
    parser.add_argument("--num-predict", type=int, default=128, help="max tokens per reply (default 128)")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--embedded", choices=("auto", "force", "off"))
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    try:
        prompts = load_prompts(args.prompts)
        settings = load_settings({"embedded": args.embedded} if args.embedded else {})
        backend = connect(settings)
    except (IAError, OSError) as exc:
        console.print(str(exc), style="red", markup=False)
        return exit_code(exc)
    try:
        console.print(backend.note, markup=False)
        client = backend.client
        models = [m.strip() for m in (args.models or "").split(",") if m.strip()] or [
            m.name for m in client.list_models()
        ]
        options = {"num_predict": args.num_predict, "temperature": args.temperature}
        with ResourceMonitor(find_server_pid(client.host)) as monitor:
            rows = run_prompts(client, models, prompts, options, monitor)
    except IAError as exc:
        console.print(str(exc), style="red", markup=False)
        return exit_code(exc)
    finally:
        backend.close()
    table = Table(title=f"{len(prompts)} prompt(s) x {len(models)} model(s)")
    for col in ("Model", "Prompt", "Status", "Time s", "TTFT s", "tok/s", "CPU %", "RAM %"):
        table.add_column(col)
    for r in rows:
        table.add_row(escape(r.model), escape(r.prompt[:40]), escape(r.status[:40]), f"{r.time_s:.2f}", _fmt(r.ttft_s), _fmt(r.gen_tps, 1),
                      _fmt(r.cpu_percent, 0), _fmt(r.ram_percent, 1))  # fmt: skip
    console.print(table)
    for path in _write(rows, reports_dir(settings.home)):
        console.print(f"  {path}", markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
