"""The summary of one run (`summary.json`) as a typed record: pass@k with intervals, per tier and per problem,
failure reasons, speed figures, and what produced it (sandbox level, extraction).

Reports, charts, the leaderboard, `compare`, the CLI and the app read only summaries, so they never need to
re-run anything; they read them as RunSummary, never as loose dicts.

Public API:
    RunSummary (dataclass): identity (run_id, model, digest, backend, backend_version, hosts, style, suite,
        kind, limit, options, options_label, key, n), provenance (sandbox, extraction, created, finished),
        counts (complete, problems, samples, errors, truncated, malformed), pass_at_k {k: Estimate},
        per_tier {tier: Estimate} (pass@1), per_problem {task_id: ProblemScore}, reasons {reason: count},
        speed {field: Spread}, eval_s; properties label, pass1, method, suite_name; counts() -> {task: (n, c)}
        RunSummary.from_dict(data) reads any summary.json, old ones included (missing fields get defaults:
        an interval without a method says "not recorded"); to_dict() is the JSON record.
    ProblemScore(tier, n, passed, entry_point="", reasons={}) with .pass1 and .name (entry point or task id)
    Spread(median, p90)
    summarize(info, problems, samples, results, *, eval_s=None, extraction="") -> RunSummary
    run_label(summary) -> "smollm2:135m (chat)" / "smollm2:135m (chat, first 5)"   # CLI and app alike
    extraction_id() -> str     # fingerprint of the extraction code (core/benchmark/extraction.py)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.benchmark.metrics import speed_stats
from core.benchmark.scoring import Estimate
from core.benchmark.scoring import summarize as score
from core.benchmark.store import RunInfo, options_label

__all__ = [
    "SPEED_FIELDS",
    "ProblemScore",
    "RunSummary",
    "Spread",
    "extraction_id",
    "run_label",
    "summarize",
]

KS = (1, 5, 10, 100)
SPEED_FIELDS = ("ttft_s", "gen_tps", "prompt_tps", "total_s", "load_s", "cpu_percent", "rss_mb", "gpu_mem_mb")
NOT_RECORDED = "not recorded (summary written before methods were)"


def extraction_id() -> str:
    """A fingerprint of the code that turns replies into programs (core/benchmark/extraction.py and the
    samples module that calls it): two runs scored with the same id were extracted the same way."""
    from core.benchmark import extraction, samples

    digest = hashlib.sha256()
    for module in (extraction, samples):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


def _float(value: Any, default: float | None = None) -> float | None:
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any, default: int = 0) -> int:
    try:
        return default if value is None else int(value)
    except (TypeError, ValueError):
        return default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _estimate(data: Any, problems: int, *, value_key: str = "value") -> Estimate | None:
    data = _dict(data)
    value = _float(data.get(value_key))
    if value is None:
        return None
    return Estimate(
        value=value,
        low=_float(data.get("low"), value),
        high=_float(data.get("high"), value),
        problems=_int(data.get("problems"), problems),
        method=str(data.get("method") or NOT_RECORDED),
    )


def _estimate_dict(est: Estimate) -> dict[str, Any]:
    return {
        "value": est.value,
        "low": est.low,
        "high": est.high,
        "problems": est.problems,
        "method": est.method,
    }


@dataclass
class Spread:
    """Median and 90th percentile of a speed figure over samples (None when nothing was measured)."""

    median: float | None = None
    p90: float | None = None


@dataclass
class ProblemScore:
    """One problem of a run: samples generated and passed, and why the others failed."""

    tier: str = ""
    n: int = 0
    passed: int = 0
    entry_point: str = ""
    task_id: str = ""
    reasons: dict[str, int] = field(default_factory=dict)  # failure reason -> samples

    @property
    def pass1(self) -> float | None:
        return self.passed / self.n if self.n else None

    @property
    def name(self) -> str:
        """What a person calls the problem: its entry point (`is_prime`), else its task id."""
        return self.entry_point or self.task_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "n": self.n,
            "passed": self.passed,
            "pass@1": self.pass1,
            "entry_point": self.entry_point,
            "reasons": dict(self.reasons),
        }

    @classmethod
    def from_dict(cls, task_id: str, data: Any) -> ProblemScore:
        data = _dict(data)
        reasons = {str(k): _int(v) for k, v in _dict(data.get("reasons")).items()}
        return cls(
            tier=str(data.get("tier") or ""),
            n=_int(data.get("n")),
            passed=_int(data.get("passed")),
            entry_point=str(data.get("entry_point") or ""),
            task_id=task_id,
            reasons=reasons,
        )


@dataclass
class RunSummary:
    """`summary.json` of one run (see the module docstring)."""

    run_id: str = ""
    model: str = "?"
    digest: str = ""
    backend: str = ""
    backend_version: str = ""
    hosts: list[str] = field(default_factory=list)
    style: str = ""
    suite: str = ""
    kind: str = "code"
    limit: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    options_label: str = ""
    key: str = ""
    n: int = 1
    sandbox: str = ""
    extraction: str = ""  # extraction_id() of the code that extracted the replies ("" for older runs)
    created: str = ""
    finished: str = ""
    complete: bool = True
    problems: int = 0
    samples: int = 0
    errors: int = 0
    truncated: int = 0
    malformed: int = 0  # lines of samples.jsonl that are not samples (kept, not scored)
    pass_at_k: dict[int, Estimate] = field(default_factory=dict)
    per_tier: dict[str, Estimate] = field(default_factory=dict)
    per_problem: dict[str, ProblemScore] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)  # every sample's reason -> count
    speed: dict[str, Spread] = field(default_factory=dict)
    eval_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # fields of the file this version does not know

    # -- reading -----------------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return run_label(self)

    @property
    def pass1(self) -> Estimate | None:
        return self.pass_at_k.get(1)

    @property
    def method(self) -> str:
        """How the pass@1 interval was computed (Estimate.method), for reports."""
        return self.pass1.method if self.pass1 else ""

    @property
    def suite_name(self) -> str:
        """The suite as a person reads it: a file's name without its folder, and `(first N)` for a limit."""
        suite = self.suite
        name = Path(suite).name if "/" in suite or "\\" in suite else suite
        return f"{name} (first {self.limit})" if self.limit else name

    def speed_of(self, name: str) -> Spread:
        return self.speed.get(name) or Spread()

    def counts(self) -> dict[str, tuple[int, int]]:
        """(samples, passed) per problem with samples: the input of a paired comparison."""
        return {task: (p.n, p.passed) for task, p in self.per_problem.items() if p.n}

    # -- the file ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        data.update(
            {
                "run_id": self.run_id,
                "model": self.model,
                "digest": self.digest,
                "backend": self.backend,
                "backend_version": self.backend_version,
                "hosts": list(self.hosts),
                "style": self.style,
                "suite": self.suite,
                "kind": self.kind,
                "limit": self.limit,
                "options": dict(self.options),
                "options_label": self.options_label,
                "key": self.key,
                "n": self.n,
                "sandbox": self.sandbox,
                "extraction": self.extraction,
                "created": self.created,
                "finished": self.finished,
                "complete": self.complete,
                "problems": self.problems,
                "samples": self.samples,
                "errors": self.errors,
                "truncated": self.truncated,
                "malformed": self.malformed,
                "pass_at_k": {str(k): _estimate_dict(est) for k, est in sorted(self.pass_at_k.items())},
                "per_tier": {
                    tier: {
                        "problems": e.problems,
                        "pass@1": e.value,
                        "low": e.low,
                        "high": e.high,
                        "method": e.method,
                    }
                    for tier, e in self.per_tier.items()
                },  # fmt: skip
                "per_problem": {task: p.to_dict() for task, p in self.per_problem.items()},
                "reasons": dict(self.reasons),
                "speed": {name: {"median": s.median, "p90": s.p90} for name, s in self.speed.items()},
                "eval_s": self.eval_s,
            }
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSummary:
        """Any summary.json: missing fields take their defaults, unknown ones are kept in ``extra``."""
        data = dict(data)
        known = set(cls.__dataclass_fields__) - {"extra"}
        problems = _int(data.get("problems"))
        pass_at_k = {}
        for k, entry in _dict(data.get("pass_at_k")).items():
            est = _estimate(entry, problems)
            if est is not None and str(k).isdigit():
                pass_at_k[int(k)] = est
        per_tier = {}
        for tier, entry in _dict(data.get("per_tier")).items():
            est = _estimate(entry, 0, value_key="pass@1")
            if est is not None:
                per_tier[str(tier)] = est
        speed = {
            str(name): Spread(_float(_dict(s).get("median")), _float(_dict(s).get("p90")))
            for name, s in _dict(data.get("speed")).items()
        }
        limit = _int(data.get("limit"), 0) or None
        options = _dict(data.get("options"))
        hosts = data.get("hosts")
        return cls(
            run_id=str(data.get("run_id") or ""),
            model=str(data.get("model") or "?"),
            digest=str(data.get("digest") or ""),
            backend=str(data.get("backend") or ""),
            backend_version=str(data.get("backend_version") or ""),
            hosts=[str(h) for h in hosts] if isinstance(hosts, list) else [],
            style=str(data.get("style") or ""),
            suite=str(data.get("suite") or ""),
            kind=str(data.get("kind") or "code"),
            limit=limit,
            options=options,
            options_label=str(data.get("options_label") or options_label(options)),
            key=str(data.get("key") or ""),
            n=_int(data.get("n"), 1),
            sandbox=str(data.get("sandbox") or ""),
            extraction=str(data.get("extraction") or ""),
            created=str(data.get("created") or ""),
            finished=str(data.get("finished") or ""),
            complete=data.get("complete") is not False,
            problems=problems,
            samples=_int(data.get("samples")),
            errors=_int(data.get("errors")),
            truncated=_int(data.get("truncated")),
            malformed=_int(data.get("malformed")),
            pass_at_k=pass_at_k,
            per_tier=per_tier,
            per_problem={
                str(task): ProblemScore.from_dict(str(task), entry)
                for task, entry in _dict(data.get("per_problem")).items()
            },
            reasons={str(k): _int(v) for k, v in _dict(data.get("reasons")).items()},
            speed=speed,
            eval_s=_float(data.get("eval_s")),
            extra={k: v for k, v in data.items() if k not in known},
        )


def run_label(summary: RunSummary) -> str:
    """`smollm2:135m (chat)`, or `smollm2:135m (chat, first 12)` for a run limited to the first problems; a run
    served through the OpenAI API says so, `smollm2 (chat, openai)`, so that the same GGUF run on Ollama, the
    embedded backend and llama-server stays three rows in every table."""
    limit = f", first {summary.limit}" if summary.limit else ""
    api = f", {summary.backend}" if "openai" in summary.backend.split("+") else ""
    return f"{summary.model} ({summary.style}{limit}{api})"


def summarize(
    info: RunInfo,
    problems: list[Any],
    samples: list[dict[str, Any]],
    results: list[dict[str, Any]],
    *,
    eval_s: float | None = None,
    extraction: str = "",
    malformed: int = 0,
) -> RunSummary:
    """Aggregate one run's samples and results (the scored ones: core.benchmark.evaluate.scored) into its
    summary; pass@k and its intervals come from core.benchmark.scoring."""
    by_id = {p.task_id: p for p in problems}
    scored = score(results, by_id, ks=KS)
    failures: dict[str, Counter[str]] = {}
    for record in results:
        if not record.get("passed"):
            failures.setdefault(str(record["task_id"]), Counter())[
                str(record.get("reason") or "exception")
            ] += 1
    per_problem: dict[str, ProblemScore] = {}
    for problem in problems:
        n, c = scored.per_problem.get(problem.task_id, (0, 0))
        per_problem[problem.task_id] = ProblemScore(
            tier=str(getattr(problem, "tier", "") or ""),
            n=n,
            passed=c,
            entry_point=str(getattr(problem, "entry_point", "") or ""),
            task_id=problem.task_id,
            reasons=dict(failures.get(problem.task_id, {})),
        )
    per_tier = {tier: ests[1] for tier, ests in sorted(scored.tiers.items()) if 1 in ests}
    speed = {}
    for name in SPEED_FIELDS:
        median, p90 = speed_stats([s.get(name) for s in samples if not s.get("error")])
        speed[name] = Spread(median, p90)
    done_reasons = Counter(str(s.get("done_reason")) for s in samples if not s.get("error"))
    return RunSummary(
        run_id=info.run_id,
        model=info.model,
        digest=info.digest,
        backend=info.backend,
        backend_version=info.backend_version,
        hosts=list(info.hosts),
        style=info.style,
        suite=info.suite,
        kind=info.kind,
        limit=info.limit,
        options=dict(info.options),
        options_label=options_label(info.options),
        key=info.key,
        n=info.n,
        sandbox=info.sandbox,
        extraction=extraction,
        created=info.created,
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        complete=len(samples) == len(problems) * info.n and not any(s.get("error") for s in samples),
        problems=len(per_problem),
        samples=len(samples),
        errors=sum(1 for s in samples if s.get("error")),
        truncated=done_reasons.get("length", 0),
        malformed=malformed,
        pass_at_k=dict(scored.overall),
        per_tier=per_tier,
        per_problem=per_problem,
        reasons=dict(Counter(str(r.get("reason") or "exception") for r in results)),
        speed=speed,
        eval_s=eval_s,
    )
