"""The conversation model: what a conversation and its messages hold, whatever file or screen shows them.

core.sav_manager writes and reads it as ``sav/<slug>/conversation.md``; core.session_manager keeps it on disk
and in the search index; the CLI and the app show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ROLES", "STATUSES", "Conversation", "Message"]

ROLES = ("user", "assistant", "system")
# complete: a finished message; streaming: a reply still arriving (saved as it grows); interrupted: a reply
# stopped by the user or cut by a crash, kept as far as it got; error: a request that failed (``error`` says why).
STATUSES = ("complete", "streaming", "interrupted", "error")


@dataclass
class Message:
    """One message of a conversation; ``images`` are paths relative to the session folder, ``stats`` the
    reply's timings and token counts (time to first token, tokens/s, ...) as the client measured them.

    ``versions`` are the message's other versions (regenerated replies, edited questions), each a list of
    messages: that version and what followed it; ``version`` is this one's place among all of them, from 0
    (see core.versions)."""

    role: str
    content: str
    created: datetime
    model: str | None = None
    thinking: str = ""
    images: list[str] = field(default_factory=list)
    status: str = "complete"
    error: str | None = None
    stats: dict[str, Any] | None = None
    version: int = 0
    versions: list[list[Message]] = field(default_factory=list)


@dataclass
class Conversation:
    """A whole conversation: its title, the folder name (slug) it is saved under, the model, system prompt and
    options it uses, and its messages in order."""

    title: str
    slug: str
    created: datetime
    updated: datetime
    model: str = ""
    system_prompt: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
