"""ScriptedEngine: the embedded server's engine driven by scripts, for tests that need exact replies or faults.

The server in front of it is the real one (core.embedded.app), so every fault reaches the client exactly as
the Ollama protocol would carry it: an HTTP error before the first chunk, a mid-stream {"error"} line, a
malformed line, a stall, or a dropped connection. Pulls (from `registry` or queued PullScripts) and deletes
change the models it serves, as on a real Ollama.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from core.embedded.engine import (
    Done,
    Drop,
    EngineError,
    ErrorLine,
    Event,
    LoadedModel,
    MalformedLine,
    ModelCard,
    Piece,
    Progress,
    PullEvent,
    SeenRequest,
)
from core.embedded.protocol import expires_at
from core.embedded.scripted_pull import (
    MANIFEST_MISSING,
    Layer,
    PullRecord,
    PullScript,
    default_layers,
    layer_digest,
)

__all__ = [
    "Delay",
    "Drop",
    "ErrorBefore",
    "ErrorLine",
    "GenerationRecord",
    "Layer",
    "MalformedLine",
    "PullRecord",
    "PullScript",
    "Script",
    "ScriptedEngine",
    "Stall",
    "Think",
    "scripted_model",
]


@dataclass(frozen=True)
class Think:
    """A thinking delta (sent as message.thinking; dropped when the request has think=false)."""

    text: str


@dataclass(frozen=True)
class Delay:
    """Wait `seconds` before the next step (a slow model)."""

    seconds: float


@dataclass(frozen=True)
class Stall:
    """Stop sending for `seconds` (a stuck model); the connection stays open."""

    seconds: float


@dataclass(frozen=True)
class ErrorBefore:
    """Fail with an HTTP error. As the first step it is a real status; after a chunk, an {"error"} line."""

    status: int
    message: str


Step = str | Think | Delay | Stall | ErrorBefore | ErrorLine | MalformedLine | Drop


@dataclass
class Script:
    """One reply: the steps in order, then a done chunk (unless a fault step ended the stream)."""

    steps: Sequence[Step] = ()
    done_reason: str = "stop"
    prompt_eval_count: int | None = None  # None: count the words of the prompt
    load_duration_ns: int = 0


def scripted_model(
    name: str,
    *,
    capabilities: Sequence[str] = ("completion",),
    context_length: int = 4096,
    family: str = "scripted",
    parameter_size: str = "1M",
    size: int = 1_000_000,
    template: str = "{{ .Prompt }}",
) -> ModelCard:
    """A model card for the scripted engine."""
    full = name if ":" in name else f"{name}:latest"
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()
    return ModelCard(
        name=full,
        path="",
        size=size,
        digest=digest,
        modified_at=datetime(2026, 1, 1, tzinfo=UTC),
        family=family,
        parameter_size=parameter_size,
        quantization_level="Q4_0",
        capabilities=list(capabilities),
        context_length=context_length,
        template=template,
        parameters={"stop": ["<|end|>"]},
        model_info={"general.architecture": family, f"{family}.context_length": context_length},
    )


def _default_models() -> list[ModelCard]:
    return [
        scripted_model("smollm2:135m"),
        scripted_model("gemma3:270m", family="gemma3"),
        scripted_model("thinker:latest", capabilities=("completion", "thinking")),
        scripted_model("vision:latest", capabilities=("completion", "vision")),
    ]


def _default_registry() -> list[ModelCard]:
    return [
        scripted_model("llama3.2:1b", family="llama", parameter_size="1.2B", size=1_321_098_329),
        scripted_model("tinyllama:latest", family="llama", parameter_size="1B", size=637_700_138),
    ]


def _full_name(name: str) -> str:
    return name.lower() if ":" in name else f"{name.lower()}:latest"


@dataclass
class GenerationRecord:
    """What one chat/generate call was asked and did, for assertions."""

    model: str
    options: dict[str, Any] = field(default_factory=dict)  # as the server handed them to the engine
    messages: list[dict[str, Any]] | None = None  # chat: the messages; generate: None
    prompt: str = ""  # generate: the prompt (chat: the messages' text)
    raw: bool = False
    think: bool = False
    format: str | dict[str, Any] | None = None
    stopped_by_cancel: bool = False
    finished: bool = False
    pieces: int = 0  # text and thinking pieces handed to the server
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None


@dataclass
class ScriptedEngine:
    """Replies from queued scripts (or `default_reply`); records requests and how generations ended.

    Pulls use queued PullScripts, else the default layers of a `registry` (or already served) model; any other
    name fails as Ollama's does. `can_pull=False` makes the server refuse pulls with its 501.
    `backend` is what the server says it is in its x-ia-backend header: None (no header) by default, so a
    scripted server stands in for Ollama exactly; "embedded" makes it pass for IA_V3's embedded backend.
    """

    models: list[ModelCard] = field(default_factory=_default_models)
    default_reply: Sequence[Step] = ("Hello", " from", " the", " scripted", " engine", ".")
    requests: list[SeenRequest] = field(default_factory=list)
    generations: list[GenerationRecord] = field(default_factory=list)
    registry: list[ModelCard] = field(default_factory=_default_registry)
    pulls: list[PullRecord] = field(default_factory=list)
    can_pull: bool = True
    backend: str | None = None
    count_delay_s: float = 0.0  # how long count_tokens takes (a slow tokenizer: the app must not wait for it)

    def __post_init__(self) -> None:
        self._pull_scripts: deque[PullScript] = deque()
        self._scripts: deque[Script] = deque()
        self._loaded: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    # --- scripting -----------------------------------------------------------------------------------

    def enqueue(self, *scripts: Script | Sequence[Step]) -> None:
        """Queue replies, used in order by the next chat/generate calls."""
        with self._lock:
            for script in scripts:
                self._scripts.append(script if isinstance(script, Script) else Script(list(script)))

    def enqueue_pull(self, *scripts: PullScript | Sequence[Any]) -> None:
        """Queue pull scripts, used in order by the next pulls whatever model they name."""
        with self._lock:
            for script in scripts:
                self._pull_scripts.append(
                    script if isinstance(script, PullScript) else PullScript(list(script))
                )

    def wait_pull_end(self, timeout: float = 10.0) -> PullRecord:
        """Block until the latest pull has ended (success, error or the client leaving); returns its record."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                record = self.pulls[-1] if self.pulls else None
                if record is not None and record.ended is not None:
                    return record
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no scripted pull ended in time")
                self._changed.wait(remaining)

    def set_models(self, *cards: ModelCard) -> None:
        """Replace the served models."""
        with self._lock:
            self.models = list(cards)

    def bodies(self, path: str) -> list[Any]:
        """Bodies of the requests received on `path`, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path == path]

    @property
    def last_generation(self) -> GenerationRecord | None:
        with self._lock:
            return self.generations[-1] if self.generations else None

    def wait_ended(self, count: int = 1, timeout: float = 10.0) -> list[GenerationRecord]:
        """Block until at least `count` generations have ended; returns the ended ones in start order."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                ended = [g for g in self.generations if g.ended is not None]
                if len(ended) >= count:
                    return ended
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"only {len(ended)} of {count} scripted generations ended in time")
                self._changed.wait(remaining)

    def wait_generation_end(self, timeout: float = 10.0) -> GenerationRecord:
        """Block until the latest generation has ended (finished or stopped); returns its record."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                gen = self.generations[-1] if self.generations else None
                if gen is not None and (gen.finished or gen.stopped_by_cancel):
                    return gen
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no scripted generation ended in time")
                self._changed.wait(remaining)

    # --- Engine protocol -----------------------------------------------------------------------------

    def observe(self, request: SeenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def list_models(self) -> list[ModelCard]:
        with self._lock:
            return list(self.models)

    def find(self, name: str) -> ModelCard | None:
        wanted = name.lower() if ":" in name else f"{name.lower()}:latest"
        with self._lock:
            return next((card for card in self.models if card.name.lower() == wanted), None)

    def loaded(self) -> list[LoadedModel]:
        now = datetime.now(UTC)
        with self._lock:
            return [item for item in self._loaded.values() if item.expires_at > now]

    def load(self, name: str, options: dict[str, Any], keep_alive_s: float | None) -> int:
        card = self.find(name)
        if card is None:
            raise EngineError(404, f"model '{name}' not found")
        with self._lock:
            fresh = name not in self._loaded
            ctx = int(options.get("num_ctx") or card.context_length or 4096)
            self._loaded[name] = LoadedModel(card, expires_at(keep_alive_s), ctx, card.size)
        return 1_000_000 if fresh else 0

    def unload(self, name: str) -> None:
        with self._lock:
            self._loaded.pop(name, None)

    def delete(self, name: str) -> None:
        card = self.find(name)
        if card is None:
            raise EngineError(404, f"model '{name}' not found")
        with self._lock:
            self.models = [c for c in self.models if c.name != card.name]
            self._loaded.pop(card.name, None)

    def pull(self, name: str, cancel: threading.Event) -> Iterator[PullEvent]:
        full = _full_name(name)
        with self._lock:
            script = self._pull_scripts.popleft() if self._pull_scripts else None
            known = next((c for c in [*self.models, *self.registry] if c.name.lower() == full), None)
            record = PullRecord(model=full)
            self.pulls.append(record)
        if script is None and known is not None:
            script = PullScript(default_layers(known), card=known)
        return self._pull_lines(full, script, record, cancel)

    # --- pull playback -------------------------------------------------------------------------------

    def _pull_lines(
        self, name: str, script: PullScript | None, record: PullRecord, cancel: threading.Event
    ) -> Iterator[PullEvent]:
        try:
            record.lines += 1
            yield Progress("pulling manifest")
            if script is None:
                record.lines += 1
                yield ErrorLine(MANIFEST_MISSING)
                return
            present = self.find(name) is not None
            for index, step in enumerate(script.steps):
                if cancel.is_set():
                    return
                if isinstance(step, Delay | Stall):
                    cancel.wait(step.seconds)
                    continue
                if isinstance(step, Layer):
                    events: Iterable[PullEvent] = self._layer_lines(name, index, step, present, cancel)
                else:  # a bare status line, or a fault written at the protocol level
                    events = [Progress(step) if isinstance(step, str) else step]
                for event in events:
                    if cancel.is_set():
                        return
                    record.lines += 1
                    yield event
                    if isinstance(event, ErrorLine | Drop):
                        return
            if cancel.is_set():
                return
            tail = ["verifying sha256 digest", "writing manifest"]
            for status in [*tail, "removing unused layers"] if script.prune else tail:
                record.lines += 1
                yield Progress(status)
            self._install(script.card or scripted_model(name))
            record.finished = True
            record.lines += 1
            yield Progress("success")
        finally:
            with self._changed:
                record.ended = time.monotonic()
                record.stopped_by_cancel = cancel.is_set() and not record.finished
                self._changed.notify_all()

    @staticmethod
    def _layer_lines(
        name: str, index: int, layer: Layer, present: bool, cancel: threading.Event
    ) -> Iterator[Progress]:
        digest = layer.digest or layer_digest(name, index)
        status = f"pulling {digest[:12]}"
        if present:  # an already-present blob: one line with completed == total
            yield Progress(status, f"sha256:{digest}", layer.size, layer.size)
            return
        parts = max(1, layer.parts)
        for part in range(1, parts + 1):
            if layer.pace and cancel.wait(layer.pace):
                return
            yield Progress(status, f"sha256:{digest}", layer.size, layer.size * part // parts)

    def _install(self, card: ModelCard) -> None:
        fresh = replace(card, modified_at=datetime.now(UTC))
        with self._lock:
            self.models = [c for c in self.models if c.name != card.name] + [fresh]

    def count_tokens(self, name: str, messages: list[dict[str, Any]]) -> int:
        """The words of the messages, as a scripted reply's prompt_eval_count counts them."""
        if self.find(name) is None:
            raise EngineError(404, f"model '{name}' not found")
        if self.count_delay_s:
            time.sleep(self.count_delay_s)
        return len(" ".join(str(m.get("content", "")) for m in messages).split())

    def chat(
        self,
        name: str,
        messages: list[dict[str, Any]],
        options: dict[str, Any],
        cancel: threading.Event,
        *,
        think: bool = False,
        keep_alive_s: float | None = None,
        format: str | dict[str, Any] | None = None,
    ) -> Iterator[Event]:
        prompt = " ".join(str(m.get("content", "")) for m in messages)
        asked = {"messages": messages, "format": format}
        return self._play(name, prompt, options, cancel, think, keep_alive_s, asked=asked)

    def generate(
        self,
        name: str,
        prompt: str,
        options: dict[str, Any],
        cancel: threading.Event,
        *,
        raw: bool = False,
        system: str = "",
        think: bool = False,
        keep_alive_s: float | None = None,
        format: str | dict[str, Any] | None = None,
        context: list[int] | None = None,
    ) -> Iterator[Event]:
        # Non-raw replies carry a `context`: the given one, then one made-up token per prompt word and piece.
        given = None if raw else tuple(context or ())
        asked = {"raw": raw, "format": format}
        return self._play(
            name, f"{system} {prompt}".strip(), options, cancel, think, keep_alive_s, given, asked
        )

    # --- playback ------------------------------------------------------------------------------------

    def _next_script(self) -> Script:
        with self._lock:
            return self._scripts.popleft() if self._scripts else Script(list(self.default_reply))

    def _play(
        self,
        name: str,
        prompt: str,
        options: dict[str, Any],
        cancel: threading.Event,
        think: bool,
        keep_alive_s: float | None,
        context: tuple[int, ...] | None = None,
        asked: dict[str, Any] | None = None,
    ) -> Iterator[Event]:
        script = self._next_script()
        steps = list(script.steps)
        if steps and isinstance(steps[0], ErrorBefore):  # raised before the generator starts: a real status
            raise EngineError(steps[0].status, steps[0].message)
        load_ns = self.load(name, options, keep_alive_s) or script.load_duration_ns
        record = GenerationRecord(
            model=name, options=dict(options), prompt=prompt, think=think, **(asked or {})
        )
        with self._lock:
            self.generations.append(record)
        return self._steps(record, steps, script, prompt, options, cancel, think, load_ns, context)

    def _steps(
        self,
        record: GenerationRecord,
        steps: list[Step],
        script: Script,
        prompt: str,
        options: dict[str, Any],
        cancel: threading.Event,
        think: bool,
        load_ns: int,
        context: tuple[int, ...] | None = None,
    ) -> Iterator[Event]:
        limit = int(options.get("num_predict", -1))
        started = time.perf_counter_ns()
        first_at: int | None = None
        produced = 0
        reason = script.done_reason
        try:
            for step in steps:
                if cancel.is_set():
                    break
                if isinstance(step, Delay | Stall):
                    cancel.wait(step.seconds)
                    continue
                if isinstance(step, ErrorBefore):
                    yield ErrorLine(step.message)
                    return
                if isinstance(step, Think):
                    if think:
                        first_at = first_at or time.perf_counter_ns()
                        record.pieces += 1
                        yield Piece(step.text, thinking=True)
                    continue
                if isinstance(step, str):
                    if 0 < limit <= produced:  # only a positive num_predict limits, as in Ollama
                        reason = "length"
                        break
                    first_at = first_at or time.perf_counter_ns()
                    produced += 1
                    record.pieces += 1
                    yield Piece(step)
                    continue
                yield step  # ErrorLine, MalformedLine, Drop: written at the protocol level by the server
                if isinstance(step, ErrorLine | Drop):
                    return
            if cancel.is_set():
                return
            now = time.perf_counter_ns()
            first = first_at or now
            prompt_count = (
                script.prompt_eval_count
                if script.prompt_eval_count is not None
                else max(1, len(prompt.split()))
            )
            tokens = None
            if context is not None:
                tokens = (*context, *range(len(context) + 1, len(context) + 1 + prompt_count + produced))
            yield Done(
                reason=reason,
                prompt_eval_count=prompt_count,
                prompt_eval_duration_ns=max(1, first - started),
                eval_count=produced,
                eval_duration_ns=max(1, now - first),
                load_duration_ns=load_ns,
                context=tokens,
            )
        finally:
            with self._changed:
                record.ended = time.monotonic()
                if cancel.is_set():
                    record.stopped_by_cancel = True
                else:
                    record.finished = True
                self._changed.notify_all()
