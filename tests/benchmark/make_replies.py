"""Regenerate tests/benchmark/data/replies.jsonl: real replies of the two embedded models (not run by pytest).

The comparison test (tests/benchmark/test_extraction_vs_evalplus.py) scores our extraction against EvalPlus's
sanitizer on these saved replies, so it needs the sandbox but not the models. This script makes them again
through the real pipeline: ``main_benchmark.py run --embedded force`` in a temporary IA_HOME (nothing is
written into the repository's data/), then it keeps the ``raw`` field of every sample.

Runs (the budget of the saved file: about an hour of generation on two free cores; several on a busy machine):
    quick        smollm2:135m, chat, ia_basic, first 5 problems, n=1, temperature 0 (the desktop app's quick
                 run, the one issue #9's finding is about)
    smollm2      chat: ia_basic three times at temperature 0.8 with seeds 1, 2 and 3; humaneval at
                 temperature 0, and at 0.8 with seed 1. Not ``-n 3 --seed 1``: the seed goes with every
                 request, so the three samples of a problem would be the same reply.
    gemma3       complete (a base model: raw completions of the prompt): ia_basic and humaneval at
                 temperature 0

Usage:
    python tests/benchmark/make_replies.py                      # all runs, replaces the data file
    python tests/benchmark/make_replies.py --only quick,smollm2  # some runs; the others' rows are kept
    python tests/benchmark/make_replies.py --out /tmp/replies.jsonl

Each row: task_id, suite, model, style, seed (null when none was given), run (the name above), raw and
done_reason ("length" when the token limit cut the reply, else "stop"; null in rows saved before it was
recorded: the quick and smollm2 runs of the saved file). Rows whose generation failed (the sample's ``error``
is set) are left out and counted on stderr. With temperature 0, or a seed, a run gives the same replies again
(checked: the quick run and gemma3's ia_basic run came out identical).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "replies.jsonl"

# One llama.cpp thread: on a machine whose cores are busy with other work, threads that wait for each other
# drop generation to about 1 token/s; one thread keeps the full speed of a core (the replies are the same).
THREADS = ["--option", "num_thread=1"]

# name -> (model, style, suite, extra arguments for `main_benchmark.py run`)
RUNS: dict[str, list[tuple[str, str, str, list[str]]]] = {
    "quick": [("smollm2:135m", "chat", "ia_basic", ["--limit", "5"])],
    "smollm2": [
        *(
            ("smollm2:135m", "chat", "ia_basic", ["--temperature", "0.8", "--seed", str(seed)])
            for seed in (1, 2, 3)
        ),
        ("smollm2:135m", "chat", "humaneval", []),
        ("smollm2:135m", "chat", "humaneval", ["--temperature", "0.8", "--seed", "1"]),
    ],
    "gemma3": [
        ("gemma3:270m", "complete", "ia_basic", []),
        ("gemma3:270m", "complete", "humaneval", []),
    ],
}


def _seed(extra: list[str]) -> int | None:
    return int(extra[extra.index("--seed") + 1]) if "--seed" in extra else None


def generate(model: str, style: str, suite: str, extra: list[str]) -> list[dict]:
    """Run the real pipeline in a fresh IA_HOME and return the samples it saved."""
    with tempfile.TemporaryDirectory(prefix="ia-replies-") as home:
        command = [sys.executable, str(ROOT / "main_benchmark.py"), "run", "--embedded", "force"]
        command += ["--model", model, "--suite", suite, "--style", style, *THREADS, *extra]
        print("$", " ".join(command), file=sys.stderr, flush=True)
        subprocess.run(command, cwd=ROOT, env=dict(os.environ, IA_HOME=home), check=True)
        found = sorted(Path(home, "data", "generated").glob("*/*/samples.jsonl"))
        if len(found) != 1:
            raise SystemExit(f"expected one samples.jsonl under {home}/data/generated, found {len(found)}")
        with found[0].open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]


def _rows(name: str, model: str, style: str, suite: str, extra: list[str]) -> list[dict]:
    samples = generate(model, style, suite, extra)
    failed = [sample for sample in samples if sample.get("error")]
    if failed:
        print(f"{name} {model} {suite}: {len(failed)} sample(s) without a reply left out", file=sys.stderr)
    return [
        {
            "task_id": sample["task_id"],
            "suite": suite,
            "model": model,
            "style": style,
            "seed": _seed(extra),
            "run": name,
            "raw": sample["raw"],
            "done_reason": sample.get("done_reason"),
        }
        for sample in samples
        if not sample.get("error")
    ]


def _order(row: dict) -> tuple:
    number = row["task_id"].rpartition("/")[2]
    return (list(RUNS).index(row["run"]), row["model"], row["suite"], row["seed"] or 0, int(number))


def _save(path: Path, rows: list[dict]) -> None:
    """Write the rows (sorted: run, model, suite, seed, problem) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as handle:
        for row in sorted(rows, key=_order):
            handle.write(json.dumps(row, ensure_ascii=True) + "\n")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", default=",".join(RUNS), help=f"comma-separated runs among {', '.join(RUNS)}"
    )
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(RUNS))
    if unknown:
        parser.error(f"unknown run(s) {', '.join(unknown)}; choose among {', '.join(RUNS)}")
    rows = []
    if args.out.exists():  # rows of the runs not regenerated stay
        with args.out.open(encoding="utf-8") as handle:
            rows = [row for row in map(json.loads, filter(str.strip, handle)) if row["run"] not in chosen]
    for name in chosen:
        for model, style, suite, extra in RUNS[name]:
            rows += _rows(name, model, style, suite, extra)
            _save(args.out, rows)  # after each run: an interrupted regeneration keeps what it made
    print(f"{len(rows)} replies written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
