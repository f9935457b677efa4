"""Run a benchmark: generate samples on one or more hosts (one work queue), then evaluate and summarise.

Each finished sample is appended to `samples.jsonl` at once, so Ctrl-C (`cancel()`) or a crash loses at most
the samples in flight, and `resume` carries on without redoing finished ones. A vision suite (`multimodal`, or
a file of vision problems) needs a model with the vision capability, checked before anything is written; its
answers are scored exactly, without the sandbox.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.benchmark.evaluate import EXACT_SCORING, is_vision_suite
from core.benchmark.generation import (
    STYLES,
    Sample,
    build_request,
    completion_file,
    generate_sample,
    sample_file,
)
from core.benchmark.metrics import ResourceMonitor, find_server_pid
from core.benchmark.problems import Problem, load_suite
from core.benchmark.records import write_lines as write_jsonl
from core.benchmark.store import RunInfo, RunStore, SampleWriter, find_run, run_key, safe_name, write_json
from core.benchmark.summary import RunSummary
from core.errors import (
    BenchmarkError,
    CapabilityMissing,
    IAError,
    ModelNotFound,
    NotSupported,
    ServerUnreachable,
)
from core.i18n import _
from core.ollama_client import ChatStream, OllamaClient

__all__ = [
    "DEFAULT_OPTIONS",
    "RunOutcome",
    "RunSpec",
    "BenchmarkRun",
    "evaluate_run",
    "check_vision",
    "load_suite_problems",
    "needs_vision",
]

log = logging.getLogger("ia.benchmark")
BENCHMARK_SESSION = "benchmark:"  # how a benchmark sample's DEV record names its session

# Bounded output by default: small models can loop until the context is full; 256 tokens hold a
# HumanEval-size function with room to spare (raise it with --num-predict).
DEFAULT_OPTIONS: dict[str, Any] = {"num_predict": 256}


@dataclass
class RunSpec:
    """What to run: one model, one suite, one style, n samples per problem with these Ollama options."""

    model: str
    suite: str = (
        "ia_basic"  # built-in suite name or a problems file (HumanEval or vision JSONL, plain or .gz)
    )
    style: str = "chat"
    n: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None  # first N problems only
    timeout: float = 5.0  # seconds per sample in the sandbox
    workers: int = 1  # concurrent requests per host

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise BenchmarkError(
                _("Unknown style '{style}': use one of {choices}.").format(
                    style=self.style, choices=", ".join(STYLES)
                )
            )
        if self.n < 1:
            raise BenchmarkError(_("-n must be at least 1 sample per problem."))
        if self.workers < 1:
            raise BenchmarkError(_("--workers must be at least 1."))


@dataclass
class RunOutcome:
    """How a run ended: `complete`, `interrupted` (cancelled; resumable) or `failed` (error says why)."""

    store: RunStore
    info: RunInfo
    status: str
    generated: int  # samples generated in this invocation
    total: int  # samples the run needs
    summary: RunSummary | None = None
    error: IAError | None = None


Progress = Callable[[int, int, Sample | None], None]


def load_suite_problems(suite: str, limit: int | None = None) -> list[Any]:
    """Problems of a built-in suite or a problems file (HumanEval or vision JSONL, plain or .gz), the first
    `limit` of them: `Problem`s, or `VisionProblem`s for the multimodal suite."""
    problems = list(load_suite(suite).values())
    return problems[:limit] if limit else problems


def needs_vision(model: str, capabilities: list[str]) -> CapabilityMissing:
    """The error for a vision suite on a model without the vision capability."""
    error = CapabilityMissing(model, "vision")
    error.message = _(
        "Model '{model}' cannot see images (its capabilities: {capabilities}), and the multimodal "
        "suite asks questions about images: it needs a vision model, e.g. llava (ollama pull llava:7b)."
    ).format(model=model, capabilities=", ".join(capabilities))
    error.args = (error.message,)
    return error


def check_vision(client: OllamaClient, model: str) -> None:
    """Refuse a model that says it has no vision (/api/show capabilities); an empty list (older servers) passes."""
    capabilities = list(client.show(model).capabilities or [])
    if capabilities and "vision" not in capabilities:
        raise needs_vision(model, capabilities)


def _normalise(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _model_digest(client: OllamaClient, model: str) -> str:
    """The model's digest on that server ("" when it gives none, as OpenAI-compatible servers do);
    ModelNotFound when the server lists its models and this one is not among them."""
    wanted = _normalise(model)
    try:
        models = client.list_models()
    except NotSupported:  # an OpenAI-compatible server without a model list: its replies will tell
        return ""
    for info in models:
        if _normalise(info.name) == wanted:
            return info.digest or ""
    raise ModelNotFound(model)


class BenchmarkRun:
    """Generates the missing samples of one run across hosts, then evaluates them."""

    def __init__(
        self,
        spec: RunSpec,
        clients: list[OllamaClient],
        home: Path,
        *,
        backend: str = "ollama",
        resume: str | None = None,
        run_id: str | None = None,
        on_progress: Progress | None = None,
    ) -> None:
        if not clients:
            raise BenchmarkError(_("No host to run the benchmark on."))
        self.spec = spec
        self.clients = clients
        self.home = Path(home)
        self.backend = backend
        self.on_progress = on_progress
        self._cancel = threading.Event()
        self._streams: set[ChatStream] = set()
        self._lock = threading.Lock()
        self.problems = load_suite_problems(spec.suite, spec.limit)
        if not self.problems:
            raise BenchmarkError(_("The suite '{suite}' has no problems.").format(suite=spec.suite))
        self.kind = "vision" if is_vision_suite(self.problems) else "code"
        if self.kind == "vision" and spec.style != "chat":
            raise BenchmarkError(
                _(
                    "The suite '{suite}' asks questions about images in chat messages: use --style chat "
                    "(not {style})."
                ).format(suite=spec.suite, style=spec.style)
            )
        self.store, self.info = self._open(resume, run_id)
        from config import Settings
        from core.devlog import DevLog

        self._devlog = DevLog(Settings(home=self.home))

    @classmethod
    def resume(cls, ref: str, clients: list[OllamaClient], home: Path, **kwargs: Any) -> BenchmarkRun:
        """Continue a run by its id or folder: the stored model, suite, style and options win."""
        info = find_run(home, ref).load_info()
        spec = RunSpec(
            model=info.model,
            suite=info.suite,
            style=info.style,
            n=info.n,
            options=info.options,
            limit=info.limit,
            timeout=info.timeout,
            workers=kwargs.pop("workers", 1),
        )
        return cls(spec, clients, home, resume=ref, **kwargs)

    def _open(self, resume: str | None, run_id: str | None) -> tuple[RunStore, RunInfo]:
        client = self.clients[0]
        digest = _model_digest(client, self.spec.model)
        if self.kind == "vision":
            check_vision(client, self.spec.model)
        version = client.version()
        self._check_other_hosts(digest)
        if resume:
            store = find_run(self.home, resume)
            info = store.load_info()
            if info.digest and digest and info.digest != digest:
                raise BenchmarkError(
                    _(
                        "The model '{model}' changed since run {run} (digest {old} -> {new}): start a new run "
                        "instead of resuming."
                    ).format(model=info.model, run=info.run_id, old=info.digest[:12], new=digest[:12])
                )
            info.hosts = [c.host for c in self.clients]
            return store, info
        spec = self.spec
        key = run_key(spec.model, digest, version, spec.options, spec.style, spec.suite, spec.limit)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        info = RunInfo(
            run_id=run_id or f"{stamp}-{self.spec.style}-{key[:6]}",
            model=self.spec.model,
            digest=digest,
            backend_version=version,
            backend=self.backend,
            hosts=[c.host for c in self.clients],
            style=self.spec.style,
            suite=self.spec.suite,
            n=self.spec.n,
            options=dict(self.spec.options),
            limit=self.spec.limit,
            timeout=self.spec.timeout,
            key=key,
            problems=len(self.problems),
            kind=self.kind,
        )
        base_id, suffix = info.run_id, 1
        while True:
            try:
                return RunStore.create(self.home, info), info
            except FileExistsError:  # two runs of one configuration in the same second
                suffix += 1
                info.run_id = f"{base_id}-{suffix}"

    def _check_other_hosts(self, digest: str) -> None:
        """Every host must serve the same build of the model, or the samples would mix two models."""
        for other in self.clients[1:]:
            try:
                theirs = _model_digest(other, self.spec.model)
            except ServerUnreachable:
                continue  # its worker will find out and leave the work to the others
            if digest and theirs and theirs != digest:
                raise BenchmarkError(
                    _(
                        "{host} has another build of '{model}' (digest {theirs}, not {ours}): pull the same "
                        "version everywhere or drop that host."
                    ).format(host=other.host, model=self.spec.model, theirs=theirs[:12], ours=digest[:12])
                )

    # -- control -----------------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop cleanly: in-flight requests are closed, finished samples stay on disk. Thread-safe."""
        self._cancel.set()
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _track(self, previous: list[ChatStream | None]) -> Callable[[ChatStream | None], None]:
        def on_stream(stream: ChatStream | None) -> None:
            with self._lock:
                if previous[0] is not None:
                    self._streams.discard(previous[0])
                previous[0] = stream
                if stream is not None:
                    self._streams.add(stream)
                    if self._cancel.is_set():
                        stream.cancel()

        return on_stream

    # -- generation --------------------------------------------------------------------------------------
    def pending(self) -> list[tuple[Any, int]]:
        """(problem, sample index) pairs not yet generated successfully."""
        done = {
            (s["task_id"], int(s.get("sample_index", 0)))
            for s in self.store.load_samples()
            if not s.get("error")
        }
        return [(p, i) for p in self.problems for i in range(self.spec.n) if (p.task_id, i) not in done]

    def execute(self) -> RunOutcome:
        """Generate what is missing, then evaluate; Ctrl-C in the calling thread is handled as `cancel()`."""
        todo = self.pending()
        total = len(self.problems) * self.spec.n
        work: queue.Queue[tuple[Any, int]] = queue.Queue()
        for item in todo:
            work.put(item)
        writer = SampleWriter(self.store)
        self.info.status = "running"
        self.store.save_info(self.info)
        state = _State(done=total - len(todo), total=total, initial=total - len(todo))
        monitors = [ResourceMonitor(find_server_pid(c.host)).start() for c in self.clients]
        threads = [
            threading.Thread(
                target=self._worker, args=(c, m, work, writer, state), name=f"bench-{c.host}", daemon=True
            )
            for c, m in zip(self.clients, monitors, strict=True)
            for _worker in range(self.spec.workers)
        ]
        if self.on_progress:
            self.on_progress(state.done, total, None)
        try:
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.2)
        except KeyboardInterrupt:
            self.cancel()
            for t in threads:
                t.join()
        finally:
            for m in monitors:
                m.stop()
        return self._finish(state)

    def _worker(
        self,
        client: OllamaClient,
        monitor: ResourceMonitor,
        work: queue.Queue,
        writer: SampleWriter,
        state: _State,
    ) -> None:
        current: list[ChatStream | None] = [None]
        on_stream = self._track(current)
        while not self._cancel.is_set():
            try:
                problem, index = work.get_nowait()
            except queue.Empty:
                return
            try:
                sample = generate_sample(
                    client,
                    self.spec.model,
                    problem,
                    style=self.spec.style,
                    options=self.spec.options,
                    index=index,
                    monitor=monitor,
                    on_stream=on_stream,
                )
            except ServerUnreachable as exc:
                work.put((problem, index))  # another host may take it
                state.host_failed(client.host, exc, len(self.clients))
                if state.all_hosts_failed:
                    self._cancel.set()
                return
            except IAError as exc:  # ModelNotFound and any other failure that makes the run pointless
                state.fatal = state.fatal or exc
                self.cancel()
                return
            if sample is None:  # cancelled mid-stream: not recorded, resume will redo it
                return
            folder, suffix, text = sample_file(problem, sample)
            writer.write(sample.to_dict(), text, folder=folder, suffix=suffix)
            self._dev_record(problem, sample)
            with self._lock:
                state.done += 1
                done = state.done
            if self.on_progress:
                self.on_progress(done, state.total, sample)

    def _dev_record(self, problem: Any, sample: Sample) -> None:
        """One DEV record per generated sample in data/dev_responses.jsonl/.log, as a chat writes one,
        labelled as a benchmark's by its session: ``benchmark:<run id>/<task id>#<sample index>``."""
        from core.devlog import DevRecord

        kind, payload, _options = build_request(problem, sample.style, self.spec.options)
        prompt = payload if kind == "generate" else "".join(str(m.get("content", "")) for m in payload)
        record = DevRecord(
            time=datetime.now(UTC).isoformat(timespec="milliseconds"),
            session=f"{BENCHMARK_SESSION}{self.info.run_id}/{sample.task_id}#{sample.sample_index}",
            model=sample.model,
            host=sample.host,
            options=dict(self.spec.options),
            prompt_chars=len(prompt),
            reply_chars=len(sample.raw),
            ttft_s=sample.ttft_s,
            total_s=sample.total_s,
            eval_count=sample.eval_count,
            gen_tps=sample.gen_tps,
            prompt_tps=sample.prompt_tps,
            load_s=sample.load_s,
            done_reason=sample.done_reason,
            error=sample.error,
        )
        try:
            self._devlog.record(record)
        except (OSError, IAError) as exc:  # a DEV record must never stop a run
            log.warning("dev record not written: %s", exc)

    def _finish(self, state: _State) -> RunOutcome:
        generated = state.done - state.initial
        missing = len(self.pending())
        if state.fatal is not None or (state.all_hosts_failed and missing):
            self.info.status = "interrupted"
            self.store.save_info(self.info)
            error = state.fatal or state.host_errors[-1]
            return RunOutcome(self.store, self.info, "failed", generated, state.total, error=error)
        if missing:
            self.info.status = "interrupted"
            self.store.save_info(self.info)
            return RunOutcome(self.store, self.info, "interrupted", generated, state.total)
        self.info.status = "generated"
        self.store.save_info(self.info)
        try:
            summary = evaluate_run(self.store, self.problems)
        except IAError as exc:  # e.g. no sandbox here: the samples are safe, score them later with `report`
            return RunOutcome(self.store, self.store.load_info(), "failed", generated, state.total, error=exc)
        self.info = self.store.load_info()
        self.info.status = "complete"
        self.store.save_info(self.info)
        return RunOutcome(self.store, self.info, "complete", generated, state.total, summary=summary)


@dataclass
class _State:
    done: int
    total: int
    initial: int
    fatal: IAError | None = None
    host_errors: list[IAError] = field(default_factory=list)
    failed_hosts: set[str] = field(default_factory=set)
    hosts: int = 0

    def host_failed(self, host: str, exc: IAError, hosts: int) -> None:
        self.failed_hosts.add(host)
        self.host_errors.append(exc)
        self.hosts = hosts

    @property
    def all_hosts_failed(self) -> bool:
        return bool(self.hosts) and len(self.failed_hosts) >= self.hosts


def _sandbox_level() -> str:
    """The isolation level generated code runs under here (stated in every report)."""
    from core.benchmark.sandbox import Sandbox
    from core.errors import SandboxUnavailable

    try:
        return Sandbox.detect().level
    except SandboxUnavailable as exc:
        return f"unavailable ({exc.reason})"


def evaluate_run(store: RunStore, problems: list[Problem] | None = None, *, workers: int = 2) -> RunSummary:
    """Score a run from its saved replies: write results.jsonl and summary.json; returns the summary.

    Every sample's `raw` reply goes through the extraction `run` uses (core.benchmark.samples.extract_reply,
    the same function `evaluate` applies to a raw row), so scoring again after an extraction fix re-extracts
    old runs; a sample whose completion changes gets it (and its code/ file) rewritten. Code runs in the
    sandbox; vision answers are compared with the known ones (no sandbox). samples.jsonl is first compacted
    (one line per sample, the last record winning, problem order) so it is a clean HumanEval samples file
    that the reference harness can score too; lines that are not samples are kept after them, and each
    becomes a result that says so. The summary records the sandbox level and the extraction (extraction_id).
    """
    from core.benchmark.evaluate import evaluate_samples, scored
    from core.benchmark.samples import extract_reply, was_cut
    from core.benchmark.summary import extraction_id, summarize

    info = store.load_info()
    if problems is None:
        problems = load_suite_problems(info.suite, info.limit)
    by_id = {p.task_id: p for p in problems}
    order = {task_id: i for i, task_id in enumerate(by_id)}
    rows, malformed = store.load_sample_rows()
    samples = [s for s in rows if s["task_id"] in by_id]
    samples.sort(key=lambda s: (order[s["task_id"]], int(s.get("sample_index", 0))))
    others = [s for s in rows if s["task_id"] not in by_id]  # kept; scored as "not in the problem set"
    if not samples:
        raise BenchmarkError(_("Run {run} has no samples to score yet.").format(run=info.run_id))
    for sample in samples:
        raw = sample.get("raw")
        if sample.get("error") or not isinstance(raw, str):
            continue
        problem = by_id[sample["task_id"]]
        style = str(sample.get("style") or info.style)
        completion = extract_reply(problem, raw, style, cut=was_cut(sample.get("done_reason"))).completion
        if completion != sample.get("completion"):
            sample["completion"] = completion
            _rewrite_sample_file(store, problem, sample)
    write_jsonl(store.samples, samples + others, tail=[m.text for m in malformed])
    vision = is_vision_suite(problems)
    info.kind = "vision" if vision else "code"
    # The level that actually scores these samples, shown in every report.
    info.sandbox = EXACT_SCORING if vision else _sandbox_level()
    store.save_info(info)
    started = time.monotonic()
    evaluate_samples(
        by_id, store.samples, workers=workers, timeout=info.timeout, out_path=store.results, prefer="raw"
    )
    results = store.load_results()
    summary = summarize(
        info,
        problems,
        samples,
        [r for r in scored(results) if r.get("task_id") in by_id],
        eval_s=time.monotonic() - started,
        extraction=extraction_id(),
        malformed=len(others) + len(malformed),
    )
    write_json(store.summary, summary.to_dict())
    if summary.complete and info.status != "complete":
        info.status = "complete"
        store.save_info(info)
    return summary


def _rewrite_sample_file(store: RunStore, problem: Any, sample: dict[str, Any]) -> None:
    """The sample's code/ (or answers/) file after its completion changed, where `run` saved it."""
    from core.benchmark.records import write_text

    folder, suffix, text = completion_file(problem, str(sample["completion"]))
    name = sample.get("code_file")
    if not isinstance(name, str) or not name.startswith(f"{folder}/") or ".." in name:
        name = f"{folder}/{safe_name(str(sample['task_id']))}_{int(sample.get('sample_index', 0))}{suffix}"
        sample["code_file"] = name
    write_text(store.dir / name, text)
