"""Writing chat and text completions in OpenAI's shapes: server-sent events while streaming, one object otherwise.

Streaming chat (`chat.completion.chunk`): a first chunk whose delta carries the role (`{"role": "assistant",
"content": ""}`), one chunk per text delta, a chunk with an empty delta and the `finish_reason` ("stop" or
"length"), then, when `stream_options.include_usage` is set, a chunk with `"choices": []` and the usage (every
earlier chunk then has `"usage": null`), and `data: [DONE]`. Text completions (`text_completion`) stream the
same way without the role chunk. Every chunk of a stream shares its id (`chatcmpl-…`/`cmpl-…`) and `created`.

Engine faults reach the client as OpenAI's servers send them: an error after the stream began is an
`{"error": {...}}` event and no `[DONE]`; a MalformedLine is written verbatim as an event's data; Drop ends the
connection mid-stream.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import Response, StreamingResponse

from core.embedded.engine import Done, Drop, EngineError, ErrorLine, Event, MalformedLine, Piece
from core.embedded.openai_requests import OpenAIError
from core.embedded.replies import ConnectionDropped, dumps

__all__ = ["SSE_TYPE", "CompletionReply", "openai_error", "openai_json", "random_id"]

SSE_TYPE = "text/event-stream; charset=utf-8"
JSON_TYPE = "application/json"
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_ALPHABET = string.ascii_letters + string.digits
Events = AsyncIterator[Event | EngineError]


def random_id(prefix: str) -> str:
    """An id shaped like OpenAI's: the prefix, a dash and 29 letters and digits."""
    return prefix + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(29))


def openai_json(data: Any, status: int = 200) -> Response:
    """One JSON object."""
    return Response(dumps(data), status_code=status, media_type=JSON_TYPE)


def openai_error(error: OpenAIError, headers: dict[str, str] | None = None) -> Response:
    """OpenAI's error body with its status."""
    return Response(dumps(error.body()), status_code=error.status, media_type=JSON_TYPE, headers=headers)


def engine_error(exc: EngineError | ErrorLine, status: int | None = None) -> OpenAIError:
    """An engine failure in OpenAI's terms (an unknown model is `model_not_found`, a long prompt
    `context_length_exceeded`)."""
    status = status or getattr(exc, "status", 500)
    code = None
    param = None
    if status == 404:
        code, param = "model_not_found", "model"
    elif "context length" in exc.message:
        code, param = "context_length_exceeded", "messages"
    elif "JSON schema" in exc.message:
        param = "response_format"
    return OpenAIError(status, exc.message, param=param, code=code)


def _usage(done: Done) -> dict[str, int]:
    return {
        "prompt_tokens": done.prompt_eval_count,
        "completion_tokens": done.eval_count,
        "total_tokens": done.prompt_eval_count + done.eval_count,
    }


def _frame(data: Any) -> bytes:
    return b"data: " + dumps(data) + b"\n\n"


class CompletionReply:
    """The chunks of one chat completion (`chat=True`) or text completion for `model`."""

    def __init__(
        self, model: str, *, chat: bool, include_usage: bool = False, fingerprint: str = "", echo: str = ""
    ) -> None:
        self.model = model
        self.chat = chat
        self.include_usage = include_usage
        self.id = random_id("chatcmpl" if chat else "cmpl")
        self.created = int(time.time())
        self.fingerprint = fingerprint
        self.echo = echo  # text completions with echo: the prompt comes first

    def _envelope(self, choices: list[dict[str, Any]], *, chunk: bool) -> dict[str, Any]:
        kind = "text_completion"
        if self.chat:
            kind = "chat.completion.chunk" if chunk else "chat.completion"
        data: dict[str, Any] = {
            "id": self.id,
            "object": kind,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": self.fingerprint,
            "choices": choices,
        }
        if chunk and self.include_usage:
            data["usage"] = None  # OpenAI: every chunk but the last has "usage": null
        return data

    def chunk(
        self, *, text: str | None = None, reasoning: str | None = None, role: bool = False,
        finish: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """One streamed chunk: a text (or reasoning) delta, the role opener, or the finish chunk."""
        if not self.chat:
            choice = {"text": text or "", "index": 0, "logprobs": None, "finish_reason": finish}
            return self._envelope([choice], chunk=True)
        delta: dict[str, Any] = {}
        if role:
            delta = {"role": "assistant", "content": ""}
        if text is not None:
            delta["content"] = text
        if reasoning is not None:
            delta["reasoning"] = reasoning  # thinking text, under the name Ollama's OpenAI layer gives it
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return self._envelope([choice], chunk=True)

    def usage_chunk(self, done: Done) -> dict[str, Any]:
        """The last chunk when include_usage is set: no choices, the counts."""
        data = self._envelope([], chunk=True)
        data["usage"] = _usage(done)
        return data

    def whole(self, text: str, reasoning: str, done: Done) -> dict[str, Any]:
        """The non-streaming answer."""
        if self.chat:
            message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
            if reasoning:
                message["reasoning"] = reasoning
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": done.reason}
        else:
            choice = {"text": self.echo + text, "index": 0, "logprobs": None, "finish_reason": done.reason}
        data = self._envelope([choice], chunk=False)
        data["usage"] = _usage(done)
        return data

    def stream(self, first: Any, events: Events, cleanup: Callable[[], Awaitable[None]]) -> StreamingResponse:
        """Server-sent events, one flushed event per chunk; `cleanup` runs however the stream ends."""

        async def frames() -> AsyncIterator[bytes]:
            try:
                opened = False
                item: Any = first
                while item is not None:
                    if isinstance(item, Piece | Done) and not opened:
                        opened = True
                        if self.chat:
                            yield _frame(self.chunk(role=True))
                        elif self.echo:
                            yield _frame(self.chunk(text=self.echo))
                    if isinstance(item, Piece):
                        if item.thinking:
                            yield _frame(self.chunk(reasoning=item.text))
                        else:
                            yield _frame(self.chunk(text=item.text))
                    elif isinstance(item, Done):
                        tail = _frame(self.chunk(finish=item.reason))
                        if self.include_usage:
                            tail += _frame(self.usage_chunk(item))
                        yield tail + b"data: [DONE]\n\n"
                        return
                    elif isinstance(item, ErrorLine | EngineError):
                        yield _frame(engine_error(item, 500).body())
                        return
                    elif isinstance(item, MalformedLine):
                        yield b"data: " + item.raw.encode("utf-8") + b"\n\n"
                    elif isinstance(item, Drop):
                        raise ConnectionDropped()
                    item = await anext(events, None)
            finally:
                await cleanup()

        return StreamingResponse(frames(), media_type=SSE_TYPE, headers=_SSE_HEADERS)

    async def collect(self, first: Any, events: Events) -> Response:
        """stream false: one object with the whole text, or the error (status 500 when the engine failed)."""
        text: list[str] = []
        thoughts: list[str] = []
        item: Any = first
        while item is not None:
            if isinstance(item, Piece):
                (thoughts if item.thinking else text).append(item.text)
            elif isinstance(item, Done):
                return openai_json(self.whole("".join(text), "".join(thoughts), item))
            elif isinstance(item, ErrorLine):
                return openai_error(engine_error(item, 500))
            elif isinstance(item, EngineError):
                return openai_error(engine_error(item))
            elif isinstance(item, MalformedLine):
                return Response(item.raw.encode("utf-8"), media_type=JSON_TYPE)
            elif isinstance(item, Drop):
                return StreamingResponse(_dropping(), media_type=JSON_TYPE)
            item = await anext(events, None)
        return openai_error(
            OpenAIError(
                500, "an error was encountered while running the model: the engine stopped without finishing"
            )
        )


async def _dropping() -> AsyncIterator[bytes]:
    """A body that ends the connection before it is complete."""
    yield b""
    raise ConnectionDropped()
