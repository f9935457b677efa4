"""Translate ollama-python, httpx, pydantic and JSON exceptions into the matching core.errors type."""

from __future__ import annotations

import json
import re
import sys

import httpx

from core.errors import (
    CapabilityMissing,
    IAError,
    ModelNotFound,
    ServerError,
    ServerUnreachable,
    StreamBroken,
    StreamStalled,
)
from core.i18n import _, ngettext

__all__ = ["response_error", "translate_error"]


def _loaded_type(module: str, name: str) -> type | None:
    """A class of a module only if that module is already imported: an exception of a module that was never
    imported cannot exist, and not importing ollama/pydantic here keeps the CLI's start fast."""
    mod = sys.modules.get(module)
    return getattr(mod, name, None) if mod is not None else None


# Ollama's capability refusals: `"x" does not support thinking`, `registry.ollama.ai/library/x:latest does not
# support tools` (and our embedded server's `"x" does not support images: …`). Not `raw mode does not support
# template, system, or context`, which is a refused request, not a model's limit.
_CAPABILITY = re.compile(  # i18n: matches the server's English error text
    r"""(?:model )?(?:"[^"]*"|'[^']*'|\S+) does not support (\w+)""", re.IGNORECASE
)
_CONTEXT_FULL = "exceeds the context length"  # i18n: matches the server's English error text


def response_error(detail: str, status: int, model: str) -> IAError:
    """The error for an HTTP error status (or -1: an error line mid-stream) and the server's text."""
    low = detail.lower()
    if status == -1:
        if "file does not exist" in low or "not found" in low and "model" in low:  # i18n: the server's words
            return ModelNotFound(model, detail)
        return StreamBroken(
            _("the server reported an error in the middle of the reply ({detail})").format(detail=detail)
        )
    if match := _CAPABILITY.match(detail):
        return CapabilityMissing(model, match.group(1).lower(), detail)
    if status == 404 and "model" in low and "not found" in low:  # i18n: the server's words
        return ModelNotFound(model, detail)
    if status == 404:
        return ServerError(
            404,
            _("this server does not offer that API ({detail})").format(detail=detail),
            _("check that OLLAMA_HOST points at an Ollama server, or update Ollama"),
        )
    if _CONTEXT_FULL in low:
        return ServerError(
            status,
            detail,
            _(
                "the prompt is longer than the model's context: send fewer past exchanges (/set context N), "
                "a larger num_ctx (/set num_ctx N), or start a new conversation"
            ),
        )
    return ServerError(status, detail)


def translate_error(
    exc: BaseException,
    *,
    host: str,
    model: str = "",
    read_timeout: float = 0.0,
    got_data: bool = False,
    backend: str = "ollama",
) -> BaseException:
    """Map an ollama/httpx/pydantic/JSON exception to the matching core.errors type (others pass through).

    ``backend`` ("ollama" or "embedded") is the server known to be at ``host``: an unreachable one is named."""
    if isinstance(exc, IAError):
        return exc
    response_error_type = _loaded_type("ollama", "ResponseError")
    if response_error_type is not None and isinstance(exc, response_error_type):
        return response_error(str(exc.error), exc.status_code, model)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return ServerUnreachable(host, _("no answer within the connect timeout"), backend=backend)
    if isinstance(exc, httpx.TimeoutException):
        phase = "between chunks" if got_data else "first token"  # i18n: phase ids, StreamStalled names them
        return StreamStalled(read_timeout, phase)
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return ServerUnreachable(host, backend=backend)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return StreamBroken(
            _("the connection was dropped before the reply was complete ({error})").format(error=exc)
        )
    if isinstance(exc, json.JSONDecodeError):
        return StreamBroken(
            _("the server sent a line that is not JSON: {line}").format(line=repr(exc.doc[:80]))
        )
    validation_error_type = _loaded_type("pydantic", "ValidationError")
    if validation_error_type is not None and isinstance(exc, validation_error_type):
        count = exc.error_count()
        return StreamBroken(
            ngettext(
                "the server sent a message of an unexpected shape ({count} problem)",
                "the server sent a message of an unexpected shape ({count} problems)",
                count,
            ).format(count=count)
        )
    if isinstance(exc, ConnectionError):  # ollama-python's own "Failed to connect" for non-streaming calls
        return ServerUnreachable(host, backend=backend)
    if isinstance(exc, httpx.HTTPError):
        return StreamBroken(str(exc) or type(exc).__name__)
    return exc
