"""Open WebUI's chat export: ``[{"title", "created_at", "updated_at", "chat": {"models", "params", "history":
{"messages": {id: {"parentId", "childrenIds", "role", "content", "timestamp", "model", "files", ...}},
"currentId"}}}]``, one chat or all of them. The branch ending at ``currentId`` is the one imported."""

from __future__ import annotations

import base64
import binascii
import html
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.conversation import Message
from core.importers.records import (
    ROLES,
    Images,
    ImportedConversation,
    finish_conversation,
    sampling_options,
    text_of,
    to_time,
    tree_branch,
)

if TYPE_CHECKING:
    from core.importers.files import Assets

__all__ = ["parse_openwebui", "split_reasoning"]


# Reasoning Open WebUI folds into a reply: <details type="reasoning" done="true" duration="3">
# <summary>Thought for 3 seconds</summary> then the thoughts, each line quoted with "> " (HTML-escaped in
# recent versions); and <think>…</think> left by a model when reasoning was not parsed.
_REASONING = re.compile(
    r'<details\s+type="reasoning"[^>]*>\s*(?:<summary>.*?</summary>)?(.*?)</details>[ \t]*\n?', re.S
)
_THINK = re.compile(r"\A\s*<think>(.*?)</think>\s*", re.S)


def _unquote(text: str) -> str:
    lines = []
    for line in html.unescape(text).strip("\n").split("\n"):
        if line.startswith("> "):
            line = line[2:]
        elif line.startswith(">"):
            line = line[1:]
        lines.append(line)
    return "\n".join(lines).strip()


def split_reasoning(content: str) -> tuple[str, str]:
    """(thinking, reply) of an Open WebUI reply."""
    thoughts: list[str] = []

    def take(match: re.Match[str]) -> str:
        thoughts.append(_unquote(match.group(1)))
        return ""

    reply = _REASONING.sub(take, content)
    think = _THINK.match(reply)
    if think:
        thoughts.append(think.group(1).strip())
        reply = reply[think.end() :]
    if thoughts:
        reply = reply.lstrip("\n")
    return "\n\n".join(t for t in thoughts if t), reply


def _owui_branch(history: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The messages from the root to ``currentId`` (else to the last reply of the last branch), and whether
    the tree holds other messages."""
    nodes = history.get("messages")
    if not isinstance(nodes, dict) or not nodes:
        return [], False
    chain, visited = tree_branch(nodes, history.get("currentId"), "parentId", "childrenIds", first_root=False)
    return chain, len(visited) < sum(1 for n in nodes.values() if isinstance(n, dict))


def _owui_images(files: Any, images: Images) -> tuple[list[str], int]:
    paths, lost = [], 0
    for entry in files if isinstance(files, list) else []:
        if not isinstance(entry, dict) or entry.get("type") != "image":
            continue
        url = entry.get("url")
        stored = None
        if isinstance(url, str) and url.startswith("data:image/") and "," in url:
            try:
                data = base64.b64decode(url.split(",", 1)[1], validate=False)
            except (binascii.Error, ValueError):
                data = b""
            stored = images.add(data, str(entry.get("name") or "image"))
        if stored is None:
            lost += 1  # stored on the Open WebUI server (a /api/v1/files/… link), not in the export
        else:
            paths.append(stored)
    return paths, lost


def parse_openwebui(item: dict[str, Any], _assets: Assets | None) -> tuple[ImportedConversation, bool, int]:
    """One Open WebUI chat: the branch on screen, with its models, times, reasoning and inline images."""
    chat = item["chat"] if isinstance(item.get("chat"), dict) else item
    history = chat.get("history") if isinstance(chat.get("history"), dict) else {}
    chain, other_branches = _owui_branch(history)
    if not chain and isinstance(chat.get("messages"), list):  # exports older than the history tree
        chain = [m for m in chat["messages"] if isinstance(m, dict)]
    images = Images()
    messages: list[Message] = []
    lost = 0
    for node in chain:
        role = node.get("role")
        if role not in ROLES:
            continue
        thinking, content = split_reasoning(text_of(node.get("content")))
        paths, missing = _owui_images(node.get("files"), images)
        lost += missing
        error = node.get("error")
        status = "complete"
        if error:
            status = "error"
            error = text_of(error.get("content")) if isinstance(error, dict) else str(error)
            error = error if isinstance(error, str) and error.strip() else "The reply failed in Open WebUI."
        elif role == "assistant" and node.get("done") is False:
            status = "interrupted"
        model = node.get("model") if role == "assistant" else None
        messages.append(
            Message(
                role=role,
                content=content,
                created=to_time(node.get("timestamp")) or datetime.now(UTC),
                model=str(model) if model else None,
                thinking=thinking,
                images=paths,
                status=status,
                error=error if status == "error" else None,
            )
        )
    params = chat.get("params") if isinstance(chat.get("params"), dict) else {}
    system = params.get("system") or chat.get("system") or ""
    models = chat.get("models")
    model = next((m for m in models if isinstance(m, str) and m), "") if isinstance(models, list) else ""
    created = to_time(item.get("created_at")) or to_time(chat.get("timestamp"))
    updated = to_time(item.get("updated_at"))
    conv = finish_conversation(
        item.get("title") or chat.get("title"),
        messages,
        created,
        updated,
        model=model,
        system_prompt=system if isinstance(system, str) else "",
        options=sampling_options(params),
    )
    return ImportedConversation(conv, images.files), other_branches, lost
