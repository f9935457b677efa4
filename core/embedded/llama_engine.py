"""LlamaEngine: the Engine served by llama.cpp (llama-cpp-python), models loaded lazily and kept per keep_alive.

A model is loaded on first use with n_ctx from the request's num_ctx (default 4096, Ollama's CPU default)
and reloaded when num_ctx, num_thread, num_batch or repeat_last_n change. Expired models are released at the
next request. Calls that generate or load are serialised by the server (core.embedded.worker).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.embedded.catalog import (
    MODEL_CACHE,
    ModelFile,
    card_for,
    discover,
    read_metadata,
    use_cache_file,
)
from core.embedded.decoding import RunRecord, Sampling, decode, grammar_for
from core.embedded.engine import EngineError, Event, LoadedModel, ModelCard, SeenRequest
from core.embedded.llama_logs import open_llama
from core.embedded.prompts import Prompt, base_prompt, template_prompt
from core.embedded.protocol import expires_at

__all__ = ["DEFAULT_NUM_CTX", "LlamaEngine", "physical_cores"]

log = logging.getLogger(__name__)
DEFAULT_NUM_CTX = 4096


def physical_cores() -> int:
    """Physical CPU cores (llama.cpp runs best with one thread per core)."""
    import psutil

    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


@dataclass
class _Slot:
    """A loaded model and the settings it was loaded with."""

    card: ModelCard
    llama: Any
    key: tuple[int, int, int, int]  # n_ctx, n_threads, n_batch, repeat_last_n
    expires_at: datetime
    busy: bool = False  # generating now: never released under a running generation

    @property
    def n_ctx(self) -> int:
        return self.key[0]


class LlamaEngine:
    """Bundled models plus IA_HOME/models/*.gguf through llama.cpp; at most `max_loaded` models in memory."""

    backend = "embedded"  # the server's x-ia-backend header: clients know they talk to IA_V3's backend

    def __init__(
        self, home: Path | None = None, *, max_loaded: int = 2, n_threads: int | None = None
    ) -> None:
        if home is None:
            from config import load_settings

            home = load_settings().home
        self.home = Path(home)
        self.models_dir = self.home / "models"
        use_cache_file(self.home / "data" / MODEL_CACHE)
        self.max_loaded = max_loaded
        self.n_threads = n_threads or physical_cores()
        self._slots: dict[str, _Slot] = {}
        self._cards: dict[str, ModelCard] = {}
        self._lock = threading.RLock()
        self.runs: deque[RunRecord] = deque(maxlen=64)  # recent generations, newest last (tests, diagnostics)

    # --- catalog -------------------------------------------------------------------------------------

    def _files(self) -> list[ModelFile]:
        return discover(self.models_dir)

    def _card(self, model: ModelFile) -> ModelCard | None:
        with self._lock:
            cached = self._cards.get(model.name)
        try:
            mtime = datetime.fromtimestamp(model.path.stat().st_mtime, UTC)
        except OSError:
            return None
        if cached is not None and cached.path == str(model.path) and cached.modified_at == mtime:
            return cached
        try:
            card = card_for(model)
        except Exception as exc:  # an unreadable .gguf in models/ is skipped, not fatal
            log.warning("cannot read model %s (%s): %s", model.name, model.path, exc)
            return None
        with self._lock:
            self._cards[model.name] = card
        return card

    def list_models(self) -> list[ModelCard]:
        cards = [self._card(m) for m in self._files()]
        return sorted((c for c in cards if c is not None), key=lambda c: c.modified_at, reverse=True)

    def find(self, name: str) -> ModelCard | None:
        wanted = name.lower() if ":" in name else f"{name.lower()}:latest"
        model = next((m for m in self._files() if m.name == wanted), None)
        return self._card(model) if model is not None else None

    def observe(self, request: SeenRequest) -> None:
        log.debug("embedded request %s %s", request.method, request.path)

    # --- loading -------------------------------------------------------------------------------------

    def loaded(self) -> list[LoadedModel]:
        self._release_expired()
        with self._lock:
            return [
                LoadedModel(s.card, s.expires_at, s.n_ctx, s.card.size + _kv_bytes(s.card, s.n_ctx))
                for s in self._slots.values()
            ]

    def _release_expired(self) -> None:
        now = datetime.now(UTC)
        with self._lock:
            for name in [n for n, s in self._slots.items() if s.expires_at <= now and not s.busy]:
                self._close(name)

    def _close(self, name: str) -> None:
        slot = self._slots.pop(name, None)
        if slot is not None:
            slot.llama.close()

    def unload(self, name: str) -> None:
        with self._lock:
            self._close(name)

    def load(self, name: str, options: dict[str, Any], keep_alive_s: float | None) -> int:
        return self._slot(name, options, keep_alive_s)[1]

    def delete(self, name: str) -> None:
        """Remove a user model (its IA_HOME/models/*.gguf file); bundled models stay (EngineError 400)."""
        wanted = name.lower() if ":" in name else f"{name.lower()}:latest"
        model = next((m for m in self._files() if m.name == wanted), None)
        if model is None:
            raise EngineError(404, f"model '{name}' not found")
        if model.bundled:
            raise EngineError(
                400,
                f"{model.name} is bundled with the embedded backend and cannot be deleted; only the .gguf "
                f"files in {self.models_dir} can be",
            )
        with self._lock:
            self._close(model.name)
            self._cards.pop(model.name, None)
        try:
            model.path.unlink()
        except OSError as exc:
            raise EngineError(500, f"cannot delete {model.path}: {exc.strerror or exc}") from exc

    def _slot(self, name: str, options: dict[str, Any], keep_alive_s: float | None) -> tuple[_Slot, int]:
        card = self.find(name)
        if card is None:
            raise EngineError(404, f"model '{name}' not found")
        n_ctx = int(options.get("num_ctx") or DEFAULT_NUM_CTX)
        if n_ctx < 1:
            raise EngineError(400, "num_ctx must be a positive number of tokens")
        if card.context_length and n_ctx > card.context_length:
            # As Ollama does ("requested context size too large for model"): never beyond what it was trained on.
            log.warning(
                "num_ctx %d is larger than %s was trained for; using %d",
                n_ctx,
                card.name,
                card.context_length,
            )
            n_ctx = card.context_length
        key = (
            n_ctx,
            int(options.get("num_thread") or self.n_threads),
            int(options.get("num_batch") or 512),
            int(options.get("repeat_last_n", 64)),
        )
        self._release_expired()
        with self._lock:
            slot = self._slots.get(card.name)
            if slot is not None and slot.key == key and slot.card.path == card.path:
                slot.expires_at = expires_at(keep_alive_s)
                return slot, 0
            self._close(card.name)
            while len(self._slots) >= self.max_loaded:
                oldest = min(self._slots.values(), key=lambda s: s.expires_at)
                self._close(oldest.card.name)
            started = time.perf_counter_ns()
            llama = self._open(card, key)
            slot = _Slot(card, llama, key, expires_at(keep_alive_s))
            self._slots[card.name] = slot
            return slot, time.perf_counter_ns() - started

    @staticmethod
    def _open(card: ModelCard, key: tuple[int, int, int, int]) -> Any:
        n_ctx, n_threads, n_batch, last_n = key
        try:
            return open_llama(
                card.path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=min(n_batch, n_ctx),
                last_n_tokens_size=last_n,
            )
        except Exception as exc:  # bad file, out of memory: reported before any chunk, as Ollama does
            raise EngineError(500, f"unable to load model {card.name}: {exc}") from exc

    # --- generation ----------------------------------------------------------------------------------

    def _prompt(self, card: ModelCard, messages: list[dict[str, Any]]) -> Prompt:
        meta = read_metadata(Path(card.path))
        template = meta.get("tokenizer.chat_template", "")
        if not template:
            return base_prompt(messages)
        try:
            return template_prompt(template, messages, meta.get("_bos", ""), meta.get("_eos", ""))
        except Exception as exc:  # the template rejected these messages (e.g. roles out of order)
            raise EngineError(
                400, f"the chat template of {card.name} cannot format these messages: {exc}"
            ) from exc

    def _run(
        self,
        name: str,
        prompt: Prompt,
        options: dict[str, Any],
        cancel: threading.Event,
        keep_alive_s: float | None,
        grammar: Any = None,
        context: list[int] | None = None,
    ) -> Iterator[Event]:
        slot, load_ns = self._slot(name, options, keep_alive_s)
        # The request's stop strings replace the model's (as in Ollama); the prompt format's own stay.
        stops = list(options.get("stop") or slot.card.parameters.get("stop", [])) + prompt.stop
        vocab = slot.llama.n_vocab()
        bad = next((t for t in context or [] if not 0 <= t < vocab), None)
        if bad is not None:
            raise EngineError(400, f"invalid context: {bad} is not a token of {slot.card.name}")
        add_bos = not prompt.has_bos and not context
        tokens = list(context or []) + slot.llama.tokenize(
            prompt.text.encode("utf-8"), add_bos=add_bos, special=True
        )
        record = RunRecord(model=slot.card.name)
        self.runs.append(record)
        slot.busy = True
        try:
            yield from decode(
                slot.llama,
                tokens,
                Sampling.from_options(options),
                stops,
                cancel,
                n_ctx=slot.n_ctx,
                load_ns=load_ns,
                record=record,
                grammar=grammar,
            )
        finally:
            slot.busy = False
            with self._lock:  # keep_alive counts from the end of the request, as in Ollama
                slot.expires_at = expires_at(keep_alive_s)

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
        card = self.find(name)
        if card is None:
            raise EngineError(404, f"model '{name}' not found")
        return self._run(
            name, self._prompt(card, messages), options, cancel, keep_alive_s, grammar_for(format)
        )

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
        card = self.find(name)
        if card is None:
            raise EngineError(404, f"model '{name}' not found")
        if raw:
            built = Prompt(prompt, has_bos=False, stop=[])
        else:
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": prompt}
            ]
            built = self._prompt(card, messages)
        return self._run(name, built, options, cancel, keep_alive_s, grammar_for(format), context)


def _kv_bytes(card: ModelCard, n_ctx: int) -> int:
    """A rough KV-cache size (f16 keys and values) so /api/ps reports memory held, not just the file."""
    info = card.model_info
    arch = card.family
    layers = int(info.get(f"{arch}.block_count", 0) or 0)
    heads_kv = int(info.get(f"{arch}.attention.head_count_kv", 0) or 0)
    heads = int(info.get(f"{arch}.attention.head_count", 0) or 0) or 1
    width = int(info.get(f"{arch}.embedding_length", 0) or 0)
    head_dim = int(info.get(f"{arch}.attention.key_length", 0) or 0) or width // heads
    return 2 * layers * heads_kv * head_dim * n_ctx * 2
