"""The Starlette app that speaks the Ollama HTTP API (as Ollama's API reference describes it) in front of an Engine, and the
OpenAI-compatible API beside it (core.embedded.openai_api registers the /v1 routes).

Every rule about statuses, error texts and chunk shapes lives here or in core.embedded.protocol; engines
only produce events. Faults a ScriptedEngine injects are written at the protocol level exactly as a real
server would produce them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core.embedded.engine import Engine, EngineError, Event, ModelCard, Puller, PullEvent, SeenRequest
from core.embedded.openai_api import openai_routes
from core.embedded.protocol import (
    OLLAMA_VERSION,
    ProtocolError,
    check_field,
    check_format,
    check_images,
    check_options,
    decode_body,
    format_parameters,
    local_time,
    modelfile_text,
    parse_keep_alive,
    parse_think,
    valid_model_name,
)
from core.embedded.replies import PullReply, Reply, error_response, json_response
from core.embedded.worker import GenerationLine

__all__ = ["build_app"]


def _not_supported_text(action: str, models: list[str]) -> str:
    served = ", ".join(models) or "none"
    return (
        f"the embedded backend (llama.cpp) cannot {action}: it serves its bundled models, the GGUF models pulled "
        f"from Hugging Face (hf.co/...), the .gguf files in IA_HOME/models and Ollama's downloaded models "
        f"(available now: {served}); install Ollama (https://ollama.com) to manage models"
    )


class _Api:
    """Route handlers bound to one engine and one generation line."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.line = GenerationLine()
        self.transfers = GenerationLine("ia-embedded-pull")  # pulls run one at a time, beside generations

    # --- plumbing ------------------------------------------------------------------------------------

    async def _body(self, request: Request, go_type: str) -> dict[str, Any]:
        raw = await request.body()
        try:
            parsed: Any = json.loads(raw) if raw.strip() else None
        except ValueError:
            parsed = raw.decode("utf-8", errors="replace")
        self.engine.observe(SeenRequest(request.method, request.url.path, parsed))
        return decode_body(raw, go_type)

    def _find(self, name: str, *, normalised: bool = False) -> ModelCard:
        card = self.engine.find(name) if name else None
        if card is None:
            shown = name if not normalised or ":" in name else f"{name}:latest"
            raise ProtocolError(404, f"model '{shown}' not found")
        return card

    @staticmethod
    async def _watch_disconnect(request: Request, cancel: threading.Event) -> None:
        """Set `cancel` when the client goes away (the body has been read already)."""
        while not cancel.is_set():
            message = await request.receive()
            if message["type"] == "http.disconnect":
                cancel.set()
                return

    # --- simple endpoints ----------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def version(self, request: Request) -> Response:
        return json_response({"version": OLLAMA_VERSION})

    def _details(self, card: ModelCard) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": card.family,
            "families": [card.family] if card.family else None,
            "parameter_size": card.parameter_size,
            "quantization_level": card.quantization_level,
        }

    async def tags(self, request: Request) -> Response:
        cards = await asyncio.to_thread(self.engine.list_models)
        models = []
        for card in sorted(cards, key=lambda c: c.modified_at, reverse=True):
            entry: dict[str, Any] = {
                "name": card.name,
                "model": card.name,
                "modified_at": local_time(card.modified_at),
                "size": card.size,
                "digest": card.digest,
                "details": self._details(card),
            }
            if card.capabilities:
                entry["capabilities"] = list(card.capabilities)
            if card.context_length:
                entry["details"]["context_length"] = card.context_length
            models.append(entry)
        return json_response({"models": models})

    async def show(self, request: Request) -> Response:
        body = await self._body(request, "ShowRequest")
        check_field(body, "model", str, "ShowRequest")
        check_field(body, "name", str, "ShowRequest")
        name = body.get("model") or body.get("name") or ""
        if not name:
            raise ProtocolError(400, "model is required")
        card = await asyncio.to_thread(self._find, name, normalised=True)
        if card.problem:
            return error_response(500, card.problem)
        data: dict[str, Any] = {
            "modelfile": modelfile_text(card),
            "parameters": format_parameters(card.parameters),
            "template": card.template,
            "details": self._details(card),
            "model_info": dict(card.model_info),
            "capabilities": list(card.capabilities),
            "modified_at": local_time(card.modified_at),
        }
        if card.system:
            data["system"] = card.system
        if card.license:
            data["license"] = card.license
        return json_response(data)

    async def ps(self, request: Request) -> Response:
        running = await asyncio.to_thread(self.engine.loaded)
        models = [
            {
                "name": item.card.name,
                "model": item.card.name,
                "size": item.size,
                "digest": item.card.digest,
                "details": self._details(item.card),
                "expires_at": local_time(item.expires_at),
                "size_vram": item.size_vram,
                "context_length": item.context_length,
            }
            for item in sorted(running, key=lambda r: r.expires_at, reverse=True)
        ]
        return json_response({"models": models})

    async def unsupported(self, request: Request) -> Response:
        raw = await request.body()
        try:
            parsed: Any = json.loads(raw) if raw.strip() else None
        except ValueError:
            parsed = raw.decode("utf-8", errors="replace")
        self.engine.observe(SeenRequest(request.method, request.url.path, parsed))
        path = request.url.path
        action = {
            "/api/pull": "pull models",
            "/api/push": "push models",
            "/api/create": "create models",
            "/api/copy": "copy models",
            "/api/embed": "compute embeddings",
            "/api/embeddings": "compute embeddings",
        }.get(path, "create models")  # /api/blobs/<digest>: uploads for create
        names = [card.name for card in await asyncio.to_thread(self.engine.list_models)]
        return error_response(501, _not_supported_text(action, names))

    # --- model management ----------------------------------------------------------------------------

    async def pull(self, request: Request) -> Response:
        engine = self.engine
        if not isinstance(engine, Puller) or not engine.can_pull:
            return await self.unsupported(request)
        body = await self._body(request, "PullRequest")
        for key, kind in (("model", str), ("name", str), ("insecure", bool), ("stream", bool)):
            check_field(body, key, kind, "PullRequest")
        name = body.get("model") or body.get("name") or ""
        if not valid_model_name(name):
            raise ProtocolError(400, "invalid model name")

        def start(cancel: threading.Event) -> Iterator[PullEvent]:
            return engine.pull(name, cancel)

        streaming = body.get("stream", True) is not False
        return await self._respond(request, start, PullReply(), streaming, line=self.transfers)

    async def delete(self, request: Request) -> Response:
        body = await self._body(request, "DeleteRequest")
        for key in ("model", "name"):
            check_field(body, key, str, "DeleteRequest")
        name = body.get("model") or body.get("name") or ""
        if not valid_model_name(name):
            raise ProtocolError(400, f'name "{name}" is invalid')
        cancel = threading.Event()
        watcher = asyncio.create_task(self._watch_disconnect(request, cancel))
        try:  # on the generation line: never under a running generation of that model
            await self.line.call(lambda: self.engine.delete(name), cancel)
        except EngineError as exc:
            return error_response(exc.status, exc.message)
        finally:
            watcher.cancel()
        return Response(status_code=200)

    async def tokenize(self, request: Request) -> Response:
        """IA_V3's own route (Ollama has none): {"model", "messages"} -> {"model", "count"}, the tokens of the
        prompt /api/chat would read for these messages. Not on the generation line: it never waits for one."""
        body = await self._body(request, "TokenizeRequest")
        for key, kind in (("model", str), ("messages", list)):
            check_field(body, key, kind, "TokenizeRequest")
        name = body.get("model") or ""
        if not name:
            raise ProtocolError(400, "model is required")
        card = await asyncio.to_thread(self._find, name)
        clean = self._messages(body.get("messages") or [])
        try:
            count = await asyncio.to_thread(self.engine.count_tokens, card.name, clean)
        except EngineError as exc:
            return error_response(exc.status, exc.message)
        return json_response({"model": name, "count": count})

    # --- chat and generate ---------------------------------------------------------------------------

    async def chat(self, request: Request) -> Response:
        started = time.perf_counter_ns()
        body = await self._body(request, "ChatRequest")
        for key, kind in (("model", str), ("messages", list), ("stream", bool), ("tools", list)):
            check_field(body, key, kind, "ChatRequest")
        top = body.get("top_logprobs")
        if top is not None and (not isinstance(top, int) or not 0 <= top <= 20):
            raise ProtocolError(400, "top_logprobs must be between 0 and 20")
        name = body.get("model") or ""
        if not name:
            raise ProtocolError(400, "model is required")
        card = await asyncio.to_thread(self._find, name)
        messages = body.get("messages") or []
        keep_alive = parse_keep_alive(body.get("keep_alive"))
        if not messages and keep_alive == 0:
            await self._unload(request, card.name)
            return json_response(Reply(name, chat=True).chunk("", done_reason="unload"))
        think = self._think(body, card, name)
        if "completion" not in card.capabilities:
            raise ProtocolError(400, f'"{name}" does not support chat')
        if body.get("tools") and "tools" not in card.capabilities:
            raise ProtocolError(400, f"registry.ollama.ai/library/{card.name} does not support tools")
        clean = self._messages(messages)
        for message in clean:
            if message.get("images") is not None:
                check_images(message["images"])
        if any(m.get("images") for m in clean) and "vision" not in card.capabilities:
            raise ProtocolError(400, _no_images_text(card, name))
        options = check_options(body.get("options"))
        fmt = check_format(body.get("format"))
        if not messages:
            return await self._load(request, card, name, options, keep_alive, chat=True)

        def start(cancel: threading.Event) -> Iterator[Event]:
            return self.engine.chat(
                card.name, clean, options, cancel, think=bool(think), keep_alive_s=keep_alive, format=fmt
            )

        reply = Reply(name, chat=True, started_ns=started)
        return await self._respond(request, start, reply, body.get("stream", True) is not False)

    async def generate(self, request: Request) -> Response:
        started = time.perf_counter_ns()
        body = await self._body(request, "GenerateRequest")
        for key, kind in (
            ("model", str), ("prompt", str), ("system", str), ("template", str), ("suffix", str),
            ("raw", bool), ("stream", bool), ("images", list), ("context", list),
        ):  # fmt: skip
            check_field(body, key, kind, "GenerateRequest")
        name = body.get("model") or ""
        card = await asyncio.to_thread(self._find, name)
        prompt = body.get("prompt") or ""
        keep_alive = parse_keep_alive(body.get("keep_alive"))
        if not prompt and keep_alive == 0:
            await self._unload(request, card.name)
            return json_response(Reply(name, chat=False).chunk("", done_reason="unload"))
        raw = bool(body.get("raw"))
        if raw and (body.get("template") or body.get("system") or body.get("context")):
            raise ProtocolError(400, "raw mode does not support template, system, or context")
        think = self._think(body, card, name)
        if "completion" not in card.capabilities:
            raise ProtocolError(400, f'"{name}" does not support generate')
        if body.get("suffix") and "insert" not in card.capabilities:
            raise ProtocolError(400, f"registry.ollama.ai/library/{card.name} does not support insert")
        if body.get("template"):
            raise ProtocolError(400, "the embedded backend does not support a custom template; use raw=true")
        images = body.get("images") or []
        check_images(images)
        if images and "vision" not in card.capabilities:
            raise ProtocolError(400, _no_images_text(card, name))
        options = check_options(body.get("options"))
        fmt = check_format(body.get("format"))
        if not prompt:
            return await self._load(request, card, name, options, keep_alive, chat=False)
        system = body.get("system") or ""
        context = _context(body.get("context"))

        def start(cancel: threading.Event) -> Iterator[Event]:
            return self.engine.generate(
                card.name, prompt, options, cancel, raw=raw, system=system, think=bool(think),
                keep_alive_s=keep_alive, format=fmt, context=context,
            )  # fmt: skip

        reply = Reply(name, chat=False, started_ns=started, context=not raw)
        return await self._respond(request, start, reply, body.get("stream", True) is not False)

    @staticmethod
    def _think(body: dict[str, Any], card: ModelCard, name: str) -> bool:
        requested = parse_think(body.get("think"))
        if requested and "thinking" not in card.capabilities:
            raise ProtocolError(400, f'"{name}" does not support thinking')
        if requested is None:  # Ollama enables thinking by default for thinking models
            return "thinking" in card.capabilities
        return requested

    @staticmethod
    def _messages(messages: list[Any]) -> list[dict[str, Any]]:
        clean = []
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                raise ProtocolError(
                    400, f"json: cannot unmarshal value into Go struct field ChatRequest.messages[{index}]"
                )
            for key in ("role", "content", "thinking"):
                if message.get(key) is not None and not isinstance(message[key], str):
                    raise ProtocolError(
                        400,
                        f"json: cannot unmarshal value into Go struct field Message.messages.{key} of type string",
                    )
            item = dict(message)
            item["role"] = (message.get("role") or "").lower()
            item["content"] = message.get("content") or ""
            clean.append(item)
        return clean

    async def _unload(self, request: Request, name: str) -> None:
        """Unload in turn, never under a running generation."""
        cancel = threading.Event()
        watcher = asyncio.create_task(self._watch_disconnect(request, cancel))
        try:
            await self.line.call(lambda: self.engine.unload(name), cancel)
        finally:
            watcher.cancel()

    async def _load(
        self, request: Request, card: ModelCard, name: str, options: dict[str, Any], keep_alive: float | None,
        *, chat: bool,
    ) -> Response:  # fmt: skip
        cancel = threading.Event()
        watcher = asyncio.create_task(self._watch_disconnect(request, cancel))
        try:
            await self.line.call(lambda: self.engine.load(card.name, options, keep_alive), cancel)
        except EngineError as exc:
            return error_response(exc.status, exc.message)
        finally:
            watcher.cancel()
        return json_response(Reply(name, chat=chat).chunk("", done_reason="load"))

    async def _respond(
        self,
        request: Request,
        start: Callable[[threading.Event], Iterator[Any]],
        reply: Reply | PullReply,
        streaming: bool,
        *,
        line: GenerationLine | None = None,
    ) -> Response:
        cancel = threading.Event()
        watcher = asyncio.create_task(self._watch_disconnect(request, cancel))
        events = (line or self.line).run(start, cancel)

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
            return error_response(first.status, first.message)
        if streaming:
            return reply.stream(first, events, cleanup)
        try:
            return await reply.collect(first, events)
        finally:
            await cleanup()


def _no_images_text(card: ModelCard, name: str) -> str:
    """Why images are refused: a text-only model, or a projector the embedded backend does not use."""
    if card.vision_note:
        return f'"{name}" does not support images here: {card.vision_note}'
    return f'"{name}" does not support images: it is a text-only model (no vision)'


def _context(value: Any) -> list[int] | None:
    """generate's deprecated `context`: a list of token ids (Go []int), or None."""
    if not value:
        return None
    for item in value:
        if not isinstance(item, int) or isinstance(item, bool):
            got = {str: "string", bool: "bool", float: "number", list: "array", dict: "object"}.get(
                type(item), "value"
            )
            raise ProtocolError(
                400, f"json: cannot unmarshal {got} into Go struct field GenerateRequest.context of type int"
            )
    return list(value)


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("404 page not found", status_code=404)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 405:
        return PlainTextResponse("405 method not allowed", status_code=405, headers=exc.headers)
    if exc.status_code == 404:
        return PlainTextResponse("404 page not found", status_code=404)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


def _guard(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turn ProtocolError into Ollama's {"error"} body with its status."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ProtocolError as exc:
            return error_response(exc.status, exc.message)

    return endpoint


def build_app(engine: Engine) -> Starlette:
    """The ASGI app serving `engine` over the Ollama API and, under /v1, the OpenAI API."""
    api = _Api(engine)
    routes = [
        Route("/", _guard(api.root), methods=["GET", "HEAD"]),
        Route("/api/version", _guard(api.version), methods=["GET", "HEAD"]),
        Route("/api/tags", _guard(api.tags), methods=["GET", "HEAD"]),
        Route("/api/show", _guard(api.show), methods=["POST"]),
        Route("/api/ps", _guard(api.ps), methods=["GET", "HEAD"]),
        Route("/api/chat", _guard(api.chat), methods=["POST"]),
        Route("/api/generate", _guard(api.generate), methods=["POST"]),
        Route("/api/tokenize", _guard(api.tokenize), methods=["POST"]),
        Route("/api/pull", _guard(api.pull), methods=["POST"]),
        Route("/api/delete", _guard(api.delete), methods=["DELETE"]),
    ]
    for path in ("/api/push", "/api/create", "/api/copy", "/api/embed", "/api/embeddings"):
        routes.append(Route(path, _guard(api.unsupported), methods=["POST"]))
    # Ollama endpoints this server does not offer: a clear 501 rather than "404 page not found".
    routes.append(Route("/api/blobs/{digest}", _guard(api.unsupported), methods=["HEAD", "POST"]))
    routes += openai_routes(engine, api.line)  # /v1: the OpenAI-compatible API, on the same generation line
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, 404: _not_found})
    app.state.engine = engine
    return app
