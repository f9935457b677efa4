"""The engine interface behind the embedded server: model records, stream events and the Engine protocol.

The HTTP layer (core.embedded.app) speaks the Ollama protocol; an engine only knows models and tokens.
LlamaEngine (llama.cpp) and ScriptedEngine (tests, fault injection) both implement Engine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Done",
    "Drop",
    "Engine",
    "EngineError",
    "ErrorLine",
    "Event",
    "LoadedModel",
    "MalformedLine",
    "ModelCard",
    "Piece",
    "Progress",
    "PullEvent",
    "Puller",
    "SeenRequest",
]


@dataclass
class ModelCard:
    """What the server says about one model in /api/tags, /api/show and /api/ps."""

    name: str  # "smollm2:135m" (always name:tag)
    path: str  # the GGUF file ("" for scripted models)
    size: int  # bytes on disk
    digest: str  # 64 hex characters, no "sha256:" prefix
    modified_at: datetime  # aware
    family: str = ""
    parameter_size: str = ""
    quantization_level: str = ""
    capabilities: list[str] = field(default_factory=lambda: ["completion"])
    context_length: int | None = None
    template: str = ""  # chat template (Jinja for GGUF chat models) or our documented base-model format
    system: str = ""
    license: str = ""
    parameters: dict[str, Any] = field(
        default_factory=dict
    )  # default options, e.g. {"stop": ["<end_of_turn>"]}
    model_info: dict[str, Any] = field(default_factory=dict)  # GGUF metadata subset (general.*, <arch>.*)
    source: str = ""  # where the embedded backend found it: "bundled", "pulled", "gguf", "ollama"
    problem: str = ""  # why it cannot be loaded at all (said when a request needs it), or ""
    messages: list[dict[str, Any]] = field(default_factory=list)  # put before every chat (Ollama's MESSAGE)
    vision_note: str = ""  # why images are refused although the model has a vision projector, or ""


@dataclass
class LoadedModel:
    """A model currently held in memory (/api/ps)."""

    card: ModelCard
    expires_at: datetime  # aware; when keep_alive runs out
    context_length: int
    size: int  # bytes held (file size plus KV cache estimate)
    size_vram: int = 0  # of which on the GPU (layers offloaded)


@dataclass(frozen=True)
class SeenRequest:
    """A request as the server received it, for tests that assert what a client sent."""

    method: str
    path: str
    body: Any  # parsed JSON (dict), or the raw text when it did not parse, or None when empty


# --- Stream events an engine yields from chat()/generate() -------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A text delta of the reply (or of the thinking when thinking=True)."""

    text: str
    thinking: bool = False


@dataclass(frozen=True)
class Done:
    """End of a successful generation, with real counts and durations (nanoseconds)."""

    reason: str = "stop"  # "stop" | "length"
    prompt_eval_count: int = 0
    prompt_eval_duration_ns: int = 0
    eval_count: int = 0
    eval_duration_ns: int = 0
    load_duration_ns: int = 0
    context: tuple[int, ...] | None = (
        None  # prompt and reply tokens (generate's deprecated `context`), if known
    )


@dataclass(frozen=True)
class ErrorLine:
    """Mid-stream failure: the server writes {"error": message} as the last line (status already 200)."""

    message: str


@dataclass(frozen=True)
class MalformedLine:
    """Protocol fault for tests: the server writes `raw` verbatim as one line."""

    raw: str


@dataclass(frozen=True)
class Drop:
    """Protocol fault for tests: the server closes the connection without a done chunk."""


Event = Piece | Done | ErrorLine | MalformedLine | Drop


@dataclass(frozen=True)
class Progress:
    """One /api/pull status line: {status, digest?, total?, completed?}, zero values omitted on the wire."""

    status: str
    digest: str = ""  # "sha256:<64hex>" while a layer transfers
    total: int = 0
    completed: int = 0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status}
        if self.digest:
            data["digest"] = self.digest
        if self.total:
            data["total"] = self.total
        if self.completed:
            data["completed"] = self.completed
        return data


PullEvent = Progress | ErrorLine | MalformedLine | Drop


class EngineError(Exception):
    """A failure the server reports as an HTTP error ({"error": message}) when no chunk was sent yet."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@runtime_checkable
class Engine(Protocol):
    """What the embedded server needs from a model backend. Calls may come from several threads."""

    def list_models(self) -> list[ModelCard]:
        """Every servable model, newest modified_at first."""
        ...

    def find(self, name: str) -> ModelCard | None:
        """The model called `name` ("x" means "x:latest"; case-insensitive), or None."""
        ...

    def loaded(self) -> list[LoadedModel]:
        """Models held in memory now."""
        ...

    def load(self, name: str, options: dict[str, Any], keep_alive_s: float | None) -> int:
        """Load (or keep) a model; returns the load time in ns (0 when already loaded)."""
        ...

    def unload(self, name: str) -> None:
        """Release a model's memory (no-op when not loaded)."""
        ...

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
        """Reply to a conversation; stops promptly once `cancel` is set. Raises EngineError before any event."""
        ...

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
        """Complete a prompt (templated unless raw); same contract as chat(). `format`: "json" or a JSON schema;
        `context`: the tokens a previous generate returned, read before this prompt (never with raw)."""
        ...

    def count_tokens(self, name: str, messages: list[dict[str, Any]]) -> int:
        """Tokens of the prompt a chat with `messages` would read (POST /api/tokenize, IA_V3's own route: the
        app's context meter). EngineError 404 for an unknown model, 400 when its template refuses them."""
        ...

    def delete(self, name: str) -> None:
        """Remove a model (DELETE /api/delete); EngineError 404 when unknown, 400 when it cannot be removed."""
        ...

    def observe(self, request: SeenRequest) -> None:
        """Called for every request the server receives (ScriptedEngine records them)."""
        ...


@runtime_checkable
class Puller(Protocol):
    """An engine that can pull models (ScriptedEngine); the server answers /api/pull with 501 for others."""

    can_pull: bool

    def pull(self, name: str, cancel: threading.Event) -> Iterator[PullEvent]:
        """Progress lines of one pull ending with status "success" (or an ErrorLine); stops once `cancel` is set."""
        ...
