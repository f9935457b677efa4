"""Export a conversation for sharing: clean Markdown without the storage markers, or JSON with every field."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from core.conversation import Conversation
from core.sav_manager import fence_closer, message_heading

__all__ = ["EXPORTERS", "to_json", "to_markdown"]


def _closed(text: str) -> str:
    closer = fence_closer(text)
    return f"{text}\n{closer}" if closer else text


def _link(path: str) -> str:
    return " ".join(path.split())


def to_markdown(conv: Conversation, image_base: str = "") -> str:
    """The conversation as plain Markdown: title, system prompt, then each message under its heading.

    Image links are the session-relative paths prefixed with ``image_base`` (the session folder as seen from
    where the export is written), so they still show when the file is read elsewhere.
    """
    prefix = image_base.rstrip("/") + "/" if image_base else ""
    out = [f"# {' '.join(conv.title.split()) or conv.slug}\n\n"]
    if conv.system_prompt:
        quoted = "\n".join(f"> {line}" if line else ">" for line in conv.system_prompt.splitlines())
        out.append(f"**System prompt**\n\n{quoted}\n\n")
    for msg in conv.messages:
        out.append(message_heading(msg) + "\n\n")
        if msg.thinking:
            out.append(
                f"<details><summary>💭 Thinking</summary>\n\n{_closed(msg.thinking)}\n\n</details>\n\n"
            )
        out.append(_closed(msg.content) + "\n\n")
        out.extend(f"![{_link(image)}](<{_link(prefix + image)}>)\n\n" for image in msg.images)
        if msg.error:
            out.append(f"> ⚠️ {' '.join(msg.error.split())}\n\n")
    return "".join(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def to_json(conv: Conversation) -> str:
    """Every field of the conversation as indented JSON (times in ISO 8601)."""
    return json.dumps(_jsonable(asdict(conv)), ensure_ascii=False, indent=2) + "\n"


EXPORTERS: dict[str, Callable[[Conversation], str]] = {"md": to_markdown, "json": to_json}
