"""Which kind of export a JSON document is, item by item, and the dispatch to the parser of each kind."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ImportRefused
from core.i18n import _, format_number, ngettext
from core.importers.chatgpt import parse_chatgpt
from core.importers.ia import parse_ia
from core.importers.openwebui import parse_openwebui
from core.importers.records import KINDS, WHAT_WE_READ, ParsedExport, Parser, Skip

if TYPE_CHECKING:
    from core.importers.files import Assets

__all__ = ["parse_export"]


def _kind(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("mapping"), dict):
        return "chatgpt"
    fmt = item.get("format")
    if isinstance(fmt, str) and fmt.startswith("ia-conversation-export/"):
        return "ia"
    chat = item.get("chat")
    if isinstance(chat, dict) and ("history" in chat or "messages" in chat):
        return "openwebui"
    if isinstance(item.get("history"), dict) and "messages" in item["history"]:
        return "openwebui"  # the inner chat object alone
    if {"title", "slug", "created", "messages"} <= item.keys():
        return "ia"  # exports made before the format had a name
    return None


def parse_export(data: Any, *, name: Path | str = "", assets: Assets | None = None) -> ParsedExport:
    """The conversations in decoded export JSON ``data``; ImportRefused when there is none to import."""
    name = name or _("the file")
    items = data if isinstance(data, list) else [data]
    kinds = [_kind(item) for item in items]
    if not any(kinds):
        if isinstance(data, list) and not data:
            raise ImportRefused(name, _("it holds no conversation (an empty list)"), _(WHAT_WE_READ))
        raise ImportRefused(
            name, _("it is JSON, but not a conversation export this app reads"), _(WHAT_WE_READ)
        )
    found = sorted({k for k in kinds if k})
    source = _(KINDS[found[0]]) if len(found) == 1 else _("mixed export")
    result = ParsedExport(source=source, conversations=[])
    branches = missing_images = 0
    for number, (item, kind) in enumerate(zip(items, kinds, strict=True), start=1):
        if kind is None:
            result.skipped.append(_("item {number} is not a conversation").format(number=number))
            continue
        try:
            parse = _PARSERS[kind]
            imported, other_branches, lost = parse(item, assets)
        except Skip as exc:
            result.skipped.append(f"{_label(item, number)}: {exc}")
            continue
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            result.skipped.append(
                _("{name}: its data is malformed ({error})").format(
                    name=_label(item, number), error=f"{type(exc).__name__}: {exc}"
                )
            )
            continue
        branches += other_branches
        missing_images += lost
        result.conversations.append(imported)
    if not result.conversations:
        reasons = "; ".join(result.skipped[:3]) + ("; …" if len(result.skipped) > 3 else "")
        raise ImportRefused(
            name, _("no conversation in it can be imported ({reasons})").format(reasons=reasons)
        )
    if branches:
        result.notes.append(
            ngettext(
                "{count} conversation had other branches (earlier versions of a reply or of an edited "
                "question); the branch that was on screen was imported",
                "{count} conversations had other branches (earlier versions of a reply or of an edited "
                "question); the branch that was on screen was imported",
                branches,
            ).format(count=format_number(branches))
        )
    if missing_images:
        result.notes.append(
            ngettext(
                "{count} image could not be brought along (not in the export, or not an image this app reads)",
                "{count} images could not be brought along (not in the export, or not an image this app reads)",
                missing_images,
            ).format(count=format_number(missing_images))
        )
    return result


def _label(item: Any, number: int) -> str:
    if isinstance(item, dict):
        title = item.get("title")
        if not isinstance(title, str) and isinstance(item.get("chat"), dict):
            title = item["chat"].get("title")
        if isinstance(title, str) and title.strip():
            return f"“{' '.join(title.split())[:80]}”"
    return _("conversation {number}").format(number=number)


_PARSERS: dict[str, Parser] = {
    "ia": parse_ia,
    "openwebui": parse_openwebui,
    "chatgpt": parse_chatgpt,
}
