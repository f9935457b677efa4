"""The token loop of LlamaEngine: sample with Ollama's options, stream text, stop on EOG/stop strings/limits.

Token by token through `Llama.generate`, so counts and timings are exact: prompt evaluation lasts until the
first token is sampled, evaluation from there to the last one. Cancellation is checked between the batches
of a long prompt and after every token.
"""

from __future__ import annotations

import codecs
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.embedded.engine import Done, EngineError, Event, Piece

__all__ = ["RunRecord", "Sampling", "decode", "grammar_for", "hold_back"]


@dataclass
class RunRecord:
    """How one generation went: prompt tokens read and tokens produced so far, and whether a cancel (client
    gone) stopped it."""

    model: str
    tokens: int = 0
    cancelled: bool = False
    ended: bool = False
    prompt_tokens: int = 0
    prompt_read: int = 0  # prompt tokens in the KV cache when sampling began (or when a cancel stopped it)
    prompt_cached: int = 0  # prompt tokens reused from the previous request's KV cache (not read again)
    sampling: Sampling | None = (
        None  # the options it was sampled with (the model's defaults under the request's)
    )


@dataclass(frozen=True)
class Sampling:
    """Ollama options mapped to llama.cpp sampling (defaults are Ollama's, api/types.go DefaultOptions)."""

    temperature: float = 0.8
    top_p: float = 0.9
    top_k: int = 40
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    mirostat: int = 0
    mirostat_tau: float = 5.0
    mirostat_eta: float = 0.1
    seed: int = -1
    num_predict: int = -1

    @property
    def deterministic(self) -> bool:
        """A fixed seed or greedy decoding: the caller expects the same request to give the same reply."""
        return self.seed >= 0 or self.temperature == 0

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Sampling:
        known = {name: options[name] for name in cls.__dataclass_fields__ if name in options}
        return cls(**known)


def grammar_for(format: str | dict[str, Any] | None) -> Any:
    """A llama.cpp grammar for Ollama's `format`: "json" (any JSON value) or a JSON schema; None otherwise."""
    if not format:
        return None
    from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

    if format == "json":
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    try:
        return LlamaGrammar.from_json_schema(json.dumps(format), verbose=False)
    except Exception as exc:  # the schema uses something the converter cannot express
        raise EngineError(400, f"invalid JSON schema in format: {exc}") from exc


def hold_back(text: str, stops: list[str]) -> int:
    """How many trailing characters of `text` could begin a stop string (kept back until it is decided)."""
    hold = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), hold, -1):
            if text.endswith(stop[:size]):
                hold = size
                break
    return hold


def _cached_prefix(llama: Any, tokens: list[int]) -> int:
    """How many leading tokens of `tokens` (all but the last, which is always evaluated) are in the KV cache."""
    cached = 0
    for have, want in zip(llama._input_ids, tokens[:-1], strict=False):
        if have != want:
            break
        cached += 1
    return cached


def _evaluate_prompt(llama: Any, tokens: list[int], cancel: threading.Event, record: RunRecord) -> bool:
    """Read a long prompt batch by batch, checking `cancel` between batches; False when cancelled.

    ``Llama.generate`` evaluates the whole prompt before yielding its first token, so a client that left
    (Stop, Ctrl-C) used to wait for all of it: seconds to minutes on a CPU. Here everything but the last
    token is evaluated first, keeping the part of the prompt already in the KV cache (the same prefix reuse
    generate does), so generate finds it cached and only evaluates the last token. Short prompts (at most
    one batch left to read) are left to generate as they are."""
    body = tokens[:-1]
    cached = _cached_prefix(llama, tokens)
    batch = max(1, int(llama.n_batch))
    record.prompt_tokens = len(tokens)
    record.prompt_cached = cached
    if len(body) - cached <= batch:
        record.prompt_read = len(tokens)
        return not cancel.is_set()
    if cached < llama.n_tokens and not llama._ctx.kv_cache_seq_rm(-1, cached, -1):
        cached = 0  # this model's cache cannot be cut: read the prompt from the start
        llama.reset()
    llama.n_tokens = cached
    for start in range(cached, len(body), batch):
        record.prompt_read = start
        if cancel.is_set():
            return False
        llama.eval(body[start : start + batch])
    record.prompt_read = len(tokens)
    return not cancel.is_set()


def decode(
    llama: Any,
    tokens: list[int],
    sampling: Sampling,
    stops: list[str],
    cancel: threading.Event,
    *,
    n_ctx: int,
    load_ns: int,
    record: RunRecord | None = None,
    grammar: Any = None,
) -> Iterator[Event]:
    """Yield Pieces then a Done for `tokens` (already tokenized prompt) on a loaded `llama`."""
    import llama_cpp

    if len(tokens) >= n_ctx:
        raise EngineError(400, "the input length exceeds the context length")
    room = n_ctx - len(tokens)
    # As Ollama's runner: only a positive num_predict limits the reply (0, -1 and -2 run until the context fills).
    limit = room if sampling.num_predict <= 0 else min(sampling.num_predict, room)
    llama.set_seed(sampling.seed if sampling.seed >= 0 else random.randrange(2**31))
    started = time.perf_counter_ns()
    record = record or RunRecord(model="")
    if sampling.deterministic:
        # Reusing the KV cache changes how the prompt is split into batches, and llama.cpp's results depend
        # on that split (and, for sliding-window models such as Gemma 3, on what the cache cut keeps): the
        # same request could answer differently after another one. A fixed seed or temperature 0 asks for
        # the same reply every time, so such a request reads its whole prompt afresh.
        llama.reset()
    if not _evaluate_prompt(llama, tokens, cancel, record):
        record.cancelled = record.ended = True
        return  # cancelled while reading the prompt
    vocab = llama._model.vocab
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stops = [s for s in stops if s]
    pending = ""
    produced: list[int] = []
    reason = "length"
    hit_stop = False
    first_ns = last_ns = 0
    generator = llama.generate(
        tokens,
        top_k=sampling.top_k,
        top_p=sampling.top_p,
        min_p=sampling.min_p,
        typical_p=sampling.typical_p,
        temp=sampling.temperature,
        repeat_penalty=sampling.repeat_penalty,
        presence_penalty=sampling.presence_penalty,
        frequency_penalty=sampling.frequency_penalty,
        mirostat_mode=sampling.mirostat,
        mirostat_tau=sampling.mirostat_tau,
        mirostat_eta=sampling.mirostat_eta,
        grammar=grammar,
    )
    try:
        for token in generator:
            last_ns = time.perf_counter_ns()
            first_ns = first_ns or last_ns
            if cancel.is_set():
                return
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                reason = "stop"
                break
            produced.append(token)
            record.tokens = len(produced)
            pending += utf8.decode(llama.detokenize([token]))
            cut = min((pending.find(s) for s in stops if s in pending), default=-1)
            if cut >= 0:
                if cut:
                    yield Piece(pending[:cut])
                pending = ""
                reason, hit_stop = "stop", True
                break
            ready = len(pending) - hold_back(pending, stops)
            if ready > 0:
                yield Piece(pending[:ready])
                pending = pending[ready:]
            if len(produced) >= limit:
                break
    finally:
        generator.close()
        record.cancelled = cancel.is_set()
        record.ended = True
    if cancel.is_set():
        return
    pending += utf8.decode(b"", final=True)
    if pending and not hit_stop:  # text held back for a stop string that never came
        yield Piece(pending)
    yield Done(
        reason=reason,
        prompt_eval_count=len(tokens),
        prompt_eval_duration_ns=max(1, first_ns - started),
        eval_count=len(produced),
        eval_duration_ns=max(1, last_ns - first_ns),
        load_duration_ns=load_ns,
        context=(*tokens, *produced),
    )
