"""Writing chat/generate/pull replies in Ollama's shapes: NDJSON chunks while streaming, one object otherwise.

Engine events become protocol text here, faults included: an error event after the first chunk is a last
`{"error"}` line (status already 200), a MalformedLine is written verbatim, and Drop ends the connection
without a done chunk.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import Response, StreamingResponse

from core.embedded.engine import Done, Drop, EngineError, ErrorLine, Event, MalformedLine, Piece, Progress
from core.embedded.protocol import final_metrics, utc_now

__all__ = [
    "JSON_TYPE",
    "NDJSON_TYPE",
    "ConnectionDropped",
    "PullReply",
    "Reply",
    "dumps",
    "error_response",
    "json_response",
]

JSON_TYPE = "application/json; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
Events = AsyncIterator[Event | EngineError]


class ConnectionDropped(Exception):
    """Raised inside a response to make uvicorn close the connection without finishing it (Drop fault)."""


class _QuietDrops(logging.Filter):
    """Keeps deliberate drops out of uvicorn's error log; real failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, ConnectionDropped):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, as Go's encoder writes it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(data: Any, status: int = 200) -> Response:
    """A single JSON object with gin's content type."""
    return Response(dumps(data), status_code=status, media_type=JSON_TYPE)


def error_response(status: int, message: str) -> Response:
    """Ollama's error body."""
    return json_response({"error": message}, status)


class Reply:
    """Chunks of one chat (`message`) or generate (`response`) reply for `model`."""

    def __init__(
        self, model: str, *, chat: bool, started_ns: int | None = None, context: bool = False
    ) -> None:
        self.model = model
        self.chat = chat
        self.context = context  # generate without raw: the done chunk carries the `context` tokens
        self.started_ns = started_ns if started_ns is not None else time.perf_counter_ns()

    def chunk(self, text: str, *, thinking: bool = False, done_reason: str | None = None) -> dict[str, Any]:
        """One chunk; thinking text goes to `thinking` with empty content."""
        data: dict[str, Any] = {"model": self.model, "created_at": utc_now()}
        if self.chat:
            message: dict[str, Any] = {"role": "assistant", "content": "" if thinking else text}
            if thinking:
                message["thinking"] = text
            data["message"] = message
        else:
            data["response"] = "" if thinking else text
            if thinking:
                data["thinking"] = text
        data["done"] = bool(done_reason)
        if done_reason:
            data["done_reason"] = done_reason
        return data

    def final(self, done: Done) -> dict[str, Any]:
        """The done chunk with its metrics (total_duration measured from the request's start)."""
        data = self.chunk("", done_reason=done.reason)
        if self.context and done.context:
            data["context"] = list(done.context)
        data.update(final_metrics(done, time.perf_counter_ns() - self.started_ns))
        return data

    def stream(self, first: Any, events: Events, cleanup: Callable[[], Awaitable[None]]) -> StreamingResponse:
        """Streaming NDJSON, one flushed line per event; `cleanup` runs however the stream ends."""

        async def lines() -> AsyncIterator[bytes]:
            try:
                item: Any = first
                while item is not None:
                    if isinstance(item, Piece):
                        yield dumps(self.chunk(item.text, thinking=item.thinking)) + b"\n"
                    elif isinstance(item, Done):
                        yield dumps(self.final(item)) + b"\n"
                        return
                    elif isinstance(item, ErrorLine | EngineError):
                        yield dumps({"error": item.message}) + b"\n"
                        return
                    elif isinstance(item, MalformedLine):
                        yield item.raw.encode("utf-8") + b"\n"
                    elif isinstance(item, Drop):
                        raise ConnectionDropped()
                    item = await anext(events, None)
            finally:
                await cleanup()

        return StreamingResponse(lines(), media_type=NDJSON_TYPE)

    async def collect(self, first: Any, events: Events) -> Response:
        """stream:false: one object with the text and thinking concatenated, or the error with status 500."""
        text: list[str] = []
        thoughts: list[str] = []
        item: Any = first
        while item is not None:
            if isinstance(item, Piece):
                (thoughts if item.thinking else text).append(item.text)
            elif isinstance(item, Done):
                data = self.final(item)
                target = data["message"] if self.chat else data
                target["content" if self.chat else "response"] = "".join(text)
                if thoughts:
                    target["thinking"] = "".join(thoughts)
                return json_response(data)
            elif isinstance(item, ErrorLine | EngineError):
                return error_response(500, item.message)
            elif isinstance(item, MalformedLine):
                return Response(item.raw.encode("utf-8"), media_type=JSON_TYPE)
            elif isinstance(item, Drop):
                return StreamingResponse(_dropping(), media_type=JSON_TYPE)
            item = await anext(events, None)
        return error_response(
            500, "an error was encountered while running the model: the engine stopped without finishing"
        )


class PullReply:
    """Status lines of one pull: each Progress as {status, digest?, total?, completed?}; stream:false keeps
    only the outcome ({"status":"success"}, or the error with status 500)."""

    def stream(self, first: Any, events: Events, cleanup: Callable[[], Awaitable[None]]) -> StreamingResponse:
        """Streaming NDJSON, one flushed line per status; `cleanup` runs however the stream ends."""

        async def lines() -> AsyncIterator[bytes]:
            try:
                item: Any = first
                while item is not None:
                    if isinstance(item, Progress):
                        yield dumps(item.to_json()) + b"\n"
                    elif isinstance(item, ErrorLine | EngineError):
                        yield dumps({"error": item.message}) + b"\n"
                        return
                    elif isinstance(item, MalformedLine):
                        yield item.raw.encode("utf-8") + b"\n"
                    elif isinstance(item, Drop):
                        raise ConnectionDropped()
                    item = await anext(events, None)
            finally:
                await cleanup()

        return StreamingResponse(lines(), media_type=NDJSON_TYPE)

    async def collect(self, first: Any, events: Events) -> Response:
        """stream:false: the last status once the pull ends, or its error with status 500."""
        item: Any = first
        last: Progress | None = None
        while item is not None:
            if isinstance(item, Progress):
                last = item
            elif isinstance(item, ErrorLine | EngineError):
                return error_response(500, item.message)
            elif isinstance(item, MalformedLine):
                return Response(item.raw.encode("utf-8"), media_type=JSON_TYPE)
            elif isinstance(item, Drop):
                return StreamingResponse(_dropping(), media_type=JSON_TYPE)
            item = await anext(events, None)
        if last is None or last.status != "success":
            return error_response(500, "the pull stopped before it was complete")
        return json_response(last.to_json())


async def _dropping() -> AsyncIterator[bytes]:
    """A body that ends the connection before it is complete."""
    yield b""
    raise ConnectionDropped()
