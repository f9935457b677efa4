"""A reply streamed by an OpenAI-compatible server: Server-Sent Events read into the chunks and stats every front
end already takes from an Ollama stream (core.ollama_stream.ChatStream).

The request, cancel, first-token and stall deadlines are core.ollama_stream's (one connection per request,
its socket shut down to stop). What differs is the wire: `data: {json}` events ending with `data: [DONE]`,
text in `choices[0].delta.content` (chat) or `choices[0].text` (completions), reasoning in
`delta.reasoning_content` (llama-server, vLLM) or `delta.reasoning`, `finish_reason` on the last choice,
and the counts in a final `usage` event when the server honours `stream_options.include_usage`.

Statistics: the time to first token and the total are measured here. Tokens/s comes from the server's own
`timings` when it sends them (llama-server), else from `usage.completion_tokens` over the generation time
measured here: the tokens after the first one arrived between the first and the last token, so the rate is
(n - 1) / (last - first), recorded as ``eval_duration_ns`` = that rate's time for all n tokens. A server
that sends no usage (llama-cpp-python's server does not in streams) gives ``counts_from == ""``, which the
front ends show as "not reported".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from core.errors import StreamBroken
from core.i18n import _
from core.ollama_stream import ChatStream, Chunk, ContentChunk, FinalChunk, StreamStats, ThinkingChunk
from core.openai_errors import event_error

__all__ = ["DONE", "OpenAIStream", "completion_events", "sse_events"]

_monotonic = time.monotonic


class _Done:
    """The `data: [DONE]` event that ends a stream."""

    def __repr__(self) -> str:
        return "DONE"


DONE = _Done()


def sse_events(lines: Iterable[str]) -> Iterator[dict[str, Any] | _Done]:
    """The JSON events of a Server-Sent Events stream, then DONE if the server sent `[DONE]`.

    Follows the SSE rules: events end at a blank line, several `data:` lines of one event are joined with
    newlines, lines starting with ':' are comments (keep-alive pings), other fields are ignored."""
    data: list[str] = []

    def flush() -> dict[str, Any] | _Done | None:
        payload = "\n".join(data)
        data.clear()
        if payload.strip() == "[DONE]":
            return DONE
        try:
            event = json.loads(payload)
        except ValueError:
            raise StreamBroken(
                _("the server sent an event that is not JSON: {text}").format(text=repr(payload[:80]))
            ) from None
        if not isinstance(event, dict):
            raise StreamBroken(
                _("the server sent an event that is not a JSON object: {text}").format(
                    text=repr(payload[:80])
                )
            )
        return event

    for line in lines:
        if not line:
            if data:
                event = flush()
                yield event  # type: ignore[misc]
                if event is DONE:
                    return
            continue
        if line.startswith(":"):
            continue
        name, _sep, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:  # the last event without its blank line: a server that closed right after it
        yield flush()  # type: ignore[misc]


def completion_events(body: dict[str, Any], *, chat: bool) -> list[dict[str, Any] | _Done]:
    """A whole (non-streamed) answer as the events a stream would have carried: some servers ignore
    ``stream: true`` and answer with one JSON object."""
    events: list[dict[str, Any] | _Done] = []
    for choice in body.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        if chat:
            message = choice.get("message") or {}
            delta = {
                k: message.get(k) for k in ("content", "reasoning_content", "reasoning") if message.get(k)
            }
            events.append(
                {"choices": [{"index": 0, "delta": delta, "finish_reason": choice.get("finish_reason")}]}
            )
        else:
            events.append({"choices": [{"index": 0, "text": choice.get("text") or "",
                                        "finish_reason": choice.get("finish_reason")}]})  # fmt: skip
        break
    extra = {k: body[k] for k in ("usage", "timings") if isinstance(body.get(k), dict)}
    if extra:
        events.append({"choices": [], **extra})
    events.append(DONE)
    return events


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StreamBroken(
            _("the server sent text of an unexpected shape ({type})").format(type=type(value).__name__)
        )
    return value


def _int(value: Any) -> int | None:
    return (
        int(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None
    )


class OpenAIStream(ChatStream):
    """A streamed chat (/chat/completions) or completion (/completions) from an OpenAI-compatible server.

    ``open_events`` returns the iterator of parsed events (core.openai_client sends the request on its first
    next()); iteration yields ContentChunk/ThinkingChunk, then one FinalChunk, as ChatStream does."""

    def __init__(
        self, client: Any, model: str, open_events: Callable[[], Iterator[Any]], *, chat: bool
    ) -> None:
        super().__init__(client, model, open_events, chat=chat)
        self._first_text: float | None = None
        self._last_text: float | None = None
        self._finish_reason: str | None = None
        self._usage: dict[str, Any] | None = None
        self._timings: dict[str, Any] | None = None

    def _run(self) -> Iterator[Chunk]:
        if self.cancelled:
            return
        parts = None
        done = False
        try:
            try:
                parts = self._begin()
                for event in parts:
                    if self._stop:
                        break
                    if event is DONE:
                        self._last = _monotonic()
                        done = True
                        break
                    yield from self._read(event)
            except Exception as exc:
                self._raise_failure(exc)
                return
            self._end(parts)
            if self._stop:
                self._raise_failure(None)
                return
            if not done and self._finish_reason is None:
                self._raise_failure(
                    None, _("the server closed the stream before it said the reply was complete")
                )
                return
            if self._last is None:
                self._last = _monotonic()
            self.stats = self._stats()
            yield FinalChunk(self.stats)
        finally:
            self._end(parts)

    def _read(self, event: dict[str, Any]) -> Iterator[Chunk]:
        """The chunks of one event; records its finish reason, usage and timings."""
        if event.get("error"):
            raise event_error(event["error"], self.model, self.host)
        choices = event.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise StreamBroken(
                _("the server sent an event of an unexpected shape (its choices are not a list)")
            )
        now = _monotonic()
        for key in ("usage", "timings"):
            if isinstance(event.get(key), dict):
                setattr(self, f"_{key}", event[key])
                self._last = now
        choice = next((c for c in choices if c.get("index", 0) == 0), None)
        if choice is None:
            return
        if self._chat:
            delta = choice.get("delta") or choice.get("message") or {}
            if not isinstance(delta, dict):
                raise StreamBroken(
                    _("the server sent an event of an unexpected shape (its delta is not an object)")
                )
            content = _text(delta.get("content"))
            reasoning = _text(delta.get("reasoning_content") or delta.get("reasoning"))
        else:
            content, reasoning = _text(choice.get("text")), ""
        if choice.get("finish_reason"):
            self._finish_reason = str(choice["finish_reason"])
            self._last = now
        if not (content or reasoning):
            return
        self._last = self._last_text = now
        if self.ttft_s is None:
            self._first_text = now
            self.ttft_s = now - self._t0
        if reasoning:
            self._thinking.append(reasoning)
            yield ThinkingChunk(reasoning)
        if content:
            self._text.append(content)
            yield ContentChunk(content)

    def _stats(self) -> StreamStats:
        usage, timings = self._usage or {}, self._timings or {}
        prompt_count = _int(usage.get("prompt_tokens"))
        count = _int(usage.get("completion_tokens"))
        duration = prompt_duration = None
        source = ""
        predicted_n, predicted_ms = _int(timings.get("predicted_n")), timings.get("predicted_ms")
        if predicted_n and isinstance(predicted_ms, int | float) and predicted_ms > 0:
            source, count, duration = "server", predicted_n, int(predicted_ms * 1e6)
            prompt_ms = timings.get("prompt_ms")
            if _int(timings.get("prompt_n")) is not None and isinstance(prompt_ms, int | float):
                prompt_count, prompt_duration = _int(timings["prompt_n"]), int(prompt_ms * 1e6)
        elif count is not None:
            source = "usage"
            first, last = self._first_text, self._last_text
            if count > 1 and first is not None and last is not None and last > first:
                duration = int((last - first) / (count - 1) * count * 1e9)
        return StreamStats(
            model=self.model,
            host=self.host,
            ttft_s=self.ttft_s,
            total_s=self._last - self._t0,  # type: ignore[operator]
            done_reason=self._finish_reason,
            eval_count=count,
            eval_duration_ns=duration,
            prompt_eval_count=prompt_count,
            prompt_eval_duration_ns=prompt_duration,
            load_duration_ns=None,
            total_duration_ns=None,
            counts_from=source,
        )
