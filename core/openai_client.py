"""The client for OpenAI-compatible servers (llama-server, LM Studio, vLLM, llama-cpp-python's server, Ollama's
and IA_V3's own /v1), with the interface of core.ollama_client.OllamaClient: chat, CLI, app and benchmark use
either without knowing which, once core.backend.make_client has chosen it from the host.

A host is OpenAI-compatible when its path ends in /v1 or it is written ``openai:URL`` (config.parse_host);
requests go to the API's base URL (``/models``, ``/chat/completions``, ``/completions``), with
``Authorization: Bearer $OPENAI_API_KEY`` when that is set.

It speaks plain httpx rather than the official `openai` package: the cancel and deadline machinery
(core.ollama_stream) works on httpx's connection trace, which the package would hide behind its own retries,
timeouts and exception types; the package's import alone costs about 0.7 s of start-up (httpx: 0.1 s); and
its typed models drop what local servers add (`timings`, `reasoning_content`). The wire is small: one GET
and two streamed POSTs, read by core.openai_stream.

What the OpenAI API has no call for (pull, delete, create, unload, which models are loaded) raises
core.errors.NotSupported with what to do instead; ``show`` returns what the model list says (the context
length when the server gives it). Request bodies and model records are core.openai_wire's: Ollama options
without an OpenAI counterpart (num_ctx, num_gpu, keep_alive, ...) are the server's own settings, not sent.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx

from config import parse_host
from core.errors import IAError, NotSupported, ServerError, ServerUnreachable, StreamBroken
from core.i18n import _, format_number
from core.models import ModelDetails, ModelInfo, RunningModel
from core.ollama_client import BACKEND_HEADER, Reply, _check_model, _collect
from core.ollama_errors import translate_error
from core.ollama_stream import ChatStream, PullStream, attach_trace
from core.openai_errors import http_error, not_served
from core.openai_stream import OpenAIStream, completion_events, sse_events
from core.openai_wire import model_info, request_options, response_format, same_model, wire_message

__all__ = ["OPENAI_PREFIX", "OpenAIClient", "api_base", "is_openai_host"]

log = logging.getLogger("ia.openai")

OPENAI_PREFIX = "openai:"


def is_openai_host(host: str | None) -> bool:
    """True for a host spoken to with the OpenAI API: written ``openai:URL``, or a URL whose path ends in /v1."""
    normalised = parse_host(host)
    if normalised.startswith(OPENAI_PREFIX):
        return True
    return urllib.parse.urlsplit(normalised).path.rstrip("/").rsplit("/", 1)[-1] == "v1"


def api_base(host: str) -> str:
    """The base URL of an OpenAI-compatible host (``openai:`` removed)."""
    return parse_host(host).removeprefix(OPENAI_PREFIX)


class OpenAIClient:
    """Chat and completions against one OpenAI-compatible server; the interface of OllamaClient."""

    def __init__(
        self,
        host: str,
        *,
        connect_timeout: float = 3.0,
        first_token_timeout: float = 600.0,
        stall_timeout: float = 120.0,
    ) -> None:
        self.host = parse_host(host)  # as the user reads it (openai: kept when the path needs it)
        self.base_url = api_base(host)
        split = urllib.parse.urlsplit(self.base_url)
        self.root_url = f"{split.scheme}://{split.netloc}"
        self.server_kind: str | None = "openai"
        self.embedded = False  # IA_V3's own server (its x-ia-backend header), once identify() has seen it
        self.connect_timeout = connect_timeout
        self.first_token_timeout = first_token_timeout
        self.stall_timeout = stall_timeout
        self.read_timeout = max(first_token_timeout, stall_timeout)
        self._timeout = httpx.Timeout(
            connect=connect_timeout,
            read=self.read_timeout,
            write=max(connect_timeout, stall_timeout),
            pool=connect_timeout,
        )
        self._answer_timeout = httpx.Timeout(
            connect=connect_timeout, read=stall_timeout, write=stall_timeout, pool=connect_timeout
        )
        verify = self.base_url.startswith("https://")
        key = os.getenv("OPENAI_API_KEY")
        self._key_sent = bool(key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        base = self.base_url + "/"
        # Answers (model list, version): one client, keep-alive. Replies: one connection per request, with the
        # trace hook that lets a stream see its socket (cancel and deadlines shut it down).
        self._http = httpx.Client(base_url=base, timeout=self._timeout, headers=headers, verify=verify)
        self._streams = httpx.Client(
            base_url=base,
            timeout=self._timeout,
            headers=headers,
            verify=verify,
            limits=httpx.Limits(max_keepalive_connections=0),
            event_hooks={"request": [attach_trace]},
        )
        self._lock = threading.Lock()
        self._served: list[str] | None = None  # the model list, kept to check names before a request
        self._no_list = False  # the server answered /models with 404: it has no list, names are not checked
        self._version: str | None = None
        self._dropped_logged: set[str] = set()

    def warm(self) -> None:
        """Nothing to import late (OllamaClient builds the `ollama` client here)."""

    # -- server --------------------------------------------------------------------------------------
    def ping(self) -> bool:
        """True when an HTTP server answers at the API's address within the connect timeout."""
        return self.identify() is not None

    def identify(self) -> str | None:
        """ "openai" when the server answers GET /models (any HTTP status: a server without a model list or
        one that wants a key is still there), None when nothing answers within the connect timeout."""
        try:
            r = self._http.get("models", timeout=self.connect_timeout)
        except (httpx.HTTPError, OSError):
            return None
        self.embedded = r.headers.get(BACKEND_HEADER) == "embedded"
        return "openai"

    def version(self) -> str:
        """Which server software answers, as far as it says: "llama-server b5000", "vllm 0.9.1",
        "llama-cpp-python 0.3.16", "IA_V3 embedded 3.0.0", or "" (the benchmark records it with each run)."""
        if self._version is None:
            self._version = self._probe_version()
        return self._version

    def _probe_version(self) -> str:
        def get(path: str) -> dict[str, Any]:
            try:
                r = self._http.get(f"{self.root_url}{path}", timeout=self._answer_timeout)
                data = r.json() if r.status_code == 200 else {}
            except (httpx.HTTPError, OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}

        if self.embedded and (version := get("/api/version").get("version")):
            return f"IA_V3 embedded {version}"
        if build := get("/props").get("build_info"):
            return f"llama-server {build}"
        if version := get("/version").get("version"):
            return f"vllm {version}"
        info = get("/openapi.json").get("info")
        if isinstance(info, dict) and info.get("title"):
            title = str(info["title"])
            name = "llama-cpp-python" if "llama.cpp python" in title.lower() else title
            return f"{name} {info.get('version', '')}".strip()
        return ""

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
        """A lazy chat stream (POST /chat/completions): the request goes out on the first next()."""
        _check_model(model)
        body: dict[str, Any] = {"model": model, "messages": [wire_message(m) for m in messages]}
        body.update(self._params(options))
        if (wanted := response_format(format)) is not None:
            body["response_format"] = wanted
        if isinstance(think, str):
            body["reasoning_effort"] = think  # "low" | "medium" | "high"
        elif isinstance(think, bool):  # llama-server, vLLM and SGLang pass it to the chat template
            body["chat_template_kwargs"] = {"enable_thinking": think}
        return OpenAIStream(self, model, lambda: self._events("chat/completions", body, chat=True), chat=True)

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
        """A raw completion (POST /completions) for base models and the benchmark; with a system prompt or
        images and not raw, the prompt is sent as one chat message instead (the template applies, as
        Ollama's /api/generate applies it)."""
        _check_model(model)
        if not raw and (system or images) and not suffix:
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": prompt, "images": images or []}
            ]
            return self.chat_stream(model, messages, options=options, think=think)
        if images:
            raise IAError(
                _(
                    "Images go with a chat message on an OpenAI-compatible server: use the chat style (not a raw "
                    "completion) to ask about an image."
                )
            )
        body: dict[str, Any] = {"model": model, "prompt": prompt}
        if suffix:
            body["suffix"] = suffix
        body.update(self._params(options))
        return OpenAIStream(self, model, lambda: self._events("completions", body, chat=False), chat=False)

    def chat(self, model: str, messages: list[dict], **kwargs: Any) -> Reply:
        """The whole reply at once; streamed underneath so the first-token and stall limits still apply."""
        return _collect(self.chat_stream(model, messages, **kwargs))

    def generate(self, model: str, prompt: str, **kwargs: Any) -> Reply:
        return _collect(self.generate_stream(model, prompt, **kwargs))

    def _params(self, options: dict | None) -> dict[str, Any]:
        params, dropped = request_options(options)
        for key in dropped:
            if key not in self._dropped_logged:  # once per option and client: a chat sends them every time
                self._dropped_logged.add(key)
                log.info("option %s has no OpenAI counterpart; %s uses its own setting", key, self.host)
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
        return params

    def _events(self, path: str, body: dict[str, Any], *, chat: bool) -> Iterator[Any]:
        """Send the request (on the first next()) and yield its parsed events; errors are core.errors."""
        model = body["model"]
        body = {**body, "model": self._served_name(model)}
        with self._streams.stream("POST", path, json=body) as response:
            if response.status_code >= 400:
                response.read()
                raise http_error(
                    response.status_code,
                    response.content,
                    model=model,
                    host=self.host,
                    path=f"/{path}",
                    key_sent=self._key_sent,
                )
            if "text/event-stream" in response.headers.get("content-type", ""):
                yield from sse_events(response.iter_lines())
                return
            response.read()  # a server that ignored stream=true: one JSON answer
            try:
                whole = response.json()
            except ValueError:
                raise StreamBroken(
                    _("the server answered {path} with neither events nor JSON: {text}").format(
                        path=path, text=repr(response.text[:80])
                    )
                ) from None
            if not isinstance(whole, dict):
                raise StreamBroken(_("the answer to {path} is not a JSON object").format(path=path))
            yield from completion_events(whole, chat=chat)

    def _served_name(self, model: str) -> str:
        """The server's own spelling of ``model`` ("alpha" for "alpha:latest"), or ModelNotFound before
        anything is sent: a single-model server (llama-server, llama-cpp-python) would answer any name with its
        one model, and the reply would be saved under a name that is not what answered. The list is kept; a
        name not in it makes us ask again once. A server without a list gets the name as given."""
        with self._lock:
            served, no_list = self._served, self._no_list
        if no_list:
            return model
        for attempt in range(2):
            if served is not None:
                match = next((s for s in served if s == model), None) or next(
                    (s for s in served if same_model(model, s)), None
                )
                if match is not None:
                    return match
            if attempt:
                break
            try:
                served = [m.name for m in self.list_models()]
            except NotSupported:
                return model  # no model list: the server itself will say whether it has the model
        raise not_served(model, self.host, served)

    # -- models --------------------------------------------------------------------------------------
    def list_models(self) -> list[ModelInfo]:
        """The models the server serves (GET /models)."""
        r = self._request("GET", "models")
        if r.status_code in (404, 405):
            with self._lock:
                self._no_list = True
            raise NotSupported(
                self.host,
                _("list its models"),
                _("Name the model yourself: -m NAME in the CLI, the model box in the app."),
                why=_("it answered GET {url} with HTTP {status} (it has no model list)").format(
                    url=f"{self.base_url}/models", status=r.status_code
                ),
            )
        data = self._json(r, "models")
        entries = data.get("data")
        if not isinstance(entries, list):
            raise ServerError(
                r.status_code,
                _("the answer to {url} is not a model list").format(url=f"{self.base_url}/models"),
            )
        models = [model_info(e) for e in entries if isinstance(e, dict) and e.get("id")]
        with self._lock:
            self._served, self._no_list = [m.name for m in models], False
        return models

    def show(self, model: str) -> ModelDetails:
        """What the model list says about a model (its context length, when the server gives it); an
        OpenAI-compatible server has no /api/show: template, parameters and capabilities stay empty."""
        _check_model(model)
        try:
            entries = {m.name: m for m in self.list_models()}
        except NotSupported:
            entries = {}
        else:
            if not any(same_model(model, name) for name in entries):
                raise not_served(model, self.host, list(entries))
        info = next((m for name, m in entries.items() if same_model(model, name)), None)
        return ModelDetails(
            name=model,
            family="",
            parameter_size=info.parameter_size if info else "",
            quantization="",
            context_length=info.context_length if info else None,
            capabilities=[],
            template="",
            system="",
            parameters="",
            license="",
            modelfile="",
            model_info={},
        )

    def ps(self) -> list[RunningModel]:
        raise NotSupported(
            self.host,
            _("say which models are loaded in memory"),
            _("The server loads and frees its models itself."),
        )

    def pull(self, model: str) -> PullStream:
        raise NotSupported(
            self.host,
            _("pull models"),
            _(
                "Download the model with the server's own tools (llama-server -hf USER/REPO, LM Studio's search, "
                "vllm serve NAME), or pull it on Ollama or the embedded backend."
            ),
        )

    def create(self, model: str, **_kwargs: Any) -> PullStream:
        raise NotSupported(
            self.host,
            _("create models"),
            _("Create it on Ollama (ollama create) or load it in the server with its own settings."),
        )

    def delete(self, model: str) -> None:
        raise NotSupported(
            self.host,
            _("delete models"),
            _("Remove the model with the server's own tools, or from its disk."),
        )

    def unload(self, model: str) -> None:
        raise NotSupported(
            self.host,
            _("unload a model"),
            _("Stop or restart the server to free the memory its model holds."),
        )

    def close(self) -> None:
        self._http.close()
        self._streams.close()

    def __enter__(self) -> OpenAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------------
    def _request(self, method: str, path: str) -> httpx.Response:
        try:
            return self._http.request(method, path, timeout=self._answer_timeout)
        except httpx.ReadTimeout as exc:
            raise ServerUnreachable(
                self.host,
                _("it took the request but sent no answer within {seconds} s").format(
                    seconds=format_number(self.stall_timeout)
                ),
                backend="openai",
            ) from exc
        except Exception as exc:
            error = translate_error(exc, host=self.host, read_timeout=self.stall_timeout, backend="openai")
            if error is exc:
                raise
            raise error from exc

    def _json(self, r: httpx.Response, path: str) -> dict[str, Any]:
        if r.status_code >= 400:
            raise http_error(
                r.status_code, r.content, model="", host=self.host, path=f"/{path}", key_sent=self._key_sent
            )
        try:
            data = r.json()
        except (ValueError, json.JSONDecodeError) as exc:
            raise ServerError(
                r.status_code, _("the answer to {path} was not JSON").format(path=f"{self.base_url}/{path}")
            ) from exc
        if not isinstance(data, dict):
            raise ServerError(
                r.status_code,
                _("the answer to {path} was not a JSON object").format(path=f"{self.base_url}/{path}"),
            )
        return data
