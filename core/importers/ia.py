"""IA_V3's own JSON export (core/export.py): the conversation exactly as it was, its images included."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from core.conversation import Conversation, Message
from core.export import EXPORT_FORMAT
from core.i18n import _
from core.importers.records import (
    ROLES,
    STATUSES,
    Images,
    ImportedConversation,
    Skip,
    title_for,
    to_time,
)

if TYPE_CHECKING:
    from core.importers.files import Assets

__all__ = ["parse_ia"]


def parse_ia(item: dict[str, Any], _assets: Assets | None) -> tuple[ImportedConversation, bool, int]:
    """An IA_V3 JSON export: the conversation exactly as it was (a reply left streaming reads as interrupted)."""
    fmt = item.get("format")
    if fmt is not None and fmt != EXPORT_FORMAT:
        raise Skip(
            _("it was written by a newer IA_V3 (format {format}); update IA_V3 to import it").format(
                format=fmt
            )
        )
    images = Images()
    raw_files = item.get("attachments") or {}
    if not isinstance(raw_files, dict):
        raise Skip(_("its attachments are not a list of files"))
    decoded: dict[str, bytes] = {}
    for path, text in raw_files.items():
        try:
            decoded[str(path)] = base64.b64decode(str(text), validate=True)
        except (binascii.Error, ValueError):
            continue  # counted below as an image that could not be brought along
    raw_messages = item.get("messages")
    if not isinstance(raw_messages, list):
        raise Skip(_("it has no list of messages"))
    messages: list[Message] = []
    lost = 0
    for index, raw in enumerate(raw_messages, start=1):
        if not isinstance(raw, dict):
            raise Skip(_("message {index} is not an object").format(index=index))
        role, status = raw.get("role"), raw.get("status", "complete")
        if role not in ROLES:
            raise Skip(_("message {index} has an unknown role {role}").format(index=index, role=repr(role)))
        if status not in STATUSES:
            raise Skip(
                _("message {index} has an unknown status {status}").format(index=index, status=repr(status))
            )
        created = to_time(raw.get("created"))
        if created is None:
            raise Skip(_("message {index} has no valid time").format(index=index))
        paths = []
        for image in raw.get("images") or []:
            data = decoded.get(str(image))
            stored = images.add(data, str(image), keep=str(image)) if data is not None else None
            if stored is None:
                lost += 1
            else:
                paths.append(stored)
        stats = raw.get("stats")
        messages.append(
            Message(
                role=role,
                content=_string(raw.get("content")),
                created=created,
                model=None if raw.get("model") is None else str(raw["model"]),
                thinking=_string(raw.get("thinking")),
                images=paths,
                status="interrupted" if status == "streaming" else status,
                error=None if raw.get("error") is None else str(raw["error"]),
                stats=stats if isinstance(stats, dict) else None,
            )
        )
    created, updated = to_time(item.get("created")), to_time(item.get("updated"))
    if created is None:
        raise Skip(_("it has no valid creation time"))
    if not messages:
        raise Skip(_("it has no messages"))
    options = item.get("options")
    conv = Conversation(
        title=title_for(item.get("title"), messages),
        slug="",
        created=created,
        updated=updated or created,
        model=_string(item.get("model")),
        system_prompt=_string(item.get("system_prompt")),
        options=dict(options) if isinstance(options, dict) else {},
        messages=messages,
    )
    return ImportedConversation(conv, images.files), False, lost


def _string(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
