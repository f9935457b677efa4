"""The only code that talks to a model server: the official `ollama` client with typed streams and stats,
cancel, first-token and stall timeouts (see core.ollama_stream), and one `core.errors` type per failure.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from config import parse_host
from core.errors import IAError, ServerError, ServerUnreachable, StreamBroken
from core.i18n import _, format_number
from core.model_records import ModelDetails, ModelInfo, RunningModel
from core.ollama_errors import response_error, translate_error
from core.ollama_stream import (
    ChatStream,
    Chunk,
    ContentChunk,
    FinalChunk,
    PullStream,
    Reply,
    StreamStats,
    ThinkingChunk,
    attach_trace,
)

__all__ = [
    "BACKEND_HEADER",
    "ChatStream",
    "Chunk",
    "ContentChunk",
    "FinalChunk",
    "OllamaClient",
    "PullStream",
    "Reply",
    "StreamStats",
    "ThinkingChunk",
    "translate_error",
]


# IA_V3's embedded server sends this header with every answer (core.embedded.server.BACKEND_HEADER, which
# cannot be imported here without uvicorn); Ollama does not.
BACKEND_HEADER = "x-ia-backend"


def _prepare_messages(messages: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copy messages, turning image paths into Path objects and refusing missing files with a clear error."""
    out = []
    for message in messages:
        msg = dict(message)
        if msg.get("images"):
            msg["images"] = [_image(i) for i in msg["images"]]
        out.append(msg)
    return out


def _image(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    path = Path(value)
    if not path.is_file():
        raise IAError(
            _("Cannot attach image {path}: the file does not exist; attach it again.").format(path=path)
        )
    return path


class OllamaClient:
    """Chat, generate and model management against one Ollama-compatible server."""

    def __init__(
        self,
        host: str,
        *,
        connect_timeout: float = 3.0,
        first_token_timeout: float = 600.0,
        stall_timeout: float = 120.0,
    ) -> None:
        self.host = parse_host(host)
        # Which server answers here ("embedded" or "ollama"), once identify() has seen it (or connect() started
        # it); errors name it: an embedded backend that stopped is not "Ollama".
        self.server_kind: str | None = None
        self.connect_timeout = connect_timeout
        self.first_token_timeout = first_token_timeout
        self.stall_timeout = stall_timeout
        self.read_timeout = max(first_token_timeout, stall_timeout)
        timeout = httpx.Timeout(
            connect=connect_timeout,
            read=self.read_timeout,
            write=max(connect_timeout, stall_timeout),
            pool=connect_timeout,
        )
        self._timeout = timeout
        # /api/tags, /api/show and /api/version load no model: a server silent for a stall period is hung.
        self._answer_timeout = httpx.Timeout(
            connect=connect_timeout, read=stall_timeout, write=stall_timeout, pool=connect_timeout
        )
        # Plain http needs no certificate store: loading one costs tens of ms per client at start-up.
        self._verify = self.host.startswith("https://")
        self._ollama_client: Any = None
        self._ollama_lock = threading.Lock()
        headers = {}
        if key := os.getenv("OLLAMA_API_KEY"):
            headers["Authorization"] = f"Bearer {key}"
        # For the endpoints ollama-python lacks (/, /api/version) or trims (/api/tags capabilities, show system).
        self._http = httpx.Client(base_url=self.host, timeout=timeout, headers=headers, verify=self._verify)

    @property
    def _ollama(self) -> Any:
        """The official client, built on first use: importing `ollama` (pydantic models) takes about half a
        second, which the CLI and app spend in the background (``warm``) instead of before the first prompt."""
        client = self._ollama_client
        if client is None:
            with self._ollama_lock:
                client = self._ollama_client
                if client is None:
                    import ollama

                    client = ollama.Client(
                        self.host,
                        timeout=self._timeout,
                        verify=self._verify,
                        limits=httpx.Limits(max_keepalive_connections=0),  # one connection per request
                        event_hooks={"request": [attach_trace]},
                    )
                    self._ollama_client = client
        return client

    def warm(self) -> None:
        """Import and build the official client now (call it on a background thread at start-up)."""
        self._ollama  # noqa: B018 - the property builds the client

    # -- server --------------------------------------------------------------------------------------
    def ping(self) -> bool:
        """True when the server answers 'Ollama is running' within the connect timeout."""
        return self.identify() is not None

    def identify(self) -> str | None:
        """Who answers within the connect timeout: "embedded" (IA_V3's own server), "ollama", or None."""
        try:
            r = self._http.get("/", timeout=self.connect_timeout)
        except (httpx.HTTPError, OSError):
            return None
        if r.status_code != 200 or "Ollama is running" not in r.text:
            return None
        self.server_kind = "embedded" if r.headers.get(BACKEND_HEADER) == "embedded" else "ollama"
        return self.server_kind

    def version(self) -> str:
        return str(self._json("GET", "/api/version").get("version", ""))

    # -- replies -------------------------------------------------------------------------------------
    def chat_stream(
        self,
        model: str,
        messages: list[dict],
        *,
        options: dict | None = None,
        keep_alive: str | float | None = None,
        think: bool | str | None = None,
        format: str | dict | None = None,
    ) -> ChatStream:
        """A lazy chat stream: the request goes out on the first next() (or ``start()``)."""
        _check_model(model)
        msgs = _prepare_messages(messages)

        def open_parts() -> Iterator[Any]:
            return self._ollama.chat(
                model,
                messages=msgs,
                stream=True,
                options=options,
                keep_alive=keep_alive,
                think=think,
                format=format,
            )

        return ChatStream(self, model, open_parts, chat=True)

    def generate_stream(
        self,
        model: str,
        prompt: str,
        *,
        raw: bool = False,
        system: str | None = None,
        suffix: str | None = None,
        options: dict | None = None,
        keep_alive: str | float | None = None,
        images: list | None = None,
        think: bool | str | None = None,
    ) -> ChatStream:
        """A lazy raw-completion stream (/api/generate), for base models and the benchmark."""
        _check_model(model)
        imgs = [_image(i) for i in images] if images else None

        def open_parts() -> Iterator[Any]:
            return self._ollama.generate(
                model,
                prompt,
                suffix,
                system=system,
                raw=raw,
                stream=True,
                options=options,
                keep_alive=keep_alive,
                images=imgs,
                think=think,
            )

        return ChatStream(self, model, open_parts, chat=False)

    def chat(self, model: str, messages: list[dict], **kwargs: Any) -> Reply:
        """The whole reply at once; streamed underneath so the first-token and stall limits still apply."""
        return _collect(self.chat_stream(model, messages, **kwargs))

    def generate(self, model: str, prompt: str, **kwargs: Any) -> Reply:
        return _collect(self.generate_stream(model, prompt, **kwargs))

    # -- models --------------------------------------------------------------------------------------
    def list_models(self) -> list[ModelInfo]:
        data = self._json("GET", "/api/tags")
        return [ModelInfo.from_tags(m) for m in data.get("models") or []]

    def show(self, model: str) -> ModelDetails:
        _check_model(model)
        return ModelDetails.from_show(model, self._json("POST", "/api/show", {"model": model}, model=model))

    def ps(self) -> list[RunningModel]:
        return [RunningModel.from_ps(m) for m in self._call(self._ollama.ps).models]

    def pull(self, model: str) -> PullStream:
        _check_model(model)
        return PullStream(self, model, lambda: self._ollama.pull(model, stream=True))

    def create(
        self,
        model: str,
        *,
        from_: str | None = None,
        system: str | None = None,
        template: str | None = None,
        parameters: dict | None = None,
    ) -> PullStream:
        _check_model(model)

        def open_parts() -> Iterator[Any]:
            return self._ollama.create(
                model, from_=from_, system=system, template=template, parameters=parameters, stream=True
            )

        return PullStream(self, from_ or model, open_parts)

    def delete(self, model: str) -> None:
        _check_model(model)
        self._call(lambda: self._ollama.delete(model), model)

    def unload(self, model: str) -> None:
        """Free the model's memory now (keep_alive=0)."""
        _check_model(model)
        self._call(lambda: self._ollama.chat(model, messages=[], keep_alive=0), model)

    def close(self) -> None:
        if self._ollama_client is not None:
            self._ollama_client.close()
        self._http.close()

    def __enter__(self) -> OllamaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any], model: str = "") -> Any:
        try:
            return fn()
        except Exception as exc:
            error = translate_error(
                exc,
                host=self.host,
                model=model,
                read_timeout=self.read_timeout,
                backend=self.server_kind or "ollama",
            )
            if error is exc:
                raise
            raise error from exc

    def _json(self, method: str, path: str, body: dict | None = None, *, model: str = "") -> dict[str, Any]:
        def request() -> httpx.Response:
            try:
                return self._http.request(method, path, json=body, timeout=self._answer_timeout)
            except httpx.ReadTimeout as exc:
                raise ServerUnreachable(
                    self.host,
                    _("it took the request but sent no answer within {seconds} s").format(
                        seconds=format_number(self.stall_timeout)
                    ),
                    backend=self.server_kind or "ollama",
                ) from exc

        r = self._call(request, model)
        if r.status_code >= 400:
            raise response_error(_error_text(r.text), r.status_code, model)
        try:
            data = r.json()
        except ValueError as exc:
            raise ServerError(
                r.status_code, _("the answer to {path} was not JSON").format(path=path)
            ) from exc
        if not isinstance(data, dict):
            raise ServerError(
                r.status_code, _("the answer to {path} was not a JSON object").format(path=path)
            )
        return data


def _error_text(body: str) -> str:
    """The server's `{"error": ...}` text, or the raw body (as ollama-python's ResponseError reads it)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return str(data.get("error", body)) if isinstance(data, dict) else body


def _check_model(model: str) -> None:
    if not model or not model.strip():
        raise IAError(_("No model was chosen: pick one with /models (or set IA_MODEL) and try again."))


def _collect(stream: ChatStream) -> Reply:
    for _chunk in stream:
        pass
    if stream.stats is None:  # cancelled: ChatStream ends quietly, a call that returns must still say so
        raise StreamBroken(_("the request was cancelled before the reply was complete"))
    return Reply(stream.text, stream.thinking, stream.stats)
