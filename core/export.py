"""Export a conversation for sharing: clean Markdown without the storage markers, JSON with every field and its
images (which IA_V3 imports back exactly), or a standalone HTML page (core/export_html.py).

The JSON export (``format: ia-conversation-export/1``) is the conversation's fields as in conversation.md, times
in ISO 8601, plus ``attachments``: each image the messages name, as base64, so the file alone is enough to
rebuild the conversation anywhere (docs/FORMATS.md).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from core.conversation import Conversation
from core.i18n import N_
from core.sav_manager import fence_closer, message_heading
from core.translated import TranslatedTable

__all__ = [
    "EXPORT_FORMAT",
    "FORMATS",
    "export_text",
    "image_type",
    "read_attachments",
    "to_html",
    "to_json",
    "to_markdown",
]

log = logging.getLogger("ia.export")

EXPORT_FORMAT = "ia-conversation-export/1"
# Export formats by file extension, with the name people know them by.
# (Read in the interface's language: FORMATS["html"] is "page web (HTML)" in French.)
FORMATS: Mapping[str, str] = TranslatedTable(
    {"md": N_("Markdown"), "json": N_("JSON"), "html": N_("web page (HTML)")}
)

_IMAGE_TYPES = [
    (b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
    (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
    (b"GIF87a", ".gif", "image/gif"),
    (b"GIF89a", ".gif", "image/gif"),
    (b"BM", ".bmp", "image/bmp"),
]


def image_type(data: bytes) -> tuple[str, str] | None:
    """(file suffix, MIME type) of an image recognised by its first bytes (PNG, JPEG, GIF, BMP, WebP), else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp", "image/webp"
    return next(((suffix, mime) for magic, suffix, mime in _IMAGE_TYPES if data.startswith(magic)), None)


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


def to_json(conv: Conversation, attachments: Mapping[str, bytes] | None = None) -> str:
    """Every field of the conversation as indented JSON (times in ISO 8601), with the images it names in
    ``attachments`` (base64) so that importing the file rebuilds the same conversation."""
    data = {"format": EXPORT_FORMAT, **_jsonable(asdict(conv))}
    for message in data["messages"]:  # the path shown: other versions (core.versions) are not exported
        message.pop("version", None)
        message.pop("versions", None)
    data["attachments"] = {
        name: base64.b64encode(content).decode("ascii") for name, content in (attachments or {}).items()
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_html(conv: Conversation, attachments: Mapping[str, bytes] | None = None) -> str:
    """The conversation as one standalone HTML page (see core/export_html.py)."""
    from core.export_html import render_page

    return render_page(conv, attachments or {})


def read_attachments(session_dir: Path, conv: Conversation) -> dict[str, bytes]:
    """The images the messages name, read from the session folder; one that is missing or unreadable is left
    out (the JSON import then reports it, the HTML page says it is missing)."""
    found: dict[str, bytes] = {}
    root = session_dir.resolve()
    for msg in conv.messages:
        for image in msg.images:
            if image in found:
                continue
            path = (session_dir / image).resolve()
            if not path.is_relative_to(root):  # a hand-edited path that leaves the session folder
                log.warning("image %r of %s is outside its folder; not exported", image, conv.slug)
                continue
            try:
                found[image] = path.read_bytes()
            except OSError as exc:
                log.warning("image %s of %s cannot be read (%s); not exported", image, conv.slug, exc)
    return found


def export_text(conv: Conversation, fmt: str, session_dir: Path, target: Path) -> str:
    """The text of ``conv`` exported as ``fmt`` ("md", "json" or "html") to be written at ``target``."""
    if fmt == "md":  # image links that still work from where the file is written
        folder = session_dir.resolve()
        try:
            base = Path(os.path.relpath(folder, target.parent.resolve())).as_posix()
        except ValueError:  # another drive (Windows): no relative path exists
            base = folder.as_posix()
        return to_markdown(conv, image_base=base)
    attachments = read_attachments(session_dir, conv)
    if fmt == "json":
        return to_json(conv, attachments)
    if fmt == "html":
        return to_html(conv, attachments)
    raise ValueError(f"unknown export format {fmt!r}")
