"""What the importers produce, and the helpers they share: times in any unit, images under safe names, and the
finishing touches every imported conversation gets (title, dates, times that never tie)."""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.conversation import Conversation, Message
from core.export import image_type
from core.i18n import N_, _
from core.slugs import slugify, unique_slug

if TYPE_CHECKING:
    from core.importers.files import Assets

__all__ = [
    "KINDS",
    "MAX_IMPORT_BYTES",
    "ROLES",
    "STATUSES",
    "WHAT_WE_READ",
    "Images",
    "ImportResult",
    "ImportedConversation",
    "Parser",
    "ParsedExport",
    "Skip",
    "finish_conversation",
    "sampling_options",
    "text_of",
    "title_for",
    "to_time",
]

ROLES = ("user", "assistant", "system")
STATUSES = ("complete", "streaming", "interrupted", "error")

MAX_IMPORT_BYTES = 256 * 2**20  # json.loads needs several times the file's size in memory
_MAX_ASSET_BYTES = 64 * 2**20
# The kinds of export and the advice of a refusal, marked here and translated where they are shown: _(...).
KINDS = {"ia": N_("IA_V3 export"), "openwebui": N_("Open WebUI export"), "chatgpt": N_("ChatGPT export")}
WHAT_WE_READ = N_(
    "choose an IA_V3 JSON export, an Open WebUI chat export (.json) or ChatGPT's conversations.json "
    "(or the .zip ChatGPT sends)"
)
_MAX_TIME = datetime(9999, 12, 31, tzinfo=UTC).timestamp()
_OPTION_KEYS = {
    "temperature": float,
    "top_p": float,
    "top_k": int,
    "min_p": float,
    "seed": int,
    "num_ctx": int,
    "num_predict": int,
    "max_tokens": int,  # Open WebUI's name for num_predict
    "repeat_penalty": float,
    "repeat_last_n": int,
}


@dataclass
class ImportedConversation:
    """A conversation read from an export (its slug is chosen when it is written) and the images its messages
    name, by their path relative to the session folder (``attachments/<name>``)."""

    conversation: Conversation
    attachments: dict[str, bytes] = field(default_factory=dict)


@dataclass
class ParsedExport:
    """What a file holds: ``source`` names the kind of export; ``skipped`` says which conversations of it are
    left out and why; ``notes`` what was left out of the conversations kept (other branches, images)."""

    source: str
    conversations: list[ImportedConversation]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """An import done: the conversations now in sav/ (with their slugs), and what was left out."""

    path: Path
    source: str
    conversations: list[Conversation]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# A parser: one item of the export (and the files beside it) -> the conversation, whether the tree held other
# branches, how many images could not be brought along.
Parser = Callable[[dict[str, Any], "Assets | None"], "tuple[ImportedConversation, bool, int]"]


class Skip(Exception):
    """This conversation of the file cannot be imported; the message says why."""


def tree_branch(
    nodes: dict[str, Any], current: Any, parent_key: str, children_key: str, *, first_root: bool
) -> tuple[list[dict[str, Any]], set[str]]:
    """The nodes of an export's message tree from its root to ``current``, root first, and their ids. When
    ``current`` is not a node: from the first root (``first_root``) or the last one, down the last child of
    each node, as the export's own viewer shows it."""
    if current not in nodes:
        roots = [k for k, n in nodes.items() if isinstance(n, dict) and n.get(parent_key) not in nodes]
        current = (roots[0] if first_root else roots[-1]) if roots else next(iter(nodes), None)
        seen: set[str] = set()
        while isinstance(current, str) and current not in seen:
            seen.add(current)
            children = [c for c in (nodes[current].get(children_key) or []) if c in nodes]
            if not children:
                break
            current = children[-1]
    chain: list[dict[str, Any]] = []
    visited: set[str] = set()
    while isinstance(current, str) and current in nodes and current not in visited:
        visited.add(current)
        node = nodes[current]
        if not isinstance(node, dict):
            break
        chain.append(node)
        current = node.get(parent_key)
    chain.reverse()
    return chain, visited


def _epoch(value: Any) -> datetime | None:
    """A Unix time in seconds, milliseconds, microseconds or nanoseconds (told apart by size), else None."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        return None
    seconds = float(value)
    for _attempt in range(3):
        if seconds <= _MAX_TIME:
            break
        seconds /= 1000
    if seconds > _MAX_TIME:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):  # beyond what this platform's C library handles
        return None


def to_time(value: Any) -> datetime | None:
    """A time written as a Unix number or an ISO 8601 string (without offset: UTC), else None."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return _epoch(float(text))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return _epoch(value)


def text_of(value: Any) -> str:
    """Message text from a string, or from a list of parts (strings or {"type": "text", "text": ...})."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        pieces = [p if isinstance(p, str) else p.get("text", "") for p in value if isinstance(p, str | dict)]
        return "\n\n".join(p for p in pieces if isinstance(p, str) and p)
    return ""


class Images:
    """The images of one conversation under unique names in attachments/."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def add(self, data: bytes, hint: str = "image", *, keep: str = "") -> str | None:
        """Store ``data`` and return its session-relative path; None when it is not an image we know.
        ``keep`` is a path to keep as it is when it is safe and free (an IA_V3 export's own names)."""
        kind = image_type(data)
        if kind is None:
            return None
        if keep and _SAFE_ATTACHMENT.fullmatch(keep) and keep not in self.files:
            self.files[keep] = data
            return keep
        stem = os.path.splitext(hint.rsplit("/", 1)[-1])[0]
        stem = slugify(stem) if any(ch.isalnum() for ch in stem) else "image"
        stem = stem if not stem.startswith("chat-") else "image"
        taken = {os.path.splitext(p.rsplit("/", 1)[-1])[0] for p in self.files if p.endswith(kind[0])}
        path = f"attachments/{unique_slug(stem[:48], taken)}{kind[0]}"
        self.files[path] = data
        return path


_SAFE_ATTACHMENT = re.compile(r"attachments/[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _monotonic(messages: list[Message], start: datetime) -> None:
    """Give every message a time after the one before (exports round to the second; the app tells messages
    apart by role and time)."""
    previous = start - timedelta(microseconds=1)
    for msg in messages:
        if msg.created <= previous:
            msg.created = previous + timedelta(microseconds=1)
        previous = msg.created


def title_for(raw: Any, messages: list[Message]) -> str:
    text = (
        "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in raw) if isinstance(raw, str) else ""
    )
    title = " ".join(text.split())  # control characters (which no list can show) and runs of spaces
    if title:
        return title[:300]
    first = next((m.content for m in messages if m.role == "user" and m.content.strip()), "")
    return " ".join(first.split())[:60] or "Imported conversation"


def sampling_options(params: Any) -> dict[str, Any]:
    """The sampling options an Ollama request takes, from an export's parameters (others are dropped)."""
    if not isinstance(params, dict):
        return {}
    out: dict[str, Any] = {}
    for key, kind in _OPTION_KEYS.items():
        value = params.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        out["num_predict" if key == "max_tokens" else key] = kind(value)
    return out


def finish_conversation(
    raw_title: Any,
    messages: list[Message],
    created: datetime | None,
    updated: datetime | None,
    *,
    model: str | None = "",
    system_prompt: str = "",
    options: dict[str, Any] | None = None,
) -> Conversation:
    messages = [m for m in messages if m.content.strip() or m.thinking.strip() or m.images]
    if not any(m.role in ("user", "assistant") for m in messages):
        raise Skip(_("it has no messages"))
    first = next((m.created for m in messages), None)
    created = created or first or datetime.now(UTC)
    _monotonic(messages, min(created, first) if first else created)
    last = messages[-1].created
    updated = max(updated or last, last, created)
    if model is None:  # the app's models are not the exporter's: the chat continues with the one picked
        model = ""
    else:
        model = model or next((m.model for m in reversed(messages) if m.model), "") or ""
    return Conversation(
        title=title_for(raw_title, messages),
        slug="",
        created=created,
        updated=updated,
        model=model,
        system_prompt=system_prompt,
        options=options or {},
        messages=messages,
    )
