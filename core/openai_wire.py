"""The OpenAI wire format apart from the stream (core.openai_stream): request bodies built from our messages,
Ollama options and format, and our model records read from `GET /models`.

Options: ``num_predict`` goes as ``max_tokens``; the standard parameters as they are; the llama.cpp samplers
(top_k, min_p, repeat_penalty, ...) under their own names, which llama-server, llama-cpp-python, LM Studio
and vLLM read. The rest (num_ctx, num_gpu, ...) is the server's own setting and is not sent.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import IAError
from core.i18n import _
from core.models import ModelInfo
from core.ollama_client import _image

__all__ = ["model_info", "request_options", "response_format", "same_model", "wire_message"]

# Sent as they are: the standard parameters, and the llama.cpp samplers, which llama-server, llama-cpp-python,
# LM Studio and vLLM (top_k, min_p) accept beside them.
_STANDARD = ("temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty")
_SAMPLERS = ("top_k", "min_p", "typical_p", "repeat_penalty", "repeat_last_n", "mirostat", "mirostat_tau",
             "mirostat_eta", "tfs_z")  # fmt: skip
_IMAGE_TYPES = {
    b"\x89PNG": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF8": "image/gif",
    b"RIFF": "image/webp",
}


def request_options(options: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """OpenAI request parameters for Ollama options, and the option names that have no counterpart."""
    params: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in (options or {}).items():
        if value is None:
            continue
        if key == "num_predict":
            if isinstance(value, int) and value > 0:  # -1 (no limit) and -2 (fill the context): the default
                params["max_tokens"] = value
        elif key in _STANDARD or key in _SAMPLERS:
            params[key] = value
        else:
            dropped.append(key)
    return params, dropped


def _data_url(value: Any) -> str:
    """An image (path or bytes) as a data: URL, the form every OpenAI-compatible vision server takes."""
    image = _image(value)
    data = image if isinstance(image, bytes) else Path(image).read_bytes()
    mime = next((m for magic, m in _IMAGE_TYPES.items() if data.startswith(magic)), "image/png")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def wire_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """One chat message in the OpenAI shape: images become image_url parts beside the text."""
    out = {"role": message.get("role", "user"), "content": message.get("content") or ""}
    images = message.get("images") or []
    if images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": out["content"]}] if out["content"] else []
        parts += [{"type": "image_url", "image_url": {"url": _data_url(i)}} for i in images]
        out["content"] = parts
    return out


def response_format(format: str | dict | None) -> dict[str, Any] | None:
    if not format:
        return None
    if format == "json":
        return {"type": "json_object"}
    if isinstance(format, dict):
        return {"type": "json_schema", "json_schema": {"name": "reply", "schema": format, "strict": True}}
    raise IAError(_("Unknown format '{format}': use json, or a JSON schema.").format(format=format))


def same_model(a: str, b: str) -> bool:
    """Model names match as Ollama's do: with the implicit ':latest' tag, whatever the case."""
    norm = [(x if ":" in x.rsplit("/", 1)[-1] else f"{x}:latest").lower() for x in (a, b)]
    return norm[0] == norm[1]


def _meta(entry: Mapping[str, Any]) -> dict[str, Any]:
    meta = entry.get("meta")
    return meta if isinstance(meta, dict) else {}


def _context_length(entry: Mapping[str, Any]) -> int | None:
    """vLLM says max_model_len, LM Studio max_context_length, llama-server meta.n_ctx_train."""
    for value in (
        entry.get("max_model_len"),
        entry.get("max_context_length"),
        entry.get("context_length"),
        _meta(entry).get("n_ctx_train"),
    ):
        if isinstance(value, int) and value > 0:
            return value
    return None


def _parameters(entry: Mapping[str, Any]) -> str:
    n = _meta(entry).get("n_params")
    if not isinstance(n, int) or n <= 0:
        return ""
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


def model_info(entry: Mapping[str, Any]) -> ModelInfo:
    created = entry.get("created")
    size = _meta(entry).get("size")
    return ModelInfo(
        name=str(entry.get("id") or ""),
        size=size if isinstance(size, int) else 0,
        digest="",
        modified_at=datetime.fromtimestamp(created, UTC)
        if isinstance(created, int) and created > 0
        else None,
        family="",
        parameter_size=_parameters(entry),
        quantization="",
        context_length=_context_length(entry),
    )
