"""Run folders written on disk the way older versions of IA_V3 wrote them (before results carried `reason`
and `code` and summaries carried methods, entry points and the extraction), for rescore and reading tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.benchmark.problems import Problem

__all__ = ["write_old_run"]


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record) + "\n"


def write_old_run(
    home: Path,
    problems: list[Problem],
    replies: list[str],
    completions: list[str],
    passed: list[bool],
    *,
    model: str = "smollm2:135m",
    run_id: str = "20260101-120000-chat-0a1b2c",
    suite: str = "ia_basic",
    limit: int | None = None,
    style: str = "chat",
) -> Path:
    """A complete old run: one sample per problem with its reply, the completion an older extraction made,
    and that version's results and summary. Returns the run folder."""
    run_dir = home / "data" / "generated" / model.replace(":", "_") / run_id
    (run_dir / "code").mkdir(parents=True)
    options = {"num_predict": 256, "temperature": 0.0}
    info = {
        "run_id": run_id, "model": model, "digest": "d" * 64, "backend_version": "0.12.0", "backend": "ollama",
        "hosts": ["http://127.0.0.1:11434"], "style": style, "suite": suite, "n": 1, "options": options,
        "limit": limit, "timeout": 5.0, "key": "k" * 16, "created": "2026-01-01T12:00:00+00:00",
        "status": "complete", "problems": len(problems), "sandbox": "bwrap", "kind": "code",
    }  # fmt: skip
    (run_dir / "run.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    samples, results = [], []
    for problem, reply, completion, ok in zip(problems, replies, completions, passed, strict=True):
        name = f"code/{problem.task_id.replace('/', '_')}_0.py"
        (run_dir / name).write_text(problem.prompt + completion, encoding="utf-8")
        sample = {
            "task_id": problem.task_id, "completion": completion, "sample_index": 0, "model": model,
            "style": style, "host": "http://127.0.0.1:11434", "raw": reply, "ttft_s": 0.2, "gen_tps": 40.0,
            "prompt_tps": 300.0, "load_s": 0.01, "total_s": 1.5, "done_reason": "stop", "eval_count": 60,
            "prompt_eval_count": 90, "error": None, "code_file": name, "created": 1767268800.0,
        }  # fmt: skip
        samples.append(sample)
        results.append(
            dict(
                sample,
                passed=ok,
                result="passed" if ok else "failed: AssertionError",
                duration_s=0.05,
                isolation="bwrap",
            )  # fmt: skip
        )
    (run_dir / "samples.jsonl").write_text("".join(_line(s) for s in samples), encoding="utf-8")
    (run_dir / "results.jsonl").write_text("".join(_line(r) for r in results), encoding="utf-8")
    count = sum(passed)
    value = count / len(problems)
    summary = {
        "run_id": run_id, "model": model, "digest": "d" * 64, "backend": "ollama", "backend_version": "0.12.0",
        "hosts": info["hosts"], "style": style, "suite": suite, "kind": "code", "limit": limit,
        "options": options, "options_label": "num_predict=256 temperature=0.0", "key": "k" * 16, "n": 1,
        "sandbox": "bwrap", "created": info["created"], "finished": "2026-01-01T12:01:00+00:00",
        "complete": True, "problems": len(problems), "samples": len(problems), "errors": 0, "truncated": 0,
        "pass_at_k": {"1": {"value": value, "low": value, "high": value}},
        "per_tier": {},
        "per_problem": {
            p.task_id: {"tier": p.tier, "n": 1, "passed": int(ok), "pass@1": float(ok)}
            for p, ok in zip(problems, passed, strict=True)
        },
        "speed": {"gen_tps": {"median": 40.0, "p90": 40.0}, "ttft_s": {"median": 0.2, "p90": 0.2}},
        "eval_s": 0.4,
    }  # fmt: skip
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return run_dir
