"""The OpenAI-compatible API of the embedded server, beside its Ollama API, as Ollama itself offers one.

Routes: `GET /v1/models`, `GET /v1/models/{model}`, `POST /v1/chat/completions`, `POST /v1/completions`.
They run on the engine and the generation line of the Ollama endpoints (core.embedded.app), so one generation
runs at a time whichever API asked for it, and a client that leaves stops its generation. Request reading
is in core.embedded.openai_requests, answer shapes in core.embedded.openai_replies. Other OpenAI endpoints
(embeddings, responses, images, audio, ...) are a 501 saying what this server offers; any other /v1 path is
OpenAI's 404 `Invalid URL`. Every error has OpenAI's shape: `{"error": {message, type, param, code}}`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.embedded.engine import Engine, EngineError, Event, ModelCard, SeenRequest
from core.embedded.openai_replies import CompletionReply, engine_error, openai_error, openai_json
from core.embedded.openai_requests import OpenAIError, decode_json, read_chat, read_completion, require_model
from core.embedded.worker import GenerationLine

__all__ = ["OFFERED", "OpenAIApi", "openai_routes"]

OFFERED = ("/v1/models", "/v1/chat/completions", "/v1/completions")
# OpenAI endpoints this server does not offer (a 501, rather than the 404 of a path OpenAI does not have).
_NOT_OFFERED = ("embeddings", "responses", "images", "audio", "moderations", "files", "batches", "uploads",
                "fine_tuning", "assistants", "threads", "vector_stores", "realtime", "messages")  # fmt: skip


def _owner(name: str) -> str:
    """`owned_by`: the namespace in the model's name ("hf.co/bartowski/x" → "bartowski"), else "library",
    as Ollama answers."""
    parts = name.split(":", 1)[0].split("/")
    return parts[-2] if len(parts) >= 2 else "library"


def _model_entry(card: ModelCard) -> dict[str, Any]:
    return {
        "id": card.name,
        "object": "model",
        "created": _unix(card.modified_at),
        "owned_by": _owner(card.name),
    }


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


async def _watch_disconnect(request: Request, cancel: threading.Event) -> None:
    """Set `cancel` when the client goes away (the body has been read already)."""
    while not cancel.is_set():
        message = await request.receive()
        if message["type"] == "http.disconnect":
            cancel.set()
            return


class OpenAIApi:
    """Handlers of the /v1 routes, on the engine and generation line the Ollama routes use."""

    def __init__(self, engine: Engine, line: GenerationLine) -> None:
        self.engine = engine
        self.line = line

    # --- plumbing ------------------------------------------------------------------------------------

    async def _body(self, request: Request) -> dict[str, Any]:
        """The JSON object sent, recorded by the engine as it came (the raw text when it is not JSON)."""
        raw = await request.body()
        try:
            body = decode_json(raw)
        except OpenAIError:
            text = raw.decode("utf-8", errors="replace") if raw.strip() else None
            self.engine.observe(SeenRequest(request.method, request.url.path, text))
            raise
        self.engine.observe(SeenRequest(request.method, request.url.path, body))
        return body

    async def _card(self, name: str) -> ModelCard:
        card = await asyncio.to_thread(self.engine.find, name)
        if card is None:
            names = [c.name for c in await asyncio.to_thread(self.engine.list_models)]
            raise OpenAIError(
                404,
                f"The model `{name}` does not exist on this server (the embedded backend); it serves: "
                f"{', '.join(names) or 'no models'}.",
                param="model",
                code="model_not_found",
            )
        return card

    async def _respond(
        self, request: Request, start: Callable[[threading.Event], Iterator[Event]], reply: CompletionReply,
        streaming: bool,
    ) -> Response:  # fmt: skip
        """Run a generation in its turn; stream or collect its events; stop it when the client leaves."""
        cancel = threading.Event()
        watcher = asyncio.create_task(_watch_disconnect(request, cancel))
        events = self.line.run(start, cancel)

        async def cleanup() -> None:
            cancel.set()
            watcher.cancel()
            await events.aclose()

        try:
            first = await anext(events, None)
        except BaseException:
            await cleanup()
            raise
        if isinstance(first, EngineError):  # before the first chunk: a real HTTP error
            await cleanup()
            return openai_error(engine_error(first))
        if streaming:
            return reply.stream(first, events, cleanup)
        try:
            return await reply.collect(first, events)
        finally:
            await cleanup()

    @staticmethod
    def _fingerprint(card: ModelCard) -> str:
        """system_fingerprint: changes when the model file does (its digest)."""
        return f"fp_{card.digest[:10]}"

    # --- endpoints -----------------------------------------------------------------------------------

    async def models(self, request: Request) -> Response:
        self.engine.observe(SeenRequest(request.method, request.url.path, None))
        cards = await asyncio.to_thread(self.engine.list_models)
        ordered = sorted(cards, key=lambda c: c.modified_at, reverse=True)
        return openai_json({"object": "list", "data": [_model_entry(card) for card in ordered]})

    async def model(self, request: Request) -> Response:
        self.engine.observe(SeenRequest(request.method, request.url.path, None))
        card = await self._card(request.path_params["model"])
        return openai_json(_model_entry(card))

    async def chat(self, request: Request) -> Response:
        body = await self._body(request)
        card = await self._card(require_model(body))
        wanted = read_chat(body, card)
        think = "thinking" in card.capabilities if wanted.think is None else wanted.think

        def start(cancel: threading.Event) -> Iterator[Event]:
            return self.engine.chat(
                card.name, wanted.messages, wanted.options, cancel, think=think, format=wanted.format
            )

        reply = CompletionReply(
            wanted.model, chat=True, include_usage=wanted.include_usage, fingerprint=self._fingerprint(card)
        )
        return await self._respond(request, start, reply, wanted.stream)

    async def completions(self, request: Request) -> Response:
        body = await self._body(request)
        card = await self._card(require_model(body))
        wanted = read_completion(body, card)

        def start(cancel: threading.Event) -> Iterator[Event]:
            return self.engine.generate(
                card.name, wanted.prompt, wanted.options, cancel, raw=True, format=wanted.format
            )

        reply = CompletionReply(
            wanted.model,
            chat=False,
            include_usage=wanted.include_usage,
            fingerprint=self._fingerprint(card),
            echo=wanted.prompt if wanted.echo else "",
        )
        return await self._respond(request, start, reply, wanted.stream)

    async def other(self, request: Request) -> Response:
        """A /v1 path or method this server does not serve, answered in OpenAI's error shape."""
        await request.body()
        path = request.url.path
        rest = path.removeprefix("/v1/")
        offered = ", ".join(OFFERED)
        if path in OFFERED or rest.startswith("models/"):
            allowed = "POST" if path.endswith("completions") else "GET"
            return openai_error(
                OpenAIError(405, f"Method {request.method} is not allowed on {path}: use {allowed}."),
                headers={"Allow": allowed},
            )
        if rest.split("/", 1)[0] in _NOT_OFFERED:
            return openai_error(
                OpenAIError(
                    501,
                    f"The embedded backend (llama.cpp) does not offer {path}: it serves {offered}. Install "
                    "Ollama (https://ollama.com) for the rest of the OpenAI-compatible API.",
                    code="not_implemented",
                    kind="invalid_request_error",
                )
            )
        return openai_error(
            OpenAIError(404, f"Invalid URL ({request.method} {path}): this server offers {offered}.")
        )


def _guard(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turn OpenAIError into OpenAI's error body with its status."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except OpenAIError as exc:
            return openai_error(exc)

    return endpoint


def openai_routes(engine: Engine, line: GenerationLine) -> list[Route]:
    """The /v1 routes, sharing `line` (one generation at a time) with the Ollama routes."""
    api = OpenAIApi(engine, line)
    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [
        Route("/v1/models", _guard(api.models), methods=["GET", "HEAD"]),
        Route("/v1/models/{model:path}", _guard(api.model), methods=["GET", "HEAD"]),
        Route("/v1/chat/completions", _guard(api.chat), methods=["POST"]),
        Route("/v1/completions", _guard(api.completions), methods=["POST"]),
        Route("/v1/{rest:path}", _guard(api.other), methods=every),
    ]
