"""What an OpenAI-compatible server's refusals mean, as core.errors types with advice for that kind of server.

Servers shape their errors differently: OpenAI and llama-server `{"error": {"message", "type", "code"}}`,
older vLLM `{"object": "error", "message", ...}`, FastAPI apps (llama-cpp-python) `{"detail": ...}`; the
text is read from any of them (``error_text``) and classified by status and wording (``http_error``).
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import IAError, ModelNotFound, ServerError, StreamBroken
from core.i18n import _, ngettext

__all__ = ["error_text", "event_error", "http_error", "not_served"]

# How servers say a prompt does not fit: OpenAI and vLLM "maximum context length", llama-cpp-python
# "exceed context window", llama-server "exceeds the available context size".
_CONTEXT_FULL = ("context length", "context window", "context size")  # i18n: matches the servers' words


def error_text(body: str | bytes | Any) -> tuple[str, str]:
    """(message, code) from an error body in any of the shapes above; the raw text when it is not JSON."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    data = body
    if isinstance(body, str):
        try:
            data = json.loads(body)
        except ValueError:
            return body.strip()[:300], ""
    if not isinstance(data, dict):
        return str(data)[:300], ""
    error = data.get("error", data)
    if isinstance(error, str):
        return error, str(data.get("code") or "")
    if not isinstance(error, dict):
        return str(error)[:300], ""
    message = error.get("message") or error.get("detail") or json.dumps(error)[:300]
    if isinstance(message, list):  # FastAPI's validation errors: [{"loc", "msg", "type"}, ...]
        message = "; ".join(str(m.get("msg", m)) if isinstance(m, dict) else str(m) for m in message)
    return str(message), str(error.get("code") or error.get("type") or "")


def not_served(model: str, host: str, served: list[str] | None = None) -> ModelNotFound:
    """The model is not one the server serves: name those it does, since it cannot pull another."""
    if served:
        shown = ", ".join(served[:8])
        if len(served) > 8:
            more = len(served) - 8
            shown = ngettext("{names} and {count} more", "{names} and {count} more", more).format(
                names=shown, count=more
            )
        choice = _("it serves {names}: pick one with /models (or -m NAME)").format(names=shown)
    else:
        choice = _("pick one it serves with /models (or -m NAME)")
    return ModelNotFound(
        model,
        message=_(
            "Model '{model}' is not served by the OpenAI-compatible server at {host}: {choice}. "
            "Such a server cannot pull models; load another one with the server's own tools."
        ).format(model=model, host=host, choice=choice),
    )


def http_error(
    status: int, body: str | bytes, *, model: str, host: str, path: str, key_sent: bool
) -> IAError:
    """The error for an HTTP error status from ``path`` (relative to the API's base URL)."""
    message, code = error_text(body)
    low = message.lower()
    if status in (401, 403):
        advice = (
            _("the key in OPENAI_API_KEY was refused: set the key this server expects")
            if key_sent
            else _("this server wants an API key: set OPENAI_API_KEY to it and try again")
        )
        return ServerError(status, message or "unauthorised", advice)
    if code == "model_not_found" or (  # i18n: matches the server's English error text
        status in (400, 404) and "model" in low and ("not found" in low or "does not exist" in low)
    ):
        return not_served(model, host)
    if status in (404, 405):
        return ServerError(
            status,
            _("this server does not offer {path} ({detail})").format(
                path=path, detail=message or _("not found")
            ),
            _(
                "check the address: an OpenAI-compatible API usually ends in /v1 (give another base URL as "
                "openai:URL)"
            ),
        )
    if any(phrase in low for phrase in _CONTEXT_FULL):
        return ServerError(
            status,
            message,
            _(
                "the prompt is longer than the model's context: send fewer past exchanges (/set context N), "
                "start a new conversation, or give the server a larger context (llama-server -c N)"
            ),
        )
    return ServerError(status, message or f"HTTP {status}")


def event_error(error: Any, model: str, host: str) -> IAError:
    """The error for an error event in the middle of a stream (`data: {"error": ...}`)."""
    message, code = error_text({"error": error})
    low = message.lower()
    if code == "model_not_found" or (  # i18n: matches the server's English error text
        "model" in low and ("not found" in low or "does not exist" in low)
    ):
        return not_served(model, host)
    return StreamBroken(
        _("the server reported an error in the middle of the reply ({detail})").format(detail=message)
    )
