"""Reading OpenAI API requests (/v1/chat/completions, /v1/completions) into what the engine takes.

The mapping follows Ollama's own OpenAI layer (ollama/ollama `openai/openai.go`): `temperature` and `top_p`
default to 1.0 (OpenAI's defaults, not Ollama's), `max_tokens`/`max_completion_tokens` become `num_predict`,
`stop` a list, `seed`, `frequency_penalty` and `presence_penalty` pass as the options of the same name, and
`response_format` becomes the `format` the Ollama endpoints enforce with a llama.cpp grammar (json_object →
"json", json_schema → its schema). The sampling fields llama.cpp's own server accepts beyond OpenAI's
(`top_k`, `min_p`, `typical_p`, `repeat_penalty`) are honoured too. What the engine cannot do is refused
with a 400 naming the parameter (`n` > 1, logprobs, tools on a model without them), never ignored silently.
Refusals are `OpenAIError`s, written as OpenAI's `{"error": {message, type, param, code}}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from core.embedded.engine import ModelCard

__all__ = [
    "ChatRequest",
    "CompletionRequest",
    "OpenAIError",
    "decode_json",
    "read_chat",
    "read_completion",
    "require_model",
]


class OpenAIError(Exception):
    """A request refused in OpenAI's error shape: status, message, and the `type`, `param`, `code` fields."""

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None, kind: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.kind = kind or ("server_error" if status >= 500 else "invalid_request_error")

    def body(self) -> dict[str, Any]:
        """`{"error": {...}}` as OpenAI writes it (param and code are null when not set)."""
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass
class ChatRequest:
    """A chat completion as the engine takes it."""

    model: str
    messages: list[dict[str, Any]]
    options: dict[str, Any]
    format: str | dict[str, Any] | None
    stream: bool
    include_usage: bool
    think: bool | None  # None: the model's default (on for thinking models, as in Ollama)


@dataclass
class CompletionRequest:
    """A text completion: the prompt is read as it is (raw), as OpenAI's and llama.cpp's completions are."""

    model: str
    prompt: str
    options: dict[str, Any]
    format: str | dict[str, Any] | None
    stream: bool
    include_usage: bool
    echo: bool = False


def decode_json(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying why it is not one."""
    if not raw.strip():
        raise OpenAIError(400, "We could not parse the JSON body of your request: the body is empty.")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OpenAIError(
            400, f"We could not parse the JSON body of your request: {exc}. The API expects a JSON object."
        ) from None
    if not isinstance(value, dict):
        raise OpenAIError(400, f"The request body must be a JSON object, but got {_kind(value)} instead.")
    return value


# --- field checks (OpenAI's wording) -------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _shown(value: Any) -> str:
    """A value in an error message: strings quoted as OpenAI quotes them ('x'), anything else as JSON."""
    return f"'{value}'" if isinstance(value, str) else json.dumps(value)


_EXPECTED = {"string": "a string", "boolean": "a boolean", "integer": "an integer", "number": "a decimal",
             "array": "an array", "object": "an object"}  # fmt: skip


def _matches(value: Any, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return isinstance(value, {"string": str, "integer": int, "number": int | float, "array": list,
                              "object": dict}[kind])  # fmt: skip


def _field(body: dict[str, Any], key: str, kind: str, *, low: float | None = None, high: float | None = None,
           param: str | None = None) -> Any:  # fmt: skip
    """body[key] if present and not null, checked for its JSON type and range; None otherwise."""
    value = body.get(key)
    if value is None:
        return None
    name = param or key
    if not _matches(value, kind):
        raise OpenAIError(
            400,
            f"Invalid type for '{name}': expected {_EXPECTED[kind]}, but got {_kind(value)} instead.",
            param=name,
            code="invalid_type",
        )
    if low is not None and value < low:
        raise OpenAIError(
            400,
            f"Invalid '{name}': expected a value >= {low:g}, but got {value} instead.",
            param=name,
            code="invalid_value",
        )
    if high is not None and value > high:
        raise OpenAIError(
            400,
            f"Invalid '{name}': expected a value <= {high:g}, but got {value} instead.",
            param=name,
            code="invalid_value",
        )
    return value


def require_model(body: dict[str, Any]) -> str:
    """The `model` field, which OpenAI requires."""
    model = _field(body, "model", "string")
    if not model:
        raise OpenAIError(
            400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
        )
    return model


def _one_choice(body: dict[str, Any]) -> None:
    for key in ("n", "best_of"):
        count = _field(body, key, "integer", low=1)
        if count is not None and count > 1:
            raise OpenAIError(
                400,
                f"'{key}' must be 1: the embedded backend (llama.cpp) generates one choice per request, "
                f"so send {count} requests to get {count} completions.",
                param=key,
                code="unsupported_value",
            )


def _no_logprobs(body: dict[str, Any]) -> None:
    value = body.get("logprobs")
    if value not in (None, False, 0) or body.get("top_logprobs") not in (None, 0):
        raise OpenAIError(
            400,
            "logprobs are not supported by the embedded backend (llama.cpp): leave 'logprobs' and "
            "'top_logprobs' unset.",
            param="logprobs" if value not in (None, False, 0) else "top_logprobs",
            code="unsupported_parameter",
        )


def _options(body: dict[str, Any]) -> dict[str, Any]:
    """Sampling and length fields as the engine's (Ollama's) options."""
    options: dict[str, Any] = {
        "temperature": _field(body, "temperature", "number", low=0, high=2),
        "top_p": _field(body, "top_p", "number", low=0, high=1),
    }
    # OpenAI's defaults, as Ollama's OpenAI layer sets them (its own are 0.8 and 0.9).
    options["temperature"] = 1.0 if options["temperature"] is None else options["temperature"]
    options["top_p"] = 1.0 if options["top_p"] is None else options["top_p"]
    for key in ("frequency_penalty", "presence_penalty"):
        options[key] = _field(body, key, "number", low=-2, high=2)
    limit = _field(body, "max_completion_tokens", "integer", low=1)
    if limit is None:
        limit = _field(body, "max_tokens", "integer", low=1)
    options["num_predict"] = limit
    options["seed"] = _field(body, "seed", "integer")
    # llama.cpp's server takes these beyond OpenAI's set; so do we (same names, same meaning).
    options["top_k"] = _field(body, "top_k", "integer", low=0)
    options["min_p"] = _field(body, "min_p", "number", low=0, high=1)
    options["typical_p"] = _field(body, "typical_p", "number", low=0, high=1)
    options["repeat_penalty"] = _field(body, "repeat_penalty", "number", low=0)
    stop = body.get("stop")
    if isinstance(stop, str):
        options["stop"] = [stop]
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        options["stop"] = list(stop)
    elif stop is not None:
        raise OpenAIError(
            400,
            f"Invalid type for 'stop': expected a string or an array of strings, but got {_kind(stop)} instead.",
            param="stop",
            code="invalid_type",
        )
    return {key: value for key, value in options.items() if value is not None}


def _stream(body: dict[str, Any]) -> tuple[bool, bool]:
    """(stream, include_usage); stream_options only with stream, as OpenAI requires."""
    stream = bool(_field(body, "stream", "boolean"))
    stream_options = _field(body, "stream_options", "object")
    if stream_options is None:
        return stream, False
    if not stream:
        raise OpenAIError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    usage = _field(stream_options, "include_usage", "boolean", param="stream_options.include_usage")
    return stream, bool(usage)


def _response_format(body: dict[str, Any]) -> str | dict[str, Any] | None:
    """`response_format` as the `format` of the Ollama endpoints: "json", a JSON schema, or None for text."""
    value = _field(body, "response_format", "object")
    if value is None:
        return None
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        spec = _field(value, "json_schema", "object", param="response_format.json_schema")
        if spec is None:
            raise OpenAIError(
                400,
                "Missing required parameter: 'response_format.json_schema'.",
                param="response_format.json_schema",
                code="missing_required_parameter",
            )
        schema = _field(spec, "schema", "object", param="response_format.json_schema.schema")
        return schema if schema else "json"  # no schema: any JSON object, as json_object
    raise OpenAIError(
        400,
        f"Invalid value for 'response_format.type': {_shown(kind)}. Supported values are: 'text', "
        "'json_object', and 'json_schema'.",
        param="response_format.type",
        code="invalid_value",
    )


# --- chat ---------------------------------------------------------------------------------------------

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool",
          "function": "tool"}  # fmt: skip
_DATA_URL = re.compile(r"data:(?:image/(?:png|jpe?g|webp|gif))?;base64,(.*)", re.DOTALL)


def _image(url: Any, where: str) -> str:
    """An image_url part as the raw base64 the engine takes; only data URLs (this server fetches nothing)."""
    if isinstance(url, dict):
        url = url.get("url")
    if not isinstance(url, str):
        raise OpenAIError(400, f"Invalid '{where}.image_url': expected an object with a 'url'.", param=where)
    if url.startswith(("http://", "https://")):
        raise OpenAIError(
            400,
            "Image URLs are not supported by the embedded backend: send the image as a base64 data URL "
            "(data:image/png;base64,...).",
            param=f"{where}.image_url",
            code="invalid_image_url",
        )
    match = _DATA_URL.fullmatch(url)
    data = match.group(1) if match else ""
    try:
        if not data:
            raise ValueError
        base64.b64decode(data, validate=True)
    except (ValueError, binascii.Error):
        raise OpenAIError(
            400,
            f"Invalid image in '{where}': expected a base64 data URL of a PNG, JPEG, WebP or GIF image.",
            param=f"{where}.image_url",
            code="invalid_image_url",
        ) from None
    return data


def _content(content: Any, where: str, role: str) -> tuple[str, list[str]]:
    """A message's content as (text, images): a string, or a list of text and image_url parts."""
    if content is None:
        if role in ("assistant", "tool"):  # an assistant turn that only called tools has no content
            return "", []
        raise OpenAIError(400, f"Missing required parameter: '{where}.content'.", param=f"{where}.content",
                          code="missing_required_parameter")  # fmt: skip
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise OpenAIError(
            400,
            f"Invalid type for '{where}.content': expected a string or an array of content parts, "
            f"but got {_kind(content)} instead.",
            param=f"{where}.content",
            code="invalid_type",
        )
    texts: list[str] = []
    images: list[str] = []
    for index, part in enumerate(content):
        here = f"{where}.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "refusal") and isinstance(part.get(kind), str):
            texts.append(part[kind])
        elif kind == "image_url":
            images.append(_image(part.get("image_url"), here))
        else:
            raise OpenAIError(
                400,
                f"Invalid content part '{here}': the embedded backend takes 'text' and 'image_url' parts "
                f"(got {_shown(kind) if kind else _kind(part)}).",
                param=here,
                code="invalid_value",
            )
    return "\n".join(texts), images


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = _field(body, "messages", "array")
    if messages is None:
        raise OpenAIError(400, "Missing required parameter: 'messages'.", param="messages",
                          code="missing_required_parameter")  # fmt: skip
    if not messages:
        raise OpenAIError(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array "
            "instead.",
            param="messages",
            code="empty_array",
        )
    clean = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise OpenAIError(400, f"Invalid type for '{where}': expected an object, but got {_kind(message)} "
                              "instead.", param=where, code="invalid_type")  # fmt: skip
        role = _ROLES.get(message.get("role")) if isinstance(message.get("role"), str) else None
        if role is None:
            raise OpenAIError(
                400,
                f"Invalid value for '{where}.role': {_shown(message.get('role'))}. Supported values are: "
                "'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                param=f"{where}.role",
                code="invalid_value",
            )
        text, images = _content(message.get("content"), where, role)
        item: dict[str, Any] = {"role": role, "content": text}
        if images:
            item["images"] = images
        clean.append(item)
    return clean


def _think(body: dict[str, Any]) -> bool | None:
    """`reasoning_effort` (or `reasoning.effort`) as Ollama maps it: "none" turns thinking off."""
    reasoning = _field(body, "reasoning", "object")
    effort = reasoning.get("effort") if reasoning else _field(body, "reasoning_effort", "string")
    if effort is None or effort == "":
        return None
    if effort == "none":
        return False
    if effort in ("minimal", "low", "medium", "high", "xhigh", "max", "ultra"):
        return True
    raise OpenAIError(
        400,
        f"Invalid value for 'reasoning_effort': {_shown(effort)}. Supported values are: 'none', "
        "'minimal', 'low', 'medium', 'high' and 'xhigh'.",
        param="reasoning_effort",
        code="invalid_value",
    )


def read_chat(body: dict[str, Any], card: ModelCard) -> ChatRequest:
    """Check a /v1/chat/completions body against the model it names; 400 for what cannot be served."""
    _one_choice(body)
    _no_logprobs(body)
    messages = _messages(body)
    tools = _field(body, "tools", "array")
    if tools and body.get("tool_choice") != "none" and "tools" not in card.capabilities:
        raise OpenAIError(
            400,
            f"{card.name} does not support tools: it cannot call functions. Send the request without 'tools' "
            "(or with tool_choice 'none').",
            param="tools",
            code="unsupported_parameter",
        )
    if any(m.get("images") for m in messages) and "vision" not in card.capabilities:
        raise OpenAIError(
            400,
            f"{card.name} does not support images: it is a text-only model (no vision).",
            param="messages",
            code="unsupported_value",
        )
    think = _think(body)
    if think and "thinking" not in card.capabilities:
        raise OpenAIError(400, f"{card.name} does not support thinking (reasoning_effort).",
                          param="reasoning_effort", code="unsupported_parameter")  # fmt: skip
    stream, usage = _stream(body)
    return ChatRequest(
        model=body["model"],
        messages=messages,
        options=_options(body),
        format=_response_format(body),
        stream=stream,
        include_usage=usage,
        think=think,
    )


def read_completion(body: dict[str, Any], card: ModelCard) -> CompletionRequest:
    """Check a /v1/completions body: one prompt string (or a list of one), raw text completion."""
    _one_choice(body)
    _no_logprobs(body)
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if prompt is None:
        raise OpenAIError(400, "Missing required parameter: 'prompt'.", param="prompt",
                          code="missing_required_parameter")  # fmt: skip
    if not isinstance(prompt, str):
        several = isinstance(prompt, list) and all(isinstance(p, str) for p in prompt)
        raise OpenAIError(
            400,
            "The embedded backend completes one prompt per request: send each prompt in its own request."
            if several
            else "Invalid type for 'prompt': expected a string (token arrays are not supported), but got "
            f"{_kind(prompt)} instead.",
            param="prompt",
            code="unsupported_value" if several else "invalid_type",
        )
    if _field(body, "suffix", "string"):  # the engine completes after the prompt only (no fill-in-the-middle)
        raise OpenAIError(400, f"{card.name} cannot insert text: 'suffix' is not supported by the embedded "
                          "backend.", param="suffix", code="unsupported_parameter")  # fmt: skip
    stream, usage = _stream(body)
    return CompletionRequest(
        model=body["model"],
        prompt=prompt,
        options=_options(body),
        format=_response_format(body),
        stream=stream,
        include_usage=usage,
        echo=bool(_field(body, "echo", "boolean")),
    )
