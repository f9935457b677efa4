"""LlamaEngine: the Engine served by llama.cpp (llama-cpp-python), models loaded lazily and kept per keep_alive.

Models come from core.embedded.catalog (bundled, pulled from Hugging Face, IA_HOME/models/*.gguf and Ollama's
store, read-only). A model is loaded on first use with n_ctx from the request's num_ctx (default 4096,
Ollama's CPU default) and reloaded when num_ctx, num_thread, num_batch, repeat_last_n or the GPU layers
change. Options are Ollama's: the model's own defaults (its params layer, or the bundled model's) under the
request's. Layers go to the GPU when llama.cpp was built with GPU support: `num_gpu` of them, or by default
every layer that fits the free GPU memory. Expired models are released at the next request. Calls that
generate or load are serialised by the server (core.embedded.worker); pulls run on their own line.
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

from core.embedded.catalog import ModelCatalog, ModelFile
from core.embedded.decoding import RunRecord, Sampling, decode, grammar_for
from core.embedded.engine import EngineError, Event, LoadedModel, ModelCard, PullEvent, SeenRequest
from core.embedded.gpu import gpu_layers, offload_supported, offloaded_share
from core.embedded.llama_logs import open_llama
from core.embedded.model_store import ollama_models_dir
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
    key: tuple[int, int, int, int, int]  # n_ctx, n_threads, n_batch, repeat_last_n, n_gpu_layers
    expires_at: datetime
    busy: bool = False  # generating now: never released under a running generation

    @property
    def n_ctx(self) -> int:
        return self.key[0]

    @property
    def n_gpu_layers(self) -> int:
        return self.key[4]


class LlamaEngine:
    """Bundled, pulled and found GGUF models through llama.cpp; at most `max_loaded` models in memory.

    `ollama_models`: Ollama's store to serve read-only (True: OLLAMA_MODELS, else ~/.ollama/models, read now;
    False: none). `gpu_offload`: whether llama.cpp can put layers on a GPU (None: ask llama.cpp,
    llama_supports_gpu_offload)."""

    backend = "embedded"  # the server's x-ia-backend header: clients know they talk to IA_V3's backend
    can_pull = True  # /api/pull of hf.co/{user}/{repo}[:{quant}] downloads a GGUF from Hugging Face

    def __init__(
        self,
        home: Path | None = None,
        *,
        max_loaded: int = 2,
        n_threads: int | None = None,
        ollama_models: Path | bool = True,
        gpu_offload: bool | None = None,
    ) -> None:
        if home is None:
            from config import load_settings

            home = load_settings().home
        self.home = Path(home)
        self.models_dir = self.home / "models"
        store = ollama_models_dir() if ollama_models is True else ollama_models or None
        self.catalog = ModelCatalog(self.home, ollama_models=store)
        self.max_loaded = max_loaded
        self.n_threads = n_threads or physical_cores()
        self.gpu_offload = offload_supported() if gpu_offload is None else gpu_offload
        self._slots: dict[str, _Slot] = {}
        self._cards: dict[str, ModelCard] = {}
        self._lock = threading.RLock()
        self.runs: deque[RunRecord] = deque(maxlen=64)  # recent generations, newest last (tests, diagnostics)
        self._vocabs: dict[str, Any] = {}  # model path -> vocab-only Llama (count_tokens)
        self._vocab_lock = threading.Lock()

    # --- catalog -------------------------------------------------------------------------------------

    def _card(self, model: ModelFile) -> ModelCard | None:
        with self._lock:
            cached = self._cards.get(model.name)
        try:
            mtime = (
                model.entry.modified_at
                if model.entry is not None
                else datetime.fromtimestamp(model.path.stat().st_mtime, UTC)
            )
        except OSError:
            return None
        if cached is not None and cached.path == str(model.path) and cached.modified_at == mtime:
            return cached
        try:
            card = self.catalog.card(model)
        except Exception as exc:  # an unreadable .gguf is skipped, not fatal
            log.warning("cannot read model %s (%s): %s", model.name, model.path, exc)
            return None
        with self._lock:
            self._cards[model.name] = card
        return card

    def list_models(self) -> list[ModelCard]:
        cards = [self._card(m) for m in self.catalog.files() if not m.problem]
        return sorted((c for c in cards if c is not None), key=lambda c: c.modified_at, reverse=True)

    def find(self, name: str) -> ModelCard | None:
        model = self.catalog.find(name)
        if model is not None and model.problem:  # found, but refused: requests that need it say why
            return ModelCard(
                name=model.name, path=str(model.path), size=0, digest="", modified_at=datetime.now(UTC),
                source=model.source, problem=model.problem,
            )  # fmt: skip
        return self._card(model) if model is not None else None

    def observe(self, request: SeenRequest) -> None:
        log.debug("embedded request %s %s", request.method, request.path)

    # --- loading -------------------------------------------------------------------------------------

    def loaded(self) -> list[LoadedModel]:
        self._release_expired()
        with self._lock:
            loaded = []
            for s in self._slots.values():
                size = s.card.size + _kv_bytes(s.card, s.n_ctx)
                share = offloaded_share(s.n_gpu_layers, _layers(s.card)) if self.gpu_offload else 0.0
                loaded.append(LoadedModel(s.card, s.expires_at, s.n_ctx, size, int(size * share)))
            return loaded

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
        card = self._usable(name)
        return self._slot(name, _with_defaults(card, options), keep_alive_s)[1]

    def delete(self, name: str) -> None:
        """Remove a model IA_V3 owns: a pulled one (its manifest and unused blobs) or an IA_HOME/models/*.gguf
        file. Bundled models and Ollama's (read-only) are refused with EngineError 400, unknown ones 404."""
        model = self.catalog.find(name)
        if model is None:
            raise EngineError(404, f"model '{name}' not found")
        if model.bundled:
            raise EngineError(
                400,
                f"{model.name} is bundled with the embedded backend and cannot be deleted; only models pulled "
                f"here and the .gguf files in {self.models_dir} can be",
            )
        if model.source == "ollama":
            raise EngineError(
                400,
                f"{model.name} belongs to Ollama's model store ({self.catalog.ollama.root}), which "
                f"the embedded backend only reads: delete it with `ollama rm {model.name}`",
            )
        with self._lock:
            self._close(model.name)
            self._cards.pop(model.name, None)
        with self._vocab_lock:
            self._vocabs.pop(str(model.path), None)
        try:
            if model.entry is not None:
                self.catalog.pulled.remove(model.entry)
            else:
                model.path.unlink()
        except OSError as exc:
            target = model.entry.manifest if model.entry is not None else model.path
            raise EngineError(500, f"cannot delete {target}: {exc.strerror or exc}") from exc

    def pull(self, name: str, cancel: threading.Event) -> Iterator[PullEvent]:
        """Ollama's progress lines of a pull from Hugging Face (core.embedded.hf_pull); EngineError 501 before
        any line for a name that is not hf.co/{user}/{repo}[:{quant}] (Ollama's registry is not offered)."""
        from core.embedded.hf_pull import HfPull, parse_hf_name

        wanted = parse_hf_name(name)
        if wanted is None:
            raise EngineError(
                501,
                f"the embedded backend (llama.cpp) cannot pull '{name}' from Ollama's library: it pulls GGUF "
                "models from Hugging Face, named hf.co/{user}/{repo}[:{quant}] (for example "
                "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M); install Ollama (https://ollama.com) for "
                "Ollama's library",
            )

        def installed() -> None:
            with self._lock:
                self._cards.pop(wanted.display, None)

        return HfPull(wanted, self.catalog.pulled, cancel, on_installed=installed).lines()

    def _slot(self, name: str, options: dict[str, Any], keep_alive_s: float | None) -> tuple[_Slot, int]:
        card = self.find(name)
        if card is None:
            raise EngineError(404, f"model '{name}' not found")
        if card.problem:
            raise EngineError(500, f"unable to load model {card.name}: {card.problem}")
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
        requested_gpu = options.get("num_gpu")
        key = (
            n_ctx,
            int(options.get("num_thread") or self.n_threads),
            int(options.get("num_batch") or 512),
            int(options.get("repeat_last_n", 64)),
            gpu_layers(
                requested_gpu if isinstance(requested_gpu, int) and requested_gpu >= 0 else None,
                offload=self.gpu_offload,
                layers=_layers(card),
                model_bytes=card.size,
                kv_bytes=_kv_bytes(card, n_ctx),
            ),
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
    def _open(card: ModelCard, key: tuple[int, int, int, int, int]) -> Any:
        n_ctx, n_threads, n_batch, last_n, n_gpu = key
        try:
            return open_llama(
                card.path,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=min(n_batch, n_ctx),
                last_n_tokens_size=last_n,
                n_gpu_layers=n_gpu,
            )
        except Exception as exc:  # bad file, out of memory: reported before any chunk, as Ollama does
            raise EngineError(500, f"unable to load model {card.name}: {exc}") from exc

    # --- generation ----------------------------------------------------------------------------------

    def _prompt(self, card: ModelCard, messages: list[dict[str, Any]]) -> Prompt:
        meta = self.catalog.read_metadata(Path(card.path))
        template = meta.get("tokenizer.chat_template", "")
        # As Ollama: the model's MESSAGE lines first, and its SYSTEM when the request brings none.
        if card.system and not any(m.get("role") == "system" for m in messages):
            messages = [{"role": "system", "content": card.system}, *messages]
        messages = [*card.messages, *messages]
        if not template:
            if card.source in ("pulled", "ollama"):
                raise EngineError(
                    400,
                    f"{card.name} has no chat template in its GGUF file"
                    + (
                        " (its Ollama template is a Go template, which llama.cpp cannot run)"
                        if card.template
                        else ""
                    )
                    + ": the embedded backend cannot format a chat for it; use generate with raw=true, or Ollama",
                )
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
        sampling = Sampling.from_options(options)
        vocab = slot.llama.n_vocab()
        bad = next((t for t in context or [] if not 0 <= t < vocab), None)
        if bad is not None:
            raise EngineError(400, f"invalid context: {bad} is not a token of {slot.card.name}")
        add_bos = not prompt.has_bos and not context
        tokens = list(context or []) + slot.llama.tokenize(
            prompt.text.encode("utf-8"), add_bos=add_bos, special=True
        )
        record = RunRecord(model=slot.card.name, sampling=sampling)
        self.runs.append(record)
        slot.busy = True
        try:
            yield from decode(
                slot.llama,
                tokens,
                sampling,
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
        card = self._usable(name)
        return self._run(
            name, self._prompt(card, messages), _with_defaults(card, options), cancel, keep_alive_s,
            grammar_for(format),
        )  # fmt: skip

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
        card = self._usable(name)
        if raw:
            built = Prompt(prompt, has_bos=False, stop=[])
        else:
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": prompt}
            ]
            built = self._prompt(card, messages)
        options = _with_defaults(card, options)
        return self._run(name, built, options, cancel, keep_alive_s, grammar_for(format), context)

    def count_tokens(self, name: str, messages: list[dict[str, Any]]) -> int:
        """The prompt chat() would decode for `messages`, in tokens, from the model's own tokenizer (a vocab-only
        copy of the model, opened once: a few MB, and no wait behind a running generation)."""
        card = self._usable(name)
        prompt = self._prompt(card, messages)
        with self._vocab_lock:
            vocab = self._vocabs.get(card.path)
            if vocab is None:
                try:
                    vocab = open_llama(card.path, vocab_only=True)
                except Exception as exc:  # a bad file: said as a load error, as chat() would
                    raise EngineError(500, f"unable to load model {card.name}: {exc}") from exc
                self._vocabs[card.path] = vocab
        tokens = vocab.tokenize(prompt.text.encode("utf-8"), add_bos=not prompt.has_bos, special=True)
        return len(tokens)

    def _usable(self, name: str) -> ModelCard:
        card = self.find(name)
        if card is None:
            raise EngineError(404, f"model '{name}' not found")
        if card.problem:
            raise EngineError(500, f"unable to load model {card.name}: {card.problem}")
        return card


def _with_defaults(card: ModelCard, options: dict[str, Any]) -> dict[str, Any]:
    """Ollama's layering: the model's own defaults (its params), then the request's options over them."""
    defaults = {key: value for key, value in card.parameters.items() if key != "stop"}
    return {**defaults, **options}


def _layers(card: ModelCard) -> int:
    return int(card.model_info.get(f"{card.family}.block_count", 0) or 0)


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
