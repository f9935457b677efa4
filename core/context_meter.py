"""How much of the model's context a chat takes with the message being typed (the app's context meter).

Counted by the server's own tokenizer when it has one: IA_V3's embedded server answers POST /api/tokenize
({"model", "messages"} -> {"count"}: the tokens of the prompt /api/chat would read, chat template included).
Ollama and OpenAI-compatible servers have no such call, so the count is estimated there: a quarter of the
characters (English text runs about 4 characters a token) plus a few tokens per message for the template's
role markers; the meter then says "≈". The limit is the chat's num_ctx option, else the model's context
length from /api/show.

Every function here may block on the network: the app calls them on a worker thread.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from core.errors import IAError
from core.i18n import _, format_number, ngettext

__all__ = [
    "CHARS_PER_TOKEN",
    "ContextUse",
    "chat_messages",
    "count_exact",
    "estimate_tokens",
    "measure",
]

log = logging.getLogger("ia.context")
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4  # role markers and separators a chat template adds around each message
TOKENIZE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ContextUse:
    """Tokens used (exactly counted, or estimated) against the context limit (None when unknown)."""

    used: int
    limit: int | None
    exact: bool

    @property
    def fraction(self) -> float | None:
        return self.used / self.limit if self.limit else None

    @property
    def level(self) -> str:
        """ "ok" | "high" (over 80 %) | "over" (more than the context holds) | "" (no limit known)."""
        share = self.fraction
        if share is None:
            return ""
        return "over" if share > 1 else "high" if share > 0.8 else "ok"

    def label(self) -> str:
        """e.g. "1,234 / 4,096 tokens · 30 %", or "≈ 1,234 / 4,096 tokens · 30 %" when estimated, in the
        interface's language with its numbers (French: "1 234 / 4 096 jetons · 30 %")."""
        mark = "" if self.exact else "≈ "
        used = format_number(self.used)
        if not self.limit:
            return mark + ngettext("{used} token", "{used} tokens", self.used).format(used=used)
        text = mark + _("{used} / {limit} tokens · {percent} %").format(
            used=used,
            limit=format_number(self.limit),
            percent=format_number(round(100 * self.used / self.limit)),
        )
        if self.level == "over":
            text += _(" — over the context: the oldest messages will be cut")
        return text


def chat_messages(system: str, history: Sequence[tuple[str, str]], draft: str) -> list[dict[str, str]]:
    """The messages a chat request would carry: the system prompt, the history (role, content), the draft."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": role, "content": content} for role, content in history]
    if draft:
        messages.append({"role": "user", "content": draft})
    return messages


def estimate_tokens(messages: Sequence[dict[str, str]]) -> int:
    """A quarter of the characters, plus TOKENS_PER_MESSAGE for each message."""
    chars = sum(len(m.get("content", "")) for m in messages)
    return math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(messages)


def count_exact(host: str, model: str, messages: Sequence[dict[str, str]]) -> int:
    """Ask IA_V3's embedded server for the prompt's tokens; IAError when it cannot answer."""
    try:
        r = httpx.post(
            f"{host.rstrip('/')}/api/tokenize",
            json={"model": model, "messages": list(messages)},
            timeout=TOKENIZE_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        raise IAError(
            _("the server at {host} did not count the tokens: {error}").format(host=host, error=exc)
        ) from exc
    try:
        body: Any = r.json()
    except ValueError:
        body = None
    if r.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("count"), int):
        error = body.get("error") if isinstance(body, dict) else r.text[:200]
        raise IAError(
            _("the server at {host} did not count the tokens ({status}): {error}").format(
                host=host, status=r.status_code, error=error
            )
        )
    return int(body["count"])


def measure(
    kind: str, host: str, model: str, messages: Sequence[dict[str, str]], limit: int | None
) -> ContextUse:
    """The context use of `messages`: counted by the embedded server (`kind` "embedded"), else estimated; an
    embedded server that fails to count (an old one, a model it cannot template) falls back to the estimate."""
    if kind == "embedded" and model:
        try:
            return ContextUse(count_exact(host, model, messages), limit, exact=True)
        except IAError as exc:
            log.info("context meter: estimating instead: %s", exc)
    return ContextUse(estimate_tokens(messages), limit, exact=False)
